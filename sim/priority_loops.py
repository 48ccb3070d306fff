"""Check-in and check-out loops of the priority classes, and the config's priority block. Host only.

`ampelwerk sim import --priority ems,bus` (docs/priority.md). Per traffic light
and class, on every approach edge (the incoming edge of a controlled vehicle
link) whose lanes allow the class's vClass:

* a check-in loop per lane, CHECK_IN_M upstream of the stop line; a lane too
  short is continued onto the lane that leads straight into it (even one that
  also feeds other lanes: a request names its approach, not a lane), unless
  that lane is behind a traffic light or nothing leads in; then the loop sits
  FAR_BACK_M after the lane's start (with a note). Two lanes continued onto the
  same feeder share one loop there.
  Its config entry names the stage that serves the approach: the stage with the
  most of the groups of the approach's through links (any links if it has no
  through link), the first such stage on a tie;
* a check-out loop on every outgoing lane those links lead onto,
  EXIT_LOOP_M past the junction (half way along a shorter lane).

In SUMO each is an induction loop with ``vTypes`` set to the class's vehicle
type: the loop only ever sees that class, as a transponder or an optical
receiver at the roadside would. The controller gets its presence bit like any
loop's; nothing tells it a vehicle's type. Units: metres, milliseconds.
"""

from __future__ import annotations

from typing import Any

from sim.detector_layout import EXIT_LOOP_M, FAR_BACK_M, DetectorPlacement, via_length, sanitize
from sim.priority_demand import CLASS_TYPES

CHECK_IN_M = 150.0
# the priority block's class limits (docs/priority.md)
EMERGENCY_LIMITS = {"preempt_min_green_ms": 3000, "max_dwell_ms": 60000, "request_timeout_ms": 60000}
TRANSIT_LIMITS = {"max_extension_ms": 10000, "max_early_ms": 10000, "max_per_cycle_ms": 15000,
                  "request_timeout_ms": 90000}


def approach_stages(raw: dict, conns: dict[int, list[Any]]) -> dict[str, str]:
    """Approach edge id -> the stage that serves its through movement (vehicle links only)."""
    group_links = raw["source"]["sumo"]["group_links"]
    vehicle = {g["id"] for g in raw["signal_groups"] if g["kind"] == "vehicle"}
    link_group = {i: g for g, links in group_links.items() if g in vehicle for i in links}
    through: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    for i, cs in conns.items():
        if i not in link_group:
            continue
        for c in cs:
            edge = c.getFrom().getID()
            every.setdefault(edge, set()).add(link_group[i])
            if c.getDirection() == "s":
                through.setdefault(edge, set()).add(link_group[i])
    out = {}
    for edge, groups in every.items():
        want = through.get(edge) or groups
        best = max(raw["stages"], key=lambda s: (len(want & set(s["groups"])), -raw["stages"].index(s)))
        if want & set(best["groups"]):
            out[edge] = best["id"]
    return out


def place_check_in(net: Any, lane: Any, distance_m: float = CHECK_IN_M) -> tuple[Any, float, float, str]:
    """Where the check-in loop of approach lane ``lane`` goes: (lane object, pos_m, distance_m, note)."""
    covered = 0.0  # from the stop line to the end of `current`
    current = lane
    seen = {lane.getID()}
    while True:
        if covered + current.getLength() >= distance_m + FAR_BACK_M:
            pos = current.getLength() - (distance_m - covered)
            return current, pos, distance_m, ""
        cons = [c for c in current.getIncomingConnections() if not c.getFromLane().getID().startswith(":")]
        straight = [c for c in cons if c.getDirection() == "s"] or (cons if len(cons) == 1 else [])
        why = ("nothing upstream" if not cons else "no single straight feeder" if len(straight) != 1
               else "the feeder is behind a traffic light" if straight[0].getTLSID()
               else "the feeders loop back" if straight[0].getFromLane().getID() in seen else "")
        if why:
            pos = min(FAR_BACK_M, current.getLength())
            return current, pos, covered + current.getLength() - pos, "loop at %.0f m, not %.0f m: %s" % (
                covered + current.getLength() - pos, distance_m, why)
        covered += current.getLength() + via_length(net, straight[0])
        current = straight[0].getFromLane()
        seen.add(current.getID())


