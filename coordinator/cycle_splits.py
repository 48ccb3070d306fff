"""Common cycle and splits of a corridor from measured flows (Webster). Host only.

Units: ms for times, vehicles per hour (veh/h) for flows. Method and
assumptions are in docs/coordination.md ("Cycle and splits"):

* flow ratio of a signal group y = q / (s * lanes): q its counted flow,
  s the saturation flow per lane (1800 veh/h by default), lanes the number of
  its stop-bar loops (at least 1); a stage's ratio is its largest group's;
* lost time per stage = the transition (longest intergreen) after it, so the
  cycle's lost time L is the sum of the transitions of the sequence;
* Webster's cycle C0 = (1.5 L + 5 s) / (1 - Y), Y the sum of the stage ratios,
  rounded up to whole seconds; the corridor runs the largest C0 of its
  intersections (the critical one), clamped to the corridor's bounds and to
  every intersection's minimum cycle;
* splits, by one of three rules (SPLIT_RULES):
  - ``equal-saturation`` (default): the green above the minimums is shared in
    proportion to the stages' flow ratios (Webster's rule: every stage of the
    intersection runs at about the same degree of saturation);
  - ``slack-to-main``: every side stage gets the green that gives it the
    critical intersection's degree of saturation (at least its minimum
    green), whole seconds, and the slack goes to the coordinated stage; when
    that does not fit, the equal-saturation rule;
  - ``group-saturation``: greens from the groups' flow ratios (stage_greens.py),
    counting a group green in several stages once; equal-saturation takes it
    too where stages share groups.
  docs/experiments/green-wave-rules-arterial5.md has the delay the first two rules gave in SUMO.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.intersection import DETECTOR_STOP_BAR

from coordinator.corridors import Corridor, CorridorIntersection, minimum_cycle_ms
from coordinator.stage_greens import critical_flow_ratio, share_green

SATURATION_FLOW_VPH_PER_LANE = 1800.0
SPLIT_RULES = ("equal-saturation", "slack-to-main", "group-saturation")
DEMAND_SOURCES = ("counts", "green-used")
SATURATED_DS = 0.9  # a group that used this much of its green or more did not clear: demand above what it served
SATURATED_BOOST = 1.25  # its demand is taken as what it used times this
Y_LIMIT = 0.95  # flow-ratio sum above which Webster's formula is meaningless: run the longest cycle


@dataclass
class Timing:
    """Cycle and splits of one intersection; stage_ids start with the coordinated stage."""

    cycle_ms: int
    stage_ids: list[str]
    split_ms: list[int]

    def split_of(self, stage_id: str) -> int:
        return self.split_ms[self.stage_ids.index(stage_id)]


@dataclass
class CycleChoice:
    """The corridor's common cycle and why: the critical intersection, its Webster cycle, Y and L."""

    cycle_ms: int
    critical: str | None
    webster_ms: float | None
    flow_ratio_sum: float
    lost_time_ms: int
    measured: bool
    searched_to_ms: int | None = None  # cycles from Webster's up to this were tried for bandwidth (None: not)


def demand_flows(ci: CorridorIntersection, flows_vph: dict[str, float],
                 green_use: dict[str, tuple[int, int, int]] | None,
                 saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                 saturated_ds: float = SATURATED_DS, boost: float = SATURATED_BOOST) -> dict[str, float]:
    """Demand per signal group from the green its traffic used (veh/h at the assumed saturation flow).

    A group's used green over the window, as a share of the time, is its flow ratio measured at its own
    lanes' real discharge rate (a permitted left or a shared lane discharges below ``s``); a group whose
    degree of saturation used/green reached ``saturated_ds`` did not clear its queue, so its demand is
    above what it served: the ratio is multiplied by ``boost``. Returned as the flow that gives that
    ratio, q = y * s * lanes, so Webster's cycle and the split rules take it like a count. Groups
    without a green-use measure (or never green) keep their counted flow.
    """
    out = dict(flows_vph)
    if not green_use:
        return out
    ix = ci.ix
    for g in range(ix.n_groups):
        gid = ix.group_ids[g]
        use = green_use.get(gid)
        if ix.is_pedestrian[g] or use is None or use[0] <= 0 or use[2] <= 0:
            continue
        green, used, period = use
        y = used / period
        if used >= saturated_ds * green:
            y *= boost
        out[gid] = y * saturation_vph_per_lane * group_lanes(ci, g)
    return out


