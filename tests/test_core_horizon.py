"""Controller.horizon_ms() is exact: stepping quiet runs of ticks in one step,
as far as the horizon allows, gives the same outputs and the same events, to
the millisecond, as stepping every tick (hypothesis, random configs and loop
streams). The SUMO runner relies on this to step the core less often. These
tests are the contract between the rules (safety/kernel.py, the detectors,
the strategies) and their prediction (controller/horizon.py)."""

from __future__ import annotations

import random
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.config.loading import load_dict
from controller.core import Controller
from tests.core_config_strategy import configs

TICK_MS = 100


def presence_stream(n_detectors: int, seed: int, ticks: int, leave: float = 0.25) -> list[bytes]:
    """Loop presence per tick with realistic runs: vehicles cross loops now and then, some stay
    (a vehicle on a loop leaves it with probability ``leave`` per tick)."""
    rnd = random.Random(seed)
    pres = bytearray(n_detectors)
    busy = rnd.choice((0.0003, 0.001, 0.005, 0.03))  # from quiet nights (groups rest in green) to busy hours
    # some loops fail: dead (never on) or stuck on, so diagnostics put groups on recall mid-run
    failed = {i: rnd.choice((0, 1)) for i in range(n_detectors) if rnd.random() < 0.2}
    out = []
    for _ in range(ticks):
        for i in range(n_detectors):
            if i in failed:
                pres[i] = failed[i]
            elif rnd.random() < (leave if pres[i] else busy):
                pres[i] ^= 1
        out.append(bytes(pres))
    return out


def run_merged(ctl: Controller, stream: list[bytes], snapshot: Callable | None = None
               ) -> tuple[list[tuple[int, bytes, Any]], int]:
    """Step quiet runs as far as the horizon allows; returns ([(tick index, outputs, snapshot)], steps)."""
    shown = []
    steps = 0
    i = 0
    while i < len(stream):
        n = 1
        if i and stream[i] == stream[i - 1]:
            run = 1
            while i + run < len(stream) and stream[i + run] == stream[i]:
                run += 1
            n = max(1, min(run, ctl.horizon_ms() // TICK_MS))
        ctl.step(n * TICK_MS, stream[i])
        steps += 1
        i += n
        shown.append((i - 1, bytes(ctl.outputs), snapshot(ctl) if snapshot else None))
    return shown, steps


def assert_merged_matches_tick_by_tick(raw: dict, seed: int, ticks: int = 6000, leave: float = 0.25,
                                       snapshot: Callable | None = None) -> None:
    """Outputs and events stepped within the horizon equal those stepped every tick; with
    ``snapshot`` (a function of the controller), so does what it returns after every step. On
    the ticks stepped over the outputs do not change; the snapshot may (an estimate nothing
    reads before the horizon ends, such as a red group's while a min green runs, grows with time
    alone), but the step comes to the same state as the ticks it stands for."""
    ref = Controller(load_dict(raw))
    stream = presence_stream(ref.ix.n_detectors, seed, ticks, leave)
    ref_out = []
    ref_snap = []
    for bits in stream:
        ref.step(TICK_MS, bits)
        ref_out.append(bytes(ref.outputs))
        ref_snap.append(snapshot(ref) if snapshot else None)
    merged = Controller(load_dict(raw))
    shown, steps = run_merged(merged, stream, snapshot)
    assert merged.drain_events() == ref.drain_events()
    start = 0
    before = None
    for end, out, snap in shown:
        # after each merged step the same outputs (and state); on the ticks it stepped over, no change
        assert ref_out[end] == out, end
        assert ref_snap[end] == snap, end
        assert all(ref_out[k] == before for k in range(start, end)), (start, end)
        start = end + 1
        before = out
    assert steps < ticks  # quiet runs were merged


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("actuated", "fixed")), seed=st.integers(0, 2**31))
def test_merged_steps_within_the_horizon_match_tick_by_tick(raw: dict, seed: int) -> None:
    assert_merged_matches_tick_by_tick(raw, seed)


def adaptive_block(rnd: random.Random) -> dict:
    """Adaptive parameters from their whole range's useful part, so that every threshold falls due in a run."""
    return {"min_gap_ms": rnd.choice([0, 500, 1000, 2500]), "gap_reduction_ms_per_veh": rnd.choice([0, 0, 250, 1500]),
            "age_weight_ms": rnd.choice([1000, 3300, 20000]), "max_wait_ms": rnd.choice([10000, 25000, 120000]),
            "spill_ms": rnd.choice([1000, 3000, 7700]), "saturation_headway_ms": rnd.choice([1000, 2000, 3700]),
            "permissive_wait_ms": rnd.choice([1000, 2300, 5000]), "exit_blocked_ms": rnd.choice([1000, 2700, 4000])}


def adaptive_snapshot(ctl: Controller) -> tuple:
    """What the adaptive strategy decides on besides the loops and the kernel's timers: queue
    estimates and counts, stage values, the stage it would move to, its max timer, the group that
    waited too long, the queues permissive greens hold."""
    a = ctl.strategy
    q = a.queues
    if q is None:
        return ()
    return (bytes(q.estimate), bytes(q.between), bytes(a.value), a.next_stage, a.max_timer_ms, a.urgent_group,
            bytes(a.held_queue) if a.held_queue is not None else None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("adaptive",)), seed=st.integers(0, 2**31))
