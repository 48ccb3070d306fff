"""The runner steps quiet runs of core ticks in one step as far as the core's
horizon allows (sim.loop_presence.CoreStepper); a whole SUMO run must come out
exactly as with every tick stepped: same signals, events and trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.core import Controller
from sim.runner import RunOptions, run
from sim.scenarios import resolve


@pytest.mark.parametrize("profile", [None, "de-rilsa"])  # de-rilsa: red-amber and geometric intergreens
@pytest.mark.parametrize("controller", ["ampelwerk-adaptive", "ampelwerk-actuated", "ampelwerk-fixed"])
def test_horizon_stepping_gives_the_run_of_every_tick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      controller: str, profile: str | None) -> None:
    opts = dict(seed=4, end=900.0, progress=False, profile=profile)
    calls = {"n": 0}
    real_step = Controller.step

    def counting_step(self, elapsed_ms, presence):
        calls["n"] += 1
        return real_step(self, elapsed_ms, presence)

    monkeypatch.setattr(Controller, "step", counting_step)
    run(RunOptions(resolve("single4"), controller, tmp_path / "merged", **opts))
    merged_steps = calls["n"]
    calls["n"] = 0
    monkeypatch.setattr(Controller, "horizon_ms", lambda self: 0)
    run(RunOptions(resolve("single4"), controller, tmp_path / "every", **opts))
    assert calls["n"] == 9000  # 900 s of 100 ms ticks
    assert merged_steps < calls["n"] * 0.8  # the horizon did merge
    for name in ("signals.csv", "events.csv", "tripinfo.xml"):
        a = (tmp_path / "merged" / name).read_text()
        b = (tmp_path / "every" / name).read_text()
        if name == "tripinfo.xml":  # drop the header comment (it names the output paths)
            a, b = a[a.index("<tripinfos"):], b[b.index("<tripinfos"):]
        assert a == b, name