def busiest_lane_flows(ci: CorridorIntersection, flows_vph: dict[str, float],
                       lane_vph: dict[str, float] | None) -> dict[str, float]:
    """Counted flows raised so that a group's flow ratio q/(s*lanes) is at least its busiest lane's.

    A signal group's lanes do not share one queue: a group that serves two approaches (both
    directions of a side street, one lane each) needs the green its busier lane needs, as in the
    critical-lane analysis of the HCM; dividing the group's total by its lane count understates it
    whenever the lanes are unequally loaded. ``lane_vph`` is the busiest counting loop's flow per
    group (report field loop_counts); the group's flow becomes max(q, lane * lanes), so every rule
    that divides by the lane count reads the busiest lane's ratio. Groups without it keep q.
    """
    if not lane_vph:
        return flows_vph
    out = dict(flows_vph)
    ix = ci.ix
    for g in range(ix.n_groups):
        gid = ix.group_ids[g]
        lane = lane_vph.get(gid)
        if lane is not None and gid in out:
            out[gid] = max(out[gid], lane * group_lanes(ci, g))
    return out


def group_lanes(ci: CorridorIntersection, group: int) -> int:
    """Lanes of a signal group = its stop-bar loops (at least 1)."""
    ix = ci.ix
    n = sum(1 for d in ix.group_detectors[group] if ix.detector_kind[d] == DETECTOR_STOP_BAR)
    return max(n, 1)


def stage_flow_ratios(ci: CorridorIntersection, flows_vph: dict[str, float],
                      saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE) -> list[float]:
    """Flow ratio of each stage in running order (coordinated stage first): its largest group's q/(s*lanes)."""
    ix = ci.ix
    ratios = []
    for s in ci.stage_order():
        worst = 0.0
        for g in ix.stage_groups[s]:
            if ix.is_pedestrian[g]:
                continue
            q = flows_vph.get(ix.group_ids[g], 0.0)
            worst = max(worst, q / (saturation_vph_per_lane * group_lanes(ci, g)))
        ratios.append(worst)
    return ratios


def group_flow_ratios(ci: CorridorIntersection, flows_vph: dict[str, float],
                      saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE) -> list[float]:
    """Flow ratio q/(s*lanes) of every signal group (config order); 0 for pedestrian groups."""
    ix = ci.ix
    return [0.0 if ix.is_pedestrian[g] else
            flows_vph.get(ix.group_ids[g], 0.0) / (saturation_vph_per_lane * group_lanes(ci, g))
            for g in range(ix.n_groups)]


def stage_group_lists(ci: CorridorIntersection) -> list[list[int]]:
    """The vehicle groups green in each stage, running order (coordinated stage first)."""
    ix = ci.ix
    return [[g for g in ix.stage_groups[s] if not ix.is_pedestrian[g]] for s in ci.stage_order()]


def shares_groups(ci: CorridorIntersection) -> bool:
    """True when a vehicle group is green in more than one stage of the sequence."""
    seen: set[int] = set()
    for groups in stage_group_lists(ci):
        if seen.intersection(groups):
            return True
        seen.update(groups)
    return False


def intersection_flow_ratio(ci: CorridorIntersection, flows_vph: dict[str, float],
                            saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                            split_rule: str = SPLIT_RULES[0]) -> float:
    """Webster's Y of one intersection: the sum of its stage ratios, or, under the
    ``group-saturation`` rule, the critical flow ratio of its groups (stage_greens.py), which
    counts a group green in several stages once."""
    if split_rule == "group-saturation" or (split_rule == "equal-saturation" and shares_groups(ci)):
        return critical_flow_ratio(stage_group_lists(ci), group_flow_ratios(ci, flows_vph, saturation_vph_per_lane))
    return sum(stage_flow_ratios(ci, flows_vph, saturation_vph_per_lane))


def transitions_ms(ci: CorridorIntersection) -> list[int]:
    """Transition (longest intergreen) after each stage, running order."""
    order = ci.stage_order()
    return [ci.ix.transition_ms(s, order[(k + 1) % len(order)]) for k, s in enumerate(order)]


def min_greens_ms(ci: CorridorIntersection) -> list[int]:
    return [ci.ix.stage_min_green_ms(s) for s in ci.stage_order()]


def webster_cycle_ms(lost_time_ms: int, flow_ratio_sum: float) -> float | None:
    """Webster's optimum cycle; None when the flow ratios sum to Y_LIMIT or more (oversaturated)."""
    if flow_ratio_sum >= Y_LIMIT:
        return None
    return (1.5 * lost_time_ms + 5000.0) / (1.0 - flow_ratio_sum)


