"""Hysteresis for corridor timings, so plans do not flap on noisy counts. Host only.

Units: ms. A newly computed timing (cycle and splits) replaces the one in
force only when it differs by more than ``fraction`` (cycle: relative to the
cycle in force; a split: relative to the cycle) in ``confirmations``
consecutive computations; then the latest computed timing is adopted. A
single outlier, or noise below the threshold, changes nothing. See
docs/coordination.md ("Hysteresis").
"""

from __future__ import annotations

from coordinator.cycle_splits import Timing


def timing_differs(old: list[Timing], new: list[Timing], fraction: float) -> bool:
    """True when the cycle moved by more than ``fraction`` or any split by more than ``fraction`` of the cycle."""
    if len(old) != len(new):
        return True
    for a, b in zip(old, new):
        if abs(b.cycle_ms - a.cycle_ms) > fraction * a.cycle_ms:
            return True
        if a.stage_ids != b.stage_ids:
            return True
        for x, y in zip(a.split_ms, b.split_ms):
            if abs(x - y) > fraction * a.cycle_ms:
                return True
    return False


class TimingHysteresis:
    """Holds the timing in force for one corridor and decides when a new one replaces it."""

    def __init__(self, fraction: float = 0.10, confirmations: int = 2) -> None:
        if not 0.0 <= fraction < 1.0:
            raise ValueError("hysteresis fraction=%r is outside 0..1 (exclusive)" % (fraction,))
        if confirmations < 1:
            raise ValueError("hysteresis confirmations=%r is below 1" % (confirmations,))
        self.fraction = fraction
        self.confirmations = confirmations
        self.current: list[Timing] | None = None
        self.pending = 0  # consecutive computations that differed
        self.changes = 0

    def offer(self, computed: list[Timing]) -> bool:
        """Take a newly computed timing; True when it (now) replaces the timing in force."""
        if self.current is None:
            self.current = computed
            self.changes += 1
            return True
        if not timing_differs(self.current, computed, self.fraction):
            self.pending = 0
            return False
        self.pending += 1
        if self.pending < self.confirmations:
            return False
        self.current = computed
        self.pending = 0
        self.changes += 1
        return True
