"""Offsets for two-way progression: bandwidth of the coordinated greens, and its maximisation. Host only.

Units: ms. In the spirit of MAXBAND (Little 1966, 1981): choose the offsets
that maximise the weighted sum of the forward and backward through bands.

* The through green of direction d at intersection i is the window
  ``[o_i, o_i + g_i^d)`` (mod C): it opens with the coordinated stage (cycle
  position 0, which the plan's offset o_i places) and lasts while every
  through group of d stays green: the splits of the consecutive stages, from
  the coordinated one, that hold all those groups, minus the transition after
  the last of them.
* A forward vehicle that passes intersection 0 at time t reaches i at
  t + T_i (free-flow travel time). The set of t that meets green at i is
  the arc ``[o_i - T_i, o_i - T_i + g_i)`` mod C; the forward band is the
  longest contiguous piece of the intersection of all arcs, computed exactly
  by interval arithmetic. Backward the same with the travel time from the
  last intersection.
* Search: intersection 0 keeps offset 0; coordinate ascent over a 1 s grid
  (every offset of one intersection tried with the others held), from the
  one-way ideal offsets of both directions, simultaneous, alternating and
  seeded random starts; the best end point wins. Ties go to the larger band
  in the main direction, then to the earliest start.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from coordinator.corridors import Corridor
from coordinator.cycle_splits import Timing


@dataclass
class Bands:
    """Bandwidths (ms) of a set of offsets, and the weighted objective."""

    forward_ms: float
    backward_ms: float
    score: float


def through_green_ms(corridor: Corridor, timings: list[Timing], direction: str) -> list[int]:
    """Length of the through green of ``direction`` at each intersection, from cycle position 0."""
    result = []
    for ci, t in zip(corridor.intersections, timings):
        ix = ci.ix
        groups = {ix.group_index[g] for g in ci.through_groups[direction]}
        order = ci.stage_order()
        trans = [ix.transition_ms(s, order[(k + 1) % len(order)]) for k, s in enumerate(order)]
        green = 0
        last = 0
        for k, s in enumerate(order):
            if not groups <= set(ix.stage_groups[s]):
                break
            green += t.split_ms[k]
            last = k
        result.append(max(green - trans[last], 0))
    return result


def _arcs_band(starts: list[float], lengths: list[int], cycle: float) -> float:
    """Longest contiguous piece of the intersection of arcs [start, start+length) on a circle of ``cycle``."""
    pieces = [(0.0, cycle)]
    for s, length in zip(starts, lengths):
        if length >= cycle:
            continue
        s = s % cycle
        e = s + length
        arc = [(s, min(e, cycle))]
        if e > cycle:
            arc.append((0.0, e - cycle))
        nxt = []
        for p0, p1 in pieces:
            for q0, q1 in arc:
                a, b = max(p0, q0), min(p1, q1)
                if b > a:
                    nxt.append((a, b))
        pieces = nxt
        if not pieces:
            return 0.0
    best = max(b - a for a, b in pieces)
    # a piece that ends at the cycle's end continues into one that starts at 0
    tail = [b - a for a, b in pieces if b >= cycle]
    head = [b - a for a, b in pieces if a <= 0.0]
    if tail and head and not (len(pieces) == 1 and pieces[0] == (0.0, cycle)):
        best = max(best, tail[0] + head[0])
    return min(best, min(lengths) if lengths else cycle)


def bandwidths(corridor: Corridor, offsets_ms: list[int], cycle_ms: int, green_forward: list[int],
               green_backward: list[int], weights: tuple[float, float] = (1.0, 1.0)) -> Bands:
    """Forward and backward bandwidths of these offsets and the weighted sum ``w_f b_f + w_b b_b``."""
    arrive = corridor.arrival_ms()
    last = arrive[-1]
    fwd = _arcs_band([o - t for o, t in zip(offsets_ms, arrive)], green_forward, float(cycle_ms))
    bwd = _arcs_band([o - (last - t) for o, t in zip(offsets_ms, arrive)], green_backward, float(cycle_ms))
    return Bands(fwd, bwd, weights[0] * fwd + weights[1] * bwd)


def one_way_offsets(corridor: Corridor, cycle_ms: int, direction: str, step_ms: int = 1000) -> list[int]:
    """Ideal offsets for one direction: green opens as the forward (or backward) platoon arrives."""
    arrive = corridor.arrival_ms()
    last = arrive[-1]
    if direction == "forward":
        raw = [t for t in arrive]
    else:
        raw = [(last - t) - last for t in arrive]
    return [int(round((r - raw[0]) / step_ms)) * step_ms % cycle_ms for r in raw]


def simultaneous_offsets(corridor: Corridor, cycle_ms: int) -> list[int]:
    return [0] * len(corridor.intersections)


def alternating_offsets(corridor: Corridor, cycle_ms: int, step_ms: int = 1000) -> list[int]:
    half = (cycle_ms // 2) // step_ms * step_ms
    return [0 if k % 2 == 0 else half for k in range(len(corridor.intersections))]


def _key(b: Bands, main: str) -> tuple[float, float]:
    return (round(b.score, 6), round(b.forward_ms if main == "forward" else b.backward_ms, 6))


def maximise_bandwidth(corridor: Corridor, timings: list[Timing], step_ms: int = 1000, restarts: int = 12,
                       seed: int = 1, weights: tuple[float, float] = (1.0, 1.0)) -> tuple[list[int], Bands]:
    """Offsets (ms, intersection 0 at 0) maximising the weighted two-way bandwidth; see module header."""
    cycle = timings[0].cycle_ms
    gf = through_green_ms(corridor, timings, "forward")
    gb = through_green_ms(corridor, timings, "backward")
    n = len(corridor.intersections)
    main = corridor.main_direction
    grid = list(range(0, cycle, step_ms))
    rng = random.Random(seed)
    starts = [one_way_offsets(corridor, cycle, corridor.main_direction, step_ms),
              one_way_offsets(corridor, cycle, "backward" if main == "forward" else "forward", step_ms),
              simultaneous_offsets(corridor, cycle), alternating_offsets(corridor, cycle, step_ms)]
    for _ in range(restarts):
        starts.append([0] + [rng.choice(grid) for _ in range(n - 1)])
    best: tuple[tuple[float, float], list[int], Bands] | None = None
    for start in starts:
        cur = list(start)
        cur_b = bandwidths(corridor, cur, cycle, gf, gb, weights)
        improved = True
        while improved:
            improved = False
            for i in range(1, n):
                keep = cur[i]
                for o in grid:
                    if o == keep:
                        continue
                    cur[i] = o
                    b = bandwidths(corridor, cur, cycle, gf, gb, weights)
                    if _key(b, main) > _key(cur_b, main):
                        cur_b, keep, improved = b, o, True
                cur[i] = keep
        if best is None or _key(cur_b, main) > best[0]:
            best = (_key(cur_b, main), list(cur), cur_b)
    return best[1], best[2]  # type: ignore[index]  # starts is never empty