def class_loops(net: Any, tls_id: str, raw: dict, conns: dict[int, list[Any]], cls: str
                ) -> tuple[list[DetectorPlacement], dict[str, str], list[str]]:
    """The check-in and check-out loops of one class at one traffic light: (placements, check-in loop id ->
    stage, notes)."""
    vtype, vclass, _attrs = CLASS_TYPES[cls]
    stages = approach_stages(raw, conns)
    group_links = raw["source"]["sumo"]["group_links"]
    vehicle = {g["id"] for g in raw["signal_groups"] if g["kind"] == "vehicle"}
    links = {i for g, ls in group_links.items() if g in vehicle for i in ls}
    in_lanes: dict[str, str] = {}  # approach lane -> its edge
    out_lanes: set[str] = set()
    for i, cs in sorted(conns.items()):
        for c in cs:
            if i in links and c.getFrom().getID() in stages and c.getFromLane().allows(vclass):
                in_lanes[c.getFromLane().getID()] = c.getFrom().getID()
                if c.getToLane().allows(vclass):
                    out_lanes.add(c.getToLane().getID())
    placements: list[DetectorPlacement] = []
    stage_of: dict[str, str] = {}
    notes: list[str] = []
    seen: set[tuple[str, int]] = set()
    for lane_id in sorted(in_lanes):
        lane, pos, distance, note = place_check_in(net, net.getLane(lane_id))
        if (lane.getID(), round(pos)) in seen:
            continue  # two lanes continued onto the same feeder: one loop there
        seen.add((lane.getID(), round(pos)))
        if note:
            notes.append("%s check-in of lane %s: %s" % (cls, lane_id, note))
        lid = "e1_%s_%s_%s_in" % (sanitize(tls_id), sanitize(lane.getID()), sanitize(cls))
        placements.append(DetectorPlacement(lid, lane_id, lane.getID(), pos, distance, "check_in", "",
                                            approach=in_lanes[lane_id], vtypes=vtype))
        stage_of[lid] = stages[in_lanes[lane_id]]
    for lane_id in sorted(out_lanes):
        length = net.getLane(lane_id).getLength()
        pos = EXIT_LOOP_M if length >= 2 * EXIT_LOOP_M else length / 2
        lid = "e1_%s_%s_%s_out" % (sanitize(tls_id), sanitize(lane_id), sanitize(cls))
        placements.append(DetectorPlacement(lid, lane_id, lane_id, pos, pos, "check_out", "", vtypes=vtype))
    return placements, stage_of, notes


def add_priority(net: Any, tls_id: str, raw: dict, conns: dict[int, list[Any]], classes: tuple[str, ...]
                 ) -> list[DetectorPlacement]:
    """Add the classes' loops to ``raw["detectors"]`` and the priority block to ``raw`` (in place); returns the
    loops for the additional file. Their places go to ``raw["source"]["sumo"]["priority_loops"]``."""
    block = []
    added: list[DetectorPlacement] = []
    where = raw["source"]["sumo"].setdefault("priority_loops", {})
    for cls in classes:
        loops, stage_of, notes = class_loops(net, tls_id, raw, conns, cls)
        raw["source"]["sumo"]["notes"] += notes
        if not stage_of:
            raw["source"]["sumo"]["notes"].append("no approach allows class %s: no %s loops" % (cls, cls))
            continue
        for p in loops:
            entry = {"id": p.id, "kind": p.kind, "priority_class": cls, "distance_m": int(round(p.distance_m)),
                     "vehicle_classes": [p.vtypes]}
            if p.kind == "check_in":
                entry["stage"] = stage_of[p.id]
            raw["detectors"].append(entry)
            where[p.id] = {"lane": p.lane, "pos_m": round(p.pos_m, 2), "distance_m": round(p.distance_m, 1),
                           "vTypes": p.vtypes}
        added += loops
        block.append(_class_entry(raw, cls, list(stage_of.values())))
    if block:
        raw["priority"] = {"classes": block}
    return added


def _class_entry(raw: dict, cls: str, stages: list[str]) -> dict:
    """One class of the priority block: its stage is the one most check-in loops ask for (first on a tie)."""
    order = [s["id"] for s in raw["stages"]]
    stage = max(dict.fromkeys(stages), key=lambda s: (stages.count(s), -order.index(s)))
    if CLASS_TYPES[cls][1] == "emergency":
        return dict({"id": cls, "kind": "emergency", "stage": stage}, **EMERGENCY_LIMITS)
    groups = next(s["groups"] for s in raw["stages"] if s["id"] == stage)
    vehicle = {g["id"] for g in raw["signal_groups"] if g["kind"] == "vehicle"}
    return dict({"id": cls, "kind": "transit", "stage": stage, "groups": [g for g in groups if g in vehicle]},
                **TRANSIT_LIMITS)


def check_classes(classes: tuple[str, ...]) -> None:
    """Raise ScenarioError unless every class is known."""
    from sim.scenarios import ScenarioError

    unknown = [c for c in classes if c not in CLASS_TYPES]
    if unknown:
        raise ScenarioError("--priority names unknown class %s (known: %s)" % (", ".join(unknown),
                                                                               ", ".join(CLASS_TYPES)))
