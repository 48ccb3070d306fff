"""``ampelwerk config check`` and ``config schedule`` on time-of-day programs, and ``replay``
taking the local time from a trace's ``# local_time:`` line."""

from __future__ import annotations

import json
from pathlib import Path

from ampelwerk.cli import main
from tests.conftest import ROOT

SCHEDULE_CONFIG = ROOT / "examples" / "four_leg_schedule.json"


def test_config_check_lists_every_schedule_problem(tmp_path: Path, capsys) -> None:
    raw = json.loads(SCHEDULE_CONFIG.read_text())
    raw["schedule"]["day_plans"]["sunday"].append({"at": "21:00", "plan": "night"})  # the same time twice
    raw["schedule"]["day_plans"]["saturday"][1]["plan"] = "brunch"
    del raw["schedule"]["week"]["fri"]
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps(raw))
    assert main(["config", "check", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert "3 problems" in out
    assert 'schedule day plan "sunday" #4: at="21:00" overlaps entry #3 at the same time' in out
    assert 'schedule day plan "saturday" #2: plan="brunch" is not a plan (known: day, early, night, offpeak, peak)' in out
    assert "schedule.week: fri has no day plan" in out
    assert main(["config", "check", str(SCHEDULE_CONFIG)]) == 0
    assert "schedule: 5 plans, 3 day plans, 4 exceptions" in capsys.readouterr().out


def test_config_schedule_runs_two_days_and_its_trace_replays_to_the_same_changes(tmp_path: Path, capsys) -> None:
    trace = tmp_path / "days.csv"
    # Monday then the holiday Tuesday (2026-12-08 runs the Saturday day plan)
    assert main(["config", "schedule", str(SCHEDULE_CONFIG), "--days", "2", "--trace-out", str(trace)]) == 0
    out = capsys.readouterr().out
    assert "9 changes, longest delay" in out and "conflict monitor: no violation" in out
    assert "Tue 2026-12-08 07:00:00" in out and "Tue 2026-12-08 05:30" not in out  # no early plan on the holiday
    assert trace.read_text().startswith("# local_time: 2026-12-07T00:00:00\nelapsed_ms,")
    taken = [line.split()[3:6] for line in out.splitlines() if line.startswith(("Mon ", "Tue "))]
    sig = tmp_path / "sig.csv"
    assert main(["replay", str(SCHEDULE_CONFIG), str(trace), "--out", str(sig)]) == 0
    events = [line.split(",") for line in (tmp_path / "sig.events.csv").read_text().splitlines()[1:]]
    changes = [(int(t), int(p)) for t, code, p, _ in events if code == "131"]
    assert len(changes) == len(taken) == 9
    assert [p for _, p in changes] == [1, 2, 3, 4, 3, 5, 1, 4, 1]
    assert changes[2][0] >= 7 * 3600000 and changes[2][0] <= 7 * 3600000 + 60000


def test_replay_start_option_and_a_bad_local_time_line(tmp_path: Path, capsys) -> None:
    trace = tmp_path / "t.csv"
    ids = json.loads(SCHEDULE_CONFIG.read_text())["detectors"]
    header = "elapsed_ms," + ",".join(d["id"] for d in ids)
    row = "1000," + ",".join("0" for _ in ids)
    trace.write_text("# local_time: 2026-12-07T23:59:30\n" + header + "\n" + "\n".join([row] * 60) + "\n")
    sig = tmp_path / "sig.csv"
    assert main(["replay", str(SCHEDULE_CONFIG), str(trace), "--out", str(sig)]) == 0
    codes = [line.split(",")[1:3] for line in (tmp_path / "sig.events.csv").read_text().splitlines()[1:]]
    assert codes.count(["131", "1"]) == 1  # night, from the start; midnight keeps it
    # --start overrides the line: Monday 06:59:30, the "early" plan, then "peak" at 07:00
    assert main(["replay", str(SCHEDULE_CONFIG), str(trace), "--out", str(sig), "--start", "2026-12-07T06:59:30"]) == 0
    codes = [line.split(",")[1:3] for line in (tmp_path / "sig.events.csv").read_text().splitlines()[1:]]
    assert [c for c in codes if c[0] == "131"] == [["131", "2"], ["131", "3"]]
    trace.write_text("# local_time: 2026-13-07T06:00\n" + header + "\n" + row + "\n")
    assert main(["replay", str(SCHEDULE_CONFIG), str(trace), "--out", str(sig)]) != 0
    assert "line 1: local_time '2026-13-07T06:00' is not a local date and time" in capsys.readouterr().err