def test_adaptive_merged_steps_within_the_horizon_match_tick_by_tick(raw: dict, seed: int) -> None:
    # the queue estimates (spillback, assumed departures, a queue seen cleared,
    # the no-advance fallback, vehicles in transit) and the stage values (call
    # ages, wait bounds, permissive greens waiting) change with time alone;
    # vehicles that stay long on their loops make queues spill back
    rnd = random.Random(seed)
    if rnd.random() < 0.8:
        raw["adaptive"] = adaptive_block(rnd)
    for det in raw["detectors"]:
        if det["kind"] == "advance":
            det["distance_m"] = rnd.choice([15, 40, 75])
            det["extend"] = rnd.random() < 0.5  # else the gap is taken at the stop bar while a queue is counted
    assert_merged_matches_tick_by_tick(raw, seed, leave=rnd.choice((0.25, 0.05, 0.01)), snapshot=adaptive_snapshot)


def test_a_strategy_without_a_horizon_is_stepped_tick_by_tick() -> None:
    # coordinated (adaptive when no plan is in force) has none: plans and
    # reports pass between ticks, which a runner holding time back would skew
    from tests.core_config_strategy import random_config

    from controller.horizon import strategy_horizon

    ctl = Controller(load_dict(random_config(random.Random(3), "coordinated")))
    assert strategy_horizon(ctl.strategy) is None
    for _ in range(200):
        ctl.step(TICK_MS, bytearray(ctl.ix.n_detectors))
        assert ctl.horizon_ms() == 0


def test_a_group_on_max_recall_with_no_passage_time_is_done_at_once() -> None:
    # passage_ms 0: the gap (0 on max recall) is never short of it, so the
    # group is done as soon as its min green is held; the horizon must not
    # wait for its max green (found by the property test above)
    from tests.controller.core_support import two_group_raw

    raw = two_group_raw()
    raw["signal_groups"][0].update(recall="max", passage_ms=0)
    stream = [bytes([0, 1 if t % 600 < 20 else 0]) for t in range(3000)]  # a vehicle for B every minute
    ref = Controller(load_dict(raw))
    for bits in stream:
        ref.step(TICK_MS, bits)
    merged = Controller(load_dict(raw))
    run_merged(merged, stream)
    assert merged.drain_events() == ref.drain_events()


def test_a_vehicle_in_transit_that_reaches_the_queue_ends_the_horizon() -> None:
    # A green with its queue cleared, B waiting: a vehicle over A's advance
    # loop (15 m, 1.5 s from the stop line) is in transit, so A is held by the
    # gap at the advance loop; once it has reached the queue (before the loops
    # show the queue cleared again) A's gap is taken at its stop bar, and A
    # gaps out then. The horizon must end when the vehicle reaches the queue.
    from tests.controller.core_support import two_group_raw

    raw = two_group_raw(strategy="adaptive")
    raw["signal_groups"][0].update(max_green_ms=90000, passage_ms=3000)
    raw["detectors"] = [
        {"id": "dA", "group": "A", "kind": "stop_bar"},
        {"id": "dAa", "group": "A", "kind": "advance", "distance_m": 15, "extend": False},
        {"id": "dB", "group": "B", "kind": "stop_bar"},
    ]
    # B called at 10 s and stays; a vehicle over A's advance loop every 2 s from 12 s
    stream = [bytes([0, 1 if t >= 120 and (t - 120) % 20 < 3 else 0, 1 if t >= 100 else 0]) for t in range(600)]
    ref = Controller(load_dict(raw))
    ref_out = []
    for bits in stream:
        ref.step(TICK_MS, bits)
        ref_out.append(bytes(ref.outputs))
    merged = Controller(load_dict(raw))
    shown, _ = run_merged(merged, stream)
    events = ref.drain_events()
    assert merged.drain_events() == events
    assert any(code == 4 and param == 1 for _, code, param in events)  # A gapped out
    assert all(ref_out[end] == out for end, out, _ in shown)


def test_demand_that_appears_at_the_end_of_a_rest_starts_the_max_timer_there() -> None:
    # Found on ingolstadt21 (gneJ143): S1 rests in green (nobody else
    # waits) while the permissive left L stands on its stop bar; once it has
    # stood permissive_wait_ms its queue counts for its protected stage S2,
    # with no loop changing, and from then on the max timer runs. A step
    # ending exactly there must not count the whole rest into the max timer:
    # O, held green by a vehicle on its loops and then a stream, must max
    # out when tick by tick does.
    from tests.controller.test_adaptive import _left_turn_raw

    raw = _left_turn_raw(True)
    raw["adaptive"] = {"permissive_wait_ms": 5000}

    def bits(t: int) -> bytes:
        ms = t * TICK_MS
        o = 1 if 9000 <= ms < 17000 or (ms >= 17000 and (ms - 17000) % 1500 < 700) else 0  # O: on, then a stream
        return bytes([o, o, 1 if ms >= 10000 else 0, 0, 0, 0])  # L: a car standing from 10 s

    stream = [bits(t) for t in range(1200)]
    ref = Controller(load_dict(raw))
    for b in stream:
        ref.step(TICK_MS, b)
    merged = Controller(load_dict(raw))
    run_merged(merged, stream)
    events = ref.drain_events()
    assert merged.drain_events() == events
    assert any(code == 5 and param == 1 for _, code, param in events)  # O maxed out
