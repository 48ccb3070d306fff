"""Merged ticks (`sim run --merge-ticks`): fewer core steps, same detector view."""

from __future__ import annotations

import random

from controller.config.loading import load_file
from controller.core import Controller
from sim.loop_presence import merged_ticks
from tests.conftest import EXAMPLE_CONFIG


def test_merged_ticks_keep_presence_counts_and_timers() -> None:
    ix = load_file(EXAMPLE_CONFIG)
    every, merged = Controller(ix, "actuated"), Controller(ix, "actuated")
    rnd = random.Random(5)
    calls = 0
    for _ in range(600):  # ten minutes of 1 s steps of ten 100 ms ticks
        ticks, bits = [], bytearray(ix.n_detectors)
        for _ in range(10):
            bits = bytearray(bits)
            if rnd.random() < 0.3:
                bits[rnd.randrange(ix.n_detectors)] ^= 1
            ticks.append(bits)
        for t in ticks:
            every.step(100, t)
        steps = merged_ticks(ticks, 100)
        calls += len(steps)
        assert sum(e for e, _ in steps) == 1000
        for e, b in steps:
            merged.step(e, b)
        e, m = every.detectors, merged.detectors
        for name in ("presence", "count", "headway_ms", "occupancy_permille", "flow_count"):
            assert list(getattr(e, name)) == list(getattr(m, name)), name
        for i in range(ix.n_detectors):
            assert (e.on_ms(i), e.off_ms(i), e.since_on_ms(i)) == (m.on_ms(i), m.off_ms(i), m.since_on_ms(i))
    assert calls < 600 * 10 * 0.7  # with a change in 3 of 10 ticks, about 40 % fewer steps
