"""Red-amber under the independent checkers: tests/safety_invariants.py finds each kind of
red-amber violation, random configs with red-amber on every vehicle group keep every safety
rule (hypothesis), and sim/signal_check.py reads SUMO's 'u' as a stop display."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.safety.signal_states import GREEN, RED, RED_AMBER, YELLOW
from sim.signal_check import check_signals
from tests.controller.core_support import two_group_raw
from tests.core_config_strategy import random_config
from tests.safety_invariants import InvariantChecker, drive_with_faults
from tests.test_core_properties import drive


def _checker(a_ms: int = 2000) -> InvariantChecker:
    raw = two_group_raw(profile="custom")
    raw["signal_groups"][0]["red_amber_ms"] = a_ms
    chk = InvariantChecker(raw, bytes([RED, RED]))
    chk.step(10000, bytes([RED, RED]))
    return chk


def test_the_checker_passes_a_full_red_amber_and_finds_each_violation() -> None:
    chk = _checker()
    chk.step(100, bytes([RED_AMBER, RED]))
    chk.step(2000, bytes([GREEN, RED]))
    assert chk.violations == []
    chk = _checker()
    chk.step(100, bytes([RED_AMBER, RED]))
    chk.step(1900, bytes([GREEN, RED]))
    assert any("red-amber 1900 < 2000" in v for v in chk.violations), chk.violations
    chk = _checker()
    chk.step(100, bytes([GREEN, RED]))
    assert any("without red-amber" in v for v in chk.violations), chk.violations
    chk = _checker()
    chk.step(100, bytes([RED_AMBER, RED]))
    chk.step(3000, bytes([RED, RED]))
    assert any("red-amber->0" in v for v in chk.violations), chk.violations
    chk = _checker()
    chk.step(100, bytes([RED, RED_AMBER]))  # B has no red-amber configured
    assert any("does not show" in v for v in chk.violations), chk.violations
    chk = _checker()
    chk.step(100, bytes([RED_AMBER, RED]))
    chk.step(2000, bytes([GREEN, RED]))
    chk.step(6000, bytes([YELLOW, RED]))
    chk.step(3000, bytes([YELLOW, RED_AMBER]))  # red-amber beside a conflicting yellow
    assert any("both out of red" in v for v in chk.violations), chk.violations


def _with_red_amber(seed: int, strategy: str) -> dict:
    rnd = random.Random(seed)
    raw = random_config(rnd, strategy)
    raw["profile"] = "custom"
    for g in raw["signal_groups"]:
        if g.get("kind") != "pedestrian":
            g["red_amber_ms"] = rnd.choice([1000, 2000, 3000, rnd.randint(1, 3000)])
    return raw


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), strategy=st.sampled_from(("actuated", "adaptive")))
def test_red_amber_on_every_vehicle_group_keeps_every_safety_rule(seed: int, strategy: str) -> None:
    raw = _with_red_amber(seed, strategy)
    chk, ctl, trace = drive(raw, seed, ticks=6000)
    assert chk.violations == [] and not ctl.flashing, (chk.violations[:3], ctl.monitor.fault)
    assert any(RED_AMBER in out for out in trace)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31))
def test_red_amber_with_faulty_loops_broken_clocks_and_resets(seed: int) -> None:
    chk, ctl, ticks = drive_with_faults(_with_red_amber(seed, "actuated"), seed, days=0.05)
    assert chk.violations == [], chk.violations[:3]


CONFIG = {
    "id": "J", "signal_groups": [{"id": "K1", "yellow_ms": 3000}, {"id": "K2", "yellow_ms": 3000}],
    "conflicts": [["K1", "K2"]], "intergreen_ms": {"K1": {"K2": 5000}, "K2": {"K1": 5000}},
    "source": {"sumo": {"link_count": 2, "group_links": {"K1": [0], "K2": [1]}, "green_chars": "GG"}},
}
GOOD = """time_s,tls_id,state
0.000,J,rr
4.000,J,ur
5.000,J,Gr
30.000,J,yr
33.000,J,rr
35.000,J,ru
36.000,J,rG
"""


def test_signal_check_reads_red_amber_as_a_stop_display_before_green(tmp_path) -> None:
    p = tmp_path / "signals.csv"
    p.write_text(GOOD)
    assert check_signals(p, {"J": CONFIG}, 1.0) == []
    p.write_text(GOOD.replace("5.000,J,Gr", "5.000,J,rr"))
    assert any("from red-amber to red" in x for x in check_signals(p, {"J": CONFIG}, 1.0))
    p.write_text(GOOD.replace("35.000,J,ru", "31.000,J,yu"))
    assert any("red-amber beside a conflicting green or yellow" in x for x in check_signals(p, {"J": CONFIG}, 1.0))
    p.write_text(GOOD.replace("33.000,J,rr", "33.000,J,ur"))
    assert any("red-amber after yellow" in x for x in check_signals(p, {"J": CONFIG}, 1.0))


def test_a_red_clearance_that_ends_during_red_amber_bounds_the_horizon() -> None:
    # A leaves for S2 (C, which it does not conflict with) and comes back after its 1 s red revert,
    # while its 3 s red clearance is still open: the end-of-red-clearance event falls inside the
    # 3 s red-amber, and stepping within the horizon must give the same events as tick by tick
    from controller.config.loading import load_dict
    from controller.core import Controller
    from controller.events import codes as ev
    from tests.test_core_horizon import assert_merged_matches_tick_by_tick

    raw = {
        "id": "ra", "strategy": "fixed", "profile": "custom", "startup_flash_ms": 0,
        "signal_groups": [
            {"id": "A", "min_green_ms": 1000, "yellow_ms": 3000, "red_clearance_ms": 3000, "red_revert_ms": 1000,
             "red_amber_ms": 3000, "recall": "min"},
            {"id": "C", "min_green_ms": 1000, "yellow_ms": 3000, "red_clearance_ms": 0, "recall": "min"},
        ],
        "stages": [{"id": "S1", "groups": ["A"]}, {"id": "S2", "groups": ["C"]}],
        "detectors": [{"id": "d%s" % g, "group": g} for g in "AC"],
        "fixed_time": {"cycle_ms": 20000, "offset_ms": 0, "splits_ms": {"S1": 15000, "S2": 5000}},
    }
    ctl = Controller(load_dict(raw))
    pres = bytearray(2)
    seen = False
    last_state = None
    for _ in range(3000):
        ctl.step(100, pres)
        for _, code, param in ctl.drain_events():
            if code == ev.PHASE_END_RED_CLEARANCE and param == 1 and ctl.outputs[0] == RED_AMBER:
                seen = True
        last_state = ctl.outputs[0]
    assert last_state is not None and seen, "the case did not arise: A's red clearance never ended in red-amber"
    assert_merged_matches_tick_by_tick(raw, seed=1, ticks=3000)


def test_the_checker_counts_red_amber_inside_the_intergreen() -> None:
    # A green to 10.0 s (yellow 3 s, red clearance 1 s); intergreen A->B 5 s; B red-amber 1 s
    raw = two_group_raw(profile="custom")
    raw["signal_groups"][1]["red_amber_ms"] = 1000
    for early, ok in ((0, True), (100, False)):
        chk = InvariantChecker(raw, bytes([RED, RED]))
        chk.step(10000, bytes([GREEN, RED]))
        chk.step(6000, bytes([YELLOW, RED]))
        chk.step(3000, bytes([RED, RED]))
        chk.step(1000 - early, bytes([RED, RED_AMBER]))  # 4.0 s after A's green: 5 s - 1 s
        chk.step(1000, bytes([RED, GREEN]))
        assert (chk.violations == []) == ok, chk.violations
        if not ok:
            assert any("red-amber 3900 ms after A's green (intergreen 5000)" in v for v in chk.violations)


def _flashing_checker() -> InvariantChecker:
    raw = two_group_raw(profile="custom")
    raw["signal_groups"][0]["flashing_green_ms"] = 2000
    chk = InvariantChecker(raw, bytes([RED, RED]))
    chk.step(10000, bytes([GREEN, RED]))
    return chk


def test_the_checker_passes_a_full_flashing_green_and_finds_each_violation() -> None:
    from controller.safety.signal_states import FLASHING_GREEN as FG

    # (ms, A, B) shown after A's 10 s green; the violation expected ("" for none)
    cases = [
        ([(5000, FG, RED), (2000, YELLOW, RED), (3000, RED, RED), (2000, RED, GREEN)], ""),
        ([(5000, FG, RED), (1900, YELLOW, RED)], "flashing green 1900 < 2000"),
        ([(5000, YELLOW, RED)], "green->1 (expected 7)"),
        ([(5000, FG, RED), (2000, RED, RED)], "flashing green->0"),
        ([(4000, FG, RED)], "green 4000 < min 5000"),
        # 5000 ms after the flashing green began, only 3000 ms after it ended
        ([(5000, FG, RED), (2000, YELLOW, RED), (3000, RED, RED), (0, RED, GREEN)],
         "green 3000 ms after A's green (intergreen 5000)"),
        ([(5000, FG, RED), (100, FG, GREEN)], "both out of red"),
    ]
    for steps, expected in cases:
        chk = _flashing_checker()
        for ms, a, b in steps:
            chk.step(ms, bytes([a, b]))
        if expected:
            assert any(expected in v for v in chk.violations), (expected, chk.violations)
        else:
            assert chk.violations == [], chk.violations


def test_the_checker_sees_a_yellow_trap_beside_a_flashing_green() -> None:
    from controller.safety.signal_states import FLASHING_GREEN

    raw = two_group_raw(profile="custom")
    raw["conflicts"] = []
    raw["intergreen_ms"] = {}
    raw["stages"] = [{"id": "S1", "groups": ["A", "B"]}, {"id": "S2", "groups": ["B"]}]
    raw["signal_groups"][0]["yields_to"] = ["B"]
    chk = InvariantChecker(raw, bytes([RED, RED]))
    chk.step(10000, bytes([GREEN, GREEN]))
    chk.step(10000, bytes([YELLOW, FLASHING_GREEN]))  # A ends while B, which it yields to, still lets traffic go
    assert any("yellow trap" in v for v in chk.violations), chk.violations
