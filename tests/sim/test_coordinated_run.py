"""`ampelwerk sim run --coordinated`: the corridor coordinator in the loop of a SUMO run.

In-process by default; over a private mosquitto with --broker local, which must
give the same signals to the letter (the bus only carries the messages). The
green wave must show in the traffic: fewer stops along the arterial than free
adaptive operation on the same seed, with safe signals throughout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ampelwerk.cli import main
from sim.signal_check import check_signals

pytestmark = [pytest.mark.sumo, pytest.mark.slow]

END_S = "900"


def _run(tmp_path: Path, name: str, *extra: str) -> dict:
    out = tmp_path / name
    assert main(["sim", "run", "arterial5", "--out", str(out), "--end", END_S, "--sequence", "free", *extra]) == 0
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def coordinated(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("coord")
    return tmp, _run(tmp, "in-process", "--coordinated")


def test_plans_reach_every_corridor_controller_and_signals_stay_safe(coordinated) -> None:
    tmp, s = coordinated
    c = s["coordination"]
    assert s["controller"] == "ampelwerk-coordinated" and c["transport"] == "in-process"
    assert c["corridors"] == ["arterial"] and [r["controller"] for r in c["controllers"]] == ["J1", "J2", "J3", "J4",
                                                                                              "J5"]
    # 15 min: a report per controller and minute, a plan at the start and at least one from counts
    assert c["counters"]["reports"] == 5 * 15 and c["counters"]["rejected"] == 0
    assert c["counters"]["accepted"] == c["counters"]["plans_sent"] >= 10
    for row in c["controllers"]:
        assert row["lost_reports"] == 0 and row["plans_refused_by_controller"] == 0
        in_plan = row["mode_s"].get("coordinated", 0) + row["mode_s"].get("transition", 0)
        assert in_plan >= 0.95 * float(END_S) - 10, row  # all but startup
    assert s["collisions"] == 0 and s["monitor_flash"] == []
    assert check_signals(tmp / "in-process" / "signals.csv", s["configs"], step_s=1.0) == []
    assert (tmp / "in-process" / "corridor.json").is_file()  # derived from the net


def test_the_green_wave_cuts_stops_against_free_adaptive(coordinated, tmp_path) -> None:
    tmp, s = coordinated
    free = _run(tmp_path, "adaptive", "--controller", "ampelwerk-adaptive", "--corridor",
                str(tmp / "in-process" / "corridor.json"))
    for d in ("forward", "backward"):
        a, b = s["arterial"][d]["inner"], free["arterial"][d]["inner"]
        assert a["vehicles"] > 30 and b["vehicles"] > 30
        assert a["stops_per_vehicle"] < 0.8 * b["stops_per_vehicle"], (d, a, b)


def test_over_a_real_broker_the_run_is_the_same(coordinated, tmp_path) -> None:
    tmp, s = coordinated
    m = _run(tmp_path, "mqtt", "--coordinated", "--broker", "local")
    assert m["coordination"]["transport"] == "mosquitto (local)"
    assert (tmp_path / "mqtt" / "signals.csv").read_text() == (tmp / "in-process" / "signals.csv").read_text()
    for k in ("reports", "plans_sent", "accepted", "rejected"):
        assert m["coordination"]["counters"][k] == s["coordination"]["counters"][k], k
    assert m["delay_s"] == s["delay_s"]


def test_bad_coordination_options_are_refused(tmp_path, capsys) -> None:
    assert main(["sim", "run", "arterial5", "--controller", "fixed", "--broker", "local", "--out",
                 str(tmp_path / "x")]) == 2
    assert "--broker goes with --coordinated" in capsys.readouterr().err
    assert main(["sim", "run", "arterial5", "--coordinated", "--controller", "max-pressure", "--out",
                 str(tmp_path / "y")]) == 2
    assert "not max-pressure" in capsys.readouterr().err
