"""One corridor's timing: common cycle, splits per intersection, offsets. Host only.

Glues cycle_splits.py (cycle and splits from flows) and offsets.py (bandwidth
search) and prints a plan for engineers. Units: ms; flows in veh/h.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from coordinator.corridors import Corridor
from coordinator.cycle_splits import (
    SATURATION_FLOW_VPH_PER_LANE,
    SPLIT_RULES,
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


CYCLE_SEARCH_SPAN = 1.5  # cycles from the corridor's Webster cycle up to 1.5 times it are tried for bandwidth


def _splits_at(corridor: Corridor, flows: dict[str, dict[str, float]], cycle_ms: int,
               saturation_vph_per_lane: float, split_rule: str) -> list[Timing]:
    x = critical_saturation(corridor, flows, cycle_ms, saturation_vph_per_lane, split_rule)
    return [intersection_splits(ci, cycle_ms, flows.get(ci.controller_id), x, saturation_vph_per_lane, split_rule)
            for ci in corridor.intersections]


def compute_splits(corridor: Corridor, flows: dict[str, dict[str, float]],
                   saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                   split_rule: str = SPLIT_RULES[0], cycle_span: float = CYCLE_SEARCH_SPAN,
                   weights: tuple[float, float] = (1.0, 1.0)) -> tuple[CycleChoice, list[Timing]]:
    """Common cycle and each intersection's splits from flows (controller -> group -> veh/h).

    The cycle is the critical intersection's Webster cycle C (clamped to the bounds), or,
    with measured flows on a corridor of two or more intersections and ``cycle_span`` > 1,
    the whole-second cycle in C .. min(cycle_span * C, max) whose offsets give the most
    weighted two-way bandwidth per second of cycle (MAXBAND's bandwidth efficiency; delay
    is flat over that range of Webster's curve); ties go to the shorter cycle.
    """
    if split_rule not in SPLIT_RULES:
        raise ValueError("split_rule=%r is not one of %s" % (split_rule, ", ".join(SPLIT_RULES)))
    choice = corridor_cycle(corridor, flows, saturation_vph_per_lane, split_rule)
    timings = _splits_at(corridor, flows, choice.cycle_ms, saturation_vph_per_lane, split_rule)
    top = min(corridor.cycle_max_ms, int(choice.cycle_ms * cycle_span) // 1000 * 1000)
    if not choice.measured or len(corridor.intersections) < 2 or top <= choice.cycle_ms:
        return choice, timings
    best = None
    for cycle in range(choice.cycle_ms, top + 1, 1000):
        tm = timings if cycle == choice.cycle_ms else _splits_at(corridor, flows, cycle, saturation_vph_per_lane,
                                                                 split_rule)
        _, bands = maximise_bandwidth(corridor, tm, restarts=0, weights=weights)  # screening: no random starts
        efficiency = bands.score / cycle
        if best is None or efficiency > best[0] + 1e-9:
            best = (efficiency, cycle, tm)
    assert best is not None
    return replace(choice, cycle_ms=best[1], searched_to_ms=top), best[2]


def compute_timing(corridor: Corridor, flows: dict[str, dict[str, float]],
                   saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                   weights: tuple[float, float] = (1.0, 1.0), seed: int = 1, split_rule: str = SPLIT_RULES[0],
                   cycle_span: float = CYCLE_SEARCH_SPAN) -> CorridorTiming:
    """Cycle, splits and bandwidth-maximising offsets in one go."""
    choice, timings = compute_splits(corridor, flows, saturation_vph_per_lane, split_rule, cycle_span, weights)
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
            c.flow_ratio_sum, c.lost_time_ms / 1000.0) + (
            ", best bandwidth per second of cycles up to %.0f s" % (c.searched_to_ms / 1000.0)
            if c.searched_to_ms else "") if c.measured else "no counts: shortest allowed cycle")]
    if t.bands:
        lines.append("  bandwidth forward %.0f s, backward %.0f s" % (
            t.bands.forward_ms / 1000.0, t.bands.backward_ms / 1000.0))
    x = t.corridor.positions_m()
    for ci, tm, o, xm in zip(t.corridor.intersections, t.timings, t.offsets_ms, x):
        splits = "  ".join("%s %.0f s" % (s, v / 1000.0) for s, v in zip(tm.stage_ids, tm.split_ms))
        lines.append("  %-8s x=%6.0f m  offset %5.1f s  splits %s" % (ci.controller_id, xm, o / 1000.0, splits))
    return "\n".join(lines) + "\n"
