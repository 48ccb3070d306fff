"""One corridor's timing: common cycle, splits per intersection, offsets. Host only.

Glues cycle_splits.py (cycle and splits from flows) and offsets.py (bandwidth
search) and prints a plan for engineers. Units: ms; flows in veh/h.
"""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.corridors import Corridor
from coordinator.cycle_splits import (
    SATURATION_FLOW_VPH_PER_LANE,
    CycleChoice,
    Timing,
    corridor_cycle,
    critical_saturation,
    intersection_splits,
)
from coordinator.offsets import Bands, maximise_bandwidth


@dataclass
class CorridorTiming:
    """Cycle, splits and offsets for every intersection of a corridor (forward order)."""

    corridor: Corridor
    cycle: CycleChoice
    timings: list[Timing]
    offsets_ms: list[int]
    bands: Bands | None


def compute_splits(corridor: Corridor, flows: dict[str, dict[str, float]],
                   saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE) -> tuple[CycleChoice, list[Timing]]:
    """Common cycle and each intersection's splits from flows (controller -> group -> veh/h)."""
    choice = corridor_cycle(corridor, flows, saturation_vph_per_lane)
    x = critical_saturation(corridor, flows, choice.cycle_ms, saturation_vph_per_lane)
    timings = [intersection_splits(ci, choice.cycle_ms, flows.get(ci.controller_id), x, saturation_vph_per_lane)
               for ci in corridor.intersections]
    return choice, timings


def compute_timing(corridor: Corridor, flows: dict[str, dict[str, float]],
                   saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                   weights: tuple[float, float] = (1.0, 1.0), seed: int = 1) -> CorridorTiming:
    """Cycle, splits and bandwidth-maximising offsets in one go."""
    choice, timings = compute_splits(corridor, flows, saturation_vph_per_lane)
    offsets, bands = add_offsets(corridor, timings, weights, seed)
    return CorridorTiming(corridor, choice, timings, offsets, bands)


def add_offsets(corridor: Corridor, timings: list[Timing], weights: tuple[float, float] = (1.0, 1.0),
                seed: int = 1) -> tuple[list[int], Bands | None]:
    if len(corridor.intersections) < 2:
        return [0], None
    return maximise_bandwidth(corridor, timings, weights=weights, seed=seed)


def describe(t: CorridorTiming) -> str:
    """Human-readable plan: one line per intersection."""
    c = t.cycle
    lines = ["corridor %s: cycle %.0f s (%s)" % (
        t.corridor.id, c.cycle_ms / 1000.0,
        "critical %s, Webster %s, Y=%.2f, L=%.0f s" % (
            c.critical, "%.1f s" % (c.webster_ms / 1000.0) if c.webster_ms else "oversaturated",
            c.flow_ratio_sum, c.lost_time_ms / 1000.0) if c.measured else "no counts: shortest allowed cycle")]
    if t.bands:
        lines.append("  bandwidth forward %.0f s, backward %.0f s" % (
            t.bands.forward_ms / 1000.0, t.bands.backward_ms / 1000.0))
    x = t.corridor.positions_m()
    for ci, tm, o, xm in zip(t.corridor.intersections, t.timings, t.offsets_ms, x):
        splits = "  ".join("%s %.0f s" % (s, v / 1000.0) for s, v in zip(tm.stage_ids, tm.split_ms))
        lines.append("  %-8s x=%6.0f m  offset %5.1f s  splits %s" % (ci.controller_id, xm, o / 1000.0, splits))
    return "\n".join(lines) + "\n"
