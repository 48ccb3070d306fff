"""A time-of-day program in SUMO: the runner hands the cores the local time from the simulation
time (--start), and the plans change at the listed times, safely, on the generated junction."""

from __future__ import annotations

import json

import pytest

from sim.runner import RunOptions, SumoError, run
from sim.signal_check import check_signals
from tests.sim.test_run import build_junction, junction_config

pytestmark = [pytest.mark.sumo, pytest.mark.slow]

# 06:00 actuated, 06:02 flash, 06:04 fixed (its own cycle), 06:07 adaptive
SCHEDULE = {
    "plans": {
        "early": {"number": 11, "strategy": "actuated"},
        "dark": {"number": 12, "strategy": "flash"},
        "fixed": {"number": 13, "strategy": "fixed",
                  "fixed_time": {"cycle_ms": 50000, "offset_ms": 0, "splits_ms": {"S1": 30000, "S2": 20000}}},
        "busy": {"number": 14, "strategy": "adaptive"},
    },
    "day_plans": {"any": [{"at": "00:00", "plan": "dark"}, {"at": "06:00", "plan": "early"},
                          {"at": "06:02", "plan": "dark"}, {"at": "06:04", "plan": "fixed"},
                          {"at": "06:07", "plan": "busy"}, {"at": "22:00", "plan": "dark"}]},
    "week": {d: "any" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def test_plans_change_at_the_listed_simulation_times_safely(tmp_path):
    cfg, imported = build_junction(tmp_path / "j")
    sched = tmp_path / "schedule.json"
    sched.write_text(json.dumps({"schedule": SCHEDULE}))
    out = tmp_path / "run"
    s = run(RunOptions(cfg, "ampelwerk-actuated", out, progress=False, start="2026-12-07T06:00",
                       schedule_file=sched), imported=imported)
    assert s["monitor_flash"] == [] and s["collisions"] == 0 and s["arrived"] > 50
    raw = junction_config()
    raw["schedule"] = SCHEDULE
    assert check_signals(out / "signals.csv", {"A0": raw}, step_s=1.0) == []
    changes = [(float(t), int(p)) for t, tls, code, p, _ in
               (line.split(",") for line in (out / "events.csv").read_text().splitlines()[1:]) if code == "131"]
    assert [p for _, p in changes] == [11, 12, 13, 14]
    for (t, _), listed in zip(changes, (0, 120, 240, 420)):
        assert listed <= t <= listed + 60, changes
    # signals.csv has a row at each change: flash from the end of the safe ending after 06:02 until
    # 06:04 (the rest of the startup flash, 5 s), then the startup all red
    rows = [(float(t), state) for t, tls, state in
            (line.split(",") for line in (out / "signals.csv").read_text().splitlines()[1:])]
    flash = [i for i, (t, state) in enumerate(rows) if "o" in state and t > 60]
    assert len(flash) == 1, rows[:20]
    t_flash, after = rows[flash[0]][0], rows[flash[0] + 1]
    assert 120 < t_flash <= 180 and 240 <= after[0] <= 250 and set(after[1]) == {"r"}, (t_flash, after)


def test_a_bad_start_is_refused_before_sumo_runs(tmp_path):
    cfg, imported = build_junction(tmp_path / "j")
    with pytest.raises(SumoError, match=r"--start '2026-13-01T06:00' is not a local date and time"):
        run(RunOptions(cfg, "ampelwerk-actuated", tmp_path / "run", progress=False, start="2026-13-01T06:00"),
            imported=imported)
