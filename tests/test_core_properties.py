"""Safety invariants of the core over random valid configs and random detector
streams (hypothesis). The checker here is a third implementation, independent
of both the safety kernel and the conflict monitor."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.config.loading import load_dict
from controller.core import Controller
from controller.safety.signal_states import GREEN
from tests.core_config_strategy import configs, random_plan
from tests.safety_invariants import InvariantChecker, drive_with_faults


def drive(raw: dict, seed: int, ticks: int, tick_ms: int = 100):
    """Run the core on a random detector stream; returns (checker, controller, trace)."""
    ctl = Controller(load_dict(raw))
    chk = InvariantChecker(raw, bytes(ctl.outputs))  # what the heads show from power-up
    rnd = random.Random(seed)
    pres = bytearray(ctl.ix.n_detectors)
    busy = rnd.uniform(0.005, 0.1)
    trace = []
    for _ in range(ticks):
        for i in range(len(pres)):
            if rnd.random() < (0.3 if pres[i] else busy):
                pres[i] ^= 1
        if rnd.random() < 0.0005:
            pres[rnd.randrange(len(pres))] = 1  # sometimes a loop sticks on for a while
        elapsed = rnd.choice((tick_ms, tick_ms, tick_ms, tick_ms - 37, tick_ms + 53, 0, 1000))
        out = ctl.step(elapsed, pres)
        chk.step(elapsed, out)
        trace.append(bytes(out))
    return chk, ctl, trace


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(), seed=st.integers(0, 2**31))
def test_safety_invariants_hold_on_random_configs(raw: dict, seed: int) -> None:
    chk, ctl, _ = drive(raw, seed, ticks=6000)
    assert chk.violations == []
    assert not ctl.flashing, "monitor tripped on kernel output: fault %d" % ctl.monitor.fault
    assert chk.green_starts > 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(), seed=st.integers(0, 2**31))
def test_long_runs_stay_safe_and_serve_every_stage(raw: dict, seed: int) -> None:
    # two hours at 100 ms ticks; with random demand every vehicle group gets green
    chk, ctl, trace = drive(raw, seed, ticks=72000)
    assert chk.violations == [] and not ctl.flashing
    served = {g for out in trace for g, s in enumerate(out) if s == GREEN}
    vehicles = {i for i in range(ctl.ix.n_groups) if not ctl.ix.is_pedestrian[i]}
    assert vehicles <= served


@settings(max_examples=15, deadline=None)
@given(raw=configs(), seed=st.integers(0, 2**31))
def test_same_inputs_give_the_same_trace(raw: dict, seed: int) -> None:
    a = drive(raw, seed, ticks=3000)
    b = drive(raw, seed, ticks=3000)
    assert a[2] == b[2]
    assert a[1].drain_events() == b[1].drain_events()


def drive_coordinated(raw: dict, seed: int, ticks: int, tick_ms: int = 100):
    """Like drive(), with a coordination agent offered random plans at random times
    (valid ones, refreshes, out-of-bounds, not yet valid, replays) and sometimes a
    cleared plan; plans run out by their validity on the controller's clock."""
    from controller.coordination.agent import CoordinationAgent
    from controller.coordination.messages import MODE_COORDINATED, MODE_TRANSITION

    key = b"k" * 32
    ctl = Controller(load_dict(raw))
    agent = CoordinationAgent(ctl, key)
    chk = InvariantChecker(raw, bytes(ctl.outputs))  # what the heads show from power-up
    rnd = random.Random(seed)
    pres = bytearray(ctl.ix.n_detectors)
    busy = rnd.uniform(0.005, 0.1)
    wall = 1795305600000 + rnd.randint(0, 10**9)
    seq = 0
    last = None
    modes = set()
    for _ in range(ticks):
        for i in range(len(pres)):
            if rnd.random() < (0.3 if pres[i] else busy):
                pres[i] ^= 1
        elapsed = rnd.choice((tick_ms, tick_ms, tick_ms, tick_ms - 37, tick_ms + 53, 0, 1000))
        out = ctl.step(elapsed, pres)
        agent.advance(elapsed)
        wall += elapsed
        chk.step(elapsed, out)
        modes.add(agent.mode)
        u = rnd.random()
        if u < 0.002:
            seq += 1
            last = random_plan(rnd, ctl.ix, seq, wall, key)
            agent.offer_plan(last, wall)
        elif u < 0.0025 and last is not None:
            agent.offer_plan(last, wall)  # a replay
        elif u < 0.0027:
            ctl.strategy.clear_plan()
    return chk, ctl, modes & {MODE_COORDINATED, MODE_TRANSITION}


@pytest.mark.slow  # about 20 s
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("coordinated",)), seed=st.integers(0, 2**31))
def test_safety_invariants_hold_under_random_plans(raw: dict, seed: int) -> None:
    chk, ctl, coordinated = drive_coordinated(raw, seed, ticks=12000)
    assert chk.violations == []
    assert not ctl.flashing, "monitor tripped on kernel output: fault %d" % ctl.monitor.fault
    assert chk.green_starts > 0
    assert coordinated, "no plan was ever in force"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("actuated", "fixed", "adaptive")), seed=st.integers(0, 2**31))
def test_a_week_of_faulty_loops_broken_clocks_and_resets_never_raises(raw: dict, seed: int) -> None:
    # seven days, time-compressed: ticks up to the clamp (and beyond), loops stuck on, dead and
    # chattering, resets at random moments; step() never raises and every rule holds
    chk, ctl, ticks = drive_with_faults(raw, seed, days=7)
    assert chk.violations == [], chk.violations[:3]
    assert not ctl.flashing, "monitor tripped on kernel output: fault %d" % ctl.monitor.fault
    assert ticks > 10000 and chk.green_starts > 0
