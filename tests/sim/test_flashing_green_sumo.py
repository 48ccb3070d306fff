"""Flashing green in SUMO: single4 under the custom profile with a 2 s flashing green on every
vehicle group. SUMO shows it as the link's G/g; sim/signal_check.py finds nothing, and horizon
stepping gives the run of every tick."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from controller.core import Controller
from controller.safety.signal_states import FLASHING_GREEN, YELLOW
from sim.runner import RunOptions, run
from sim.scenarios import resolve


@pytest.mark.parametrize("controller", ["ampelwerk-actuated", "ampelwerk-fixed"])
def test_flashing_green_runs_clean_in_sumo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, controller: str) -> None:
    # the module a load reads now (controller.config.loading.unload() makes a board-like test drop it)
    profiles = importlib.import_module("controller.config.profiles")
    custom = dict(profiles.PROFILES["custom"])
    custom["flashing_green_ms"] = (2000, 0, 4000)  # the default every imported vehicle group gets
    monkeypatch.setitem(profiles.PROFILES, "custom", custom)
    seen = {"flashing": 0, "to_yellow": 0, "steps": 0}
    real_step = Controller.step

    def watching_step(self, elapsed_ms, presence):
        before = bytes(self.outputs)
        out = real_step(self, elapsed_ms, presence)
        seen["steps"] += 1
        seen["flashing"] += sum(1 for s in out if s == FLASHING_GREEN)
        seen["to_yellow"] += sum(1 for a, b in zip(before, out) if a == FLASHING_GREEN and b == YELLOW)
        return out

    monkeypatch.setattr(Controller, "step", watching_step)
    opts = dict(seed=4, end=900.0, progress=False, profile="custom")
    summary = run(RunOptions(resolve("single4"), controller, tmp_path / "merged", **opts))
    assert summary["signal_check"]["violations"] == 0, summary["signal_check"]
    assert seen["to_yellow"] >= 20, seen  # dozens of greens in 900 s, each ended by a flashing green
    merged = seen["steps"]
    monkeypatch.setattr(Controller, "horizon_ms", lambda self: 0)
    seen["steps"] = 0
    run(RunOptions(resolve("single4"), controller, tmp_path / "every", **opts))
    assert seen["steps"] == 9000 and merged < 9000 * 0.8
    for name in ("signals.csv", "events.csv", "tripinfo.xml"):
        a = (tmp_path / "merged" / name).read_text()
        b = (tmp_path / "every" / name).read_text()
        if name == "tripinfo.xml":
            a, b = a[a.index("<tripinfos"):], b[b.index("<tripinfos"):]
        assert a == b, name
