"""Controller.horizon_ms() is exact: stepping quiet runs of ticks in one step,
as far as the horizon allows, gives the same outputs and the same events, to
the millisecond, as stepping every tick (hypothesis, random configs and loop
streams). The SUMO runner relies on this to step the core less often."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.config import load_dict
from controller.core import Controller
from tests.core_config_strategy import configs

TICK_MS = 100


def presence_stream(n_detectors: int, seed: int, ticks: int) -> list[bytes]:
    """Loop presence per tick with realistic runs: vehicles cross loops now and then, some stay."""
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
            elif rnd.random() < (0.25 if pres[i] else busy):
                pres[i] ^= 1
        out.append(bytes(pres))
    return out


def run_merged(ctl: Controller, stream: list[bytes]) -> tuple[list[tuple[int, bytes]], int]:
    """Step quiet runs as far as the horizon allows; returns ([(tick index, outputs)], steps)."""
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
        shown.append((i - 1, bytes(ctl.outputs)))
    return shown, steps


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("actuated", "fixed")), seed=st.integers(0, 2**31))
def test_merged_steps_within_the_horizon_match_tick_by_tick(raw: dict, seed: int) -> None:
    ticks = 6000
    ref = Controller(load_dict(raw))
    stream = presence_stream(ref.ix.n_detectors, seed, ticks)
    ref_out = []
    for bits in stream:
        ref.step(TICK_MS, bits)
        ref_out.append(bytes(ref.outputs))
    merged = Controller(load_dict(raw))
    shown, steps = run_merged(merged, stream)
    assert merged.drain_events() == ref.drain_events()
    start = 0
    before = None
    for end, out in shown:
        # after each merged step the same outputs; on the ticks it stepped over, no change
        assert ref_out[end] == out, end
        assert all(ref_out[k] == before for k in range(start, end)), (start, end)
        start = end + 1
        before = out
    assert steps < ticks  # quiet runs were merged


def test_a_strategy_without_a_horizon_is_stepped_tick_by_tick() -> None:
    from tests.core_config_strategy import random_config

    ctl = Controller(load_dict(random_config(random.Random(3), "adaptive")))
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
