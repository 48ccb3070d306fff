"""Loop presence at tick resolution from SUMO's per-step vehicle data (no SUMO needed)."""

from __future__ import annotations

import pytest

from sim.loop_presence import LoopPresence, occupied_ms, ticks_per_step


def bits(lp: LoopPresence, loop: int) -> str:
    return "".join(str(t[loop]) for t in lp.ticks)


def test_vehicle_inside_one_step_marks_the_ticks_it_overlaps():
    lp = LoopPresence(2, 1000, 100)
    # step [14 s, 15 s): on the loop from 14.25 s to 14.61 s -> ticks 2..6 (200-700 ms)
    lp.mark(0, [("v", 5.0, 14.25, 14.61, "car")], 14000)
    assert bits(lp, 0) == "0011111000"
    assert bits(lp, 1) == "0000000000"


def test_vehicle_spanning_steps_is_present_from_entry_to_leave():
    lp = LoopPresence(1, 1000, 100)
    lp.mark(0, [("v", 5.0, 25.72, -1.0, "car")], 25000)  # entered, still on at the end of the step
    assert bits(lp, 0) == "0000000111"
    lp.clear()
    lp.mark(0, [("v", 5.0, 25.72, -1.0, "car")], 26000)  # whole step on the loop, entry time kept
    assert bits(lp, 0) == "1111111111"
    lp.clear()
    lp.mark(0, [("v", 5.0, 25.72, 27.06, "car")], 27000)  # leaves 60 ms into the step
    assert bits(lp, 0) == "1000000000"


def test_gap_between_two_vehicles_in_one_step_is_seen():
    lp = LoopPresence(1, 1000, 100)
    lp.mark(0, [("a", 5.0, 9.8, 10.15, "car"), ("b", 5.0, 10.62, -1.0, "car")], 10000)
    assert bits(lp, 0) == "1100001111"


def test_very_short_pulse_still_marks_its_tick():
    lp = LoopPresence(1, 500, 100)
    lp.mark(0, [("v", 5.0, 3.23, 3.23, "car")], 3000)
    assert bits(lp, 0) == "00100"  # 230 ms is in the third 100 ms tick


def test_vehicle_that_left_exactly_at_step_begin_is_not_present():
    assert occupied_ms(4.2, 5.0, 5000, 1000) is None
    assert occupied_ms(4.2, 5.05, 5000, 1000) == (0, 50)


def test_tick_must_divide_the_step():
    assert ticks_per_step(1000, 100) == 10
    assert ticks_per_step(500, 500) == 1
    with pytest.raises(ValueError, match="whole multiple"):
        ticks_per_step(1000, 300)
    with pytest.raises(ValueError, match="whole multiple"):
        ticks_per_step(100, 200)
