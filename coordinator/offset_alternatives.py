"""Offset methods side by side (docs/experiments/offsets-arterial5.md): bandwidths per method. Host only.

Methods: simultaneous (all offsets 0), alternating (0, C/2, 0, ...), one-way
ideal forward and backward, the bandwidth search of offsets.py, and an
exhaustive search over a coarse grid as a check on the search. Units: ms.
"""

from __future__ import annotations

import itertools
import time

from coordinator.corridors import Corridor
from coordinator.cycle_splits import Timing
from coordinator.offsets import (
    alternating_offsets,
    bandwidths,
    maximise_bandwidth,
    one_way_offsets,
    simultaneous_offsets,
    through_green_ms,
)


def compare(corridor: Corridor, timings: list[Timing], exhaustive_step_ms: int = 5000) -> list[dict]:
    """One row per method: offsets, forward and backward bandwidth (ms), their sum, seconds taken."""
    cycle = timings[0].cycle_ms
    gf = through_green_ms(corridor, timings, "forward")
    gb = through_green_ms(corridor, timings, "backward")
    rows = []

    def row(name: str, offsets: list[int], seconds: float) -> None:
        b = bandwidths(corridor, offsets, cycle, gf, gb)
        rows.append({"method": name, "offsets_ms": offsets, "forward_ms": b.forward_ms,
                     "backward_ms": b.backward_ms, "total_ms": b.forward_ms + b.backward_ms, "seconds": seconds})

    row("simultaneous", simultaneous_offsets(corridor, cycle), 0.0)
    row("alternating", alternating_offsets(corridor, cycle), 0.0)
    row("one-way forward", one_way_offsets(corridor, cycle, "forward"), 0.0)
    row("one-way backward", one_way_offsets(corridor, cycle, "backward"), 0.0)
    t = time.perf_counter()
    offsets, _ = maximise_bandwidth(corridor, timings)
    row("bandwidth search (1 s grid)", offsets, time.perf_counter() - t)
    n = len(corridor.intersections)
    if n <= 6 and exhaustive_step_ms:
        t = time.perf_counter()
        grid = range(0, cycle, exhaustive_step_ms)
        best = None
        for rest in itertools.product(grid, repeat=n - 1):
            b = bandwidths(corridor, [0, *rest], cycle, gf, gb)
            k = (b.forward_ms + b.backward_ms, b.forward_ms)
            if best is None or k > best[0]:
                best = (k, [0, *rest])
        row("exhaustive (%g s grid)" % (exhaustive_step_ms / 1000), best[1], time.perf_counter() - t)
    return rows