def corridor_cycle(corridor: Corridor, flows: dict[str, dict[str, float]],
                   saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                   split_rule: str = SPLIT_RULES[0]) -> CycleChoice:
    """Common cycle: the largest Webster cycle of the measured intersections, clamped to the bounds.

    ``flows`` maps controller id -> {group id: veh/h}; controllers without data are left out.
    With no data at all the corridor runs its shortest allowed cycle.
    """
    floor = max([corridor.cycle_min_ms] + [minimum_cycle_ms(ci) for ci in corridor.intersections])
    best: tuple[float, str, float | None, float, int] | None = None
    for ci in corridor.intersections:
        if ci.controller_id not in flows:
            continue
        y = intersection_flow_ratio(ci, flows[ci.controller_id], saturation_vph_per_lane, split_rule)
        lost = sum(transitions_ms(ci))
        c0 = webster_cycle_ms(lost, y)
        want = float(corridor.cycle_max_ms) if c0 is None else c0
        if best is None or want > best[0]:
            best = (want, ci.controller_id, c0, y, lost)
    if best is None:
        return CycleChoice(min(floor, corridor.cycle_max_ms), None, None, 0.0, 0, False)
    cycle = int(math.ceil(best[0] / 1000.0)) * 1000
    cycle = max(floor, min(cycle, corridor.cycle_max_ms))
    return CycleChoice(cycle, best[1], best[2], best[3], best[4], True)


def critical_saturation(corridor: Corridor, flows: dict[str, dict[str, float]], cycle_ms: int,
                        saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                        split_rule: str = SPLIT_RULES[0]) -> float | None:
    """Degree of saturation X = Y C / (C - L) of the most loaded intersection at this cycle."""
    worst = None
    for ci in corridor.intersections:
        if ci.controller_id not in flows:
            continue
        y = intersection_flow_ratio(ci, flows[ci.controller_id], saturation_vph_per_lane, split_rule)
        lost = sum(transitions_ms(ci))
        x = y * cycle_ms / max(cycle_ms - lost, 1)
        if worst is None or x > worst:
            worst = x
    return worst


def intersection_splits(ci: CorridorIntersection, cycle_ms: int, flows_vph: dict[str, float] | None,
                        saturation_x: float | None,
                        saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE,
                        split_rule: str = SPLIT_RULES[0]) -> Timing:
    """Splits for one intersection (see module header); they sum to cycle_ms exactly."""
    order = ci.stage_order()
    ids = [ci.ix.stage_ids[s] for s in order]
    trans = transitions_ms(ci)
    mins = min_greens_ms(ci)
    green_total = cycle_ms - sum(trans)
    if flows_vph is None:
        ratios = [1.0] * len(order)  # no data: equal shares above the minimums
        greens = None
    elif split_rule == "group-saturation" or (split_rule == "equal-saturation" and shares_groups(ci)):
        ratios = [0.0] * len(order)
        steps = share_green(stage_group_lists(ci), group_flow_ratios(ci, flows_vph, saturation_vph_per_lane),
                            [int(math.ceil(m / 1000.0)) for m in mins], green_total // 1000)
        greens = None
        if steps is not None:
            greens = [k * 1000 for k in steps]
            greens[0] += green_total - sum(greens)  # the part of a second left over: coordinated stage
    else:
        ratios = stage_flow_ratios(ci, flows_vph, saturation_vph_per_lane)
        x = saturation_x if saturation_x and saturation_x > 0 and split_rule == "slack-to-main" else None
        greens = None
        if x is not None:
            # side stages: the green that gives them the critical degree of saturation, whole seconds
            greens = [mins[0]] + [max(mins[k], int(math.ceil(round(ratios[k] * cycle_ms / x) / 1000.0)) * 1000)
                                  for k in range(1, len(order))]
            rest = green_total - sum(greens[1:])
            if rest < mins[0]:
                greens = None
            else:
                greens[0] = rest
    if greens is None:
        extra = green_total - sum(mins)
        weight = sum(ratios)
        if weight <= 0:
            shares = [extra] + [0] * (len(order) - 1)
        else:
            shares = [int(extra * r / weight) // 1000 * 1000 for r in ratios]
            shares[0] += extra - sum(shares)
        greens = [mins[k] + shares[k] for k in range(len(order))]
    splits = [greens[k] + trans[k] for k in range(len(order))]
    return Timing(cycle_ms, ids, splits)
