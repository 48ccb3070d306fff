"""Loop detector layout for SUMO: E1 induction loops on the approaches of a traffic light.

Host code (CPython), never on the board. Units: metres (positions along a lane,
distances from the stop line), seconds (the E1 period).

Rules (docs/sim-import.md explains them): every incoming lane that feeds a
controlled link gets a stop-bar loop STOP_BAR_M before the stop line and an
advance loop advance_m upstream. A lane too short for the advance loop is
continued onto the lane that feeds it, if that lane leads straight into it,
carries traffic for it alone and is not itself behind a traffic light;
otherwise the loop goes as far back as the lane allows (with a note), or is
left out when that would put it within MIN_LOOP_SPACING_M of the stop-bar
loop. The runner reads the loops through libsumo/TraCI, so their file output
goes nowhere (NUL).

For the core's diagnostics each loop also carries its approach (the incoming
edge at the stop line), the lane whose traffic it measures, and whether that
lane is a turn pocket: an exclusive turn lane, one that carries no through
movement and shares no movement (left, right, U-turn) with the approach's
other lanes, so the approach's traffic says nothing about its own
(docs/core.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

STOP_BAR_M = 1.5  # stop-bar loop: its position before the stop line
FAR_BACK_M = 1.0  # how close to a lane's start a loop may sit
MIN_LOOP_SPACING_M = 5.0  # closer than this to the stop-bar loop, an advance loop adds nothing
# exit loop: this far past the junction on an outgoing lane. A car (5 m) stands
# over it when the queue of the next junction reaches back to within about one
# car length of the junction, where SUMO (and a driver who keeps the junction
# clear) no longer drives on: the exit is blocked.
EXIT_LOOP_M = 5.0
E1_PERIOD_S = 86400


@dataclass
class DetectorPlacement:
    """One E1 loop: its id (also the config's detector id), where it sits, what it serves."""

    id: str
    approach_lane: str  # the incoming lane at the stop line whose traffic it measures
    lane: str  # the lane it lies on (upstream of approach_lane for a continued advance loop)
    pos_m: float  # position on `lane` from the lane's start
    distance_m: float  # from the stop line
    kind: str  # "stop_bar", "advance" or "exit"
    group: str  # "" for an exit loop
    approach: str = ""  # the incoming edge of approach_lane
    turn_pocket: bool = False  # approach_lane serves movements no other lane of the approach serves
    exits: tuple[str, ...] = ()  # an approach loop: the exit loops its lane leads onto
    vtypes: str = ""  # a priority class's loop (sim/priority_loops.py): the only vehicle types it sees


def sanitize(text: str) -> str:
    """An id made of letters, digits, '_', '-' and '.' only (others become '_')."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def lane_group(links: list[int], link_group: dict[int, str],
               stages_of: dict[str, int] | None = None) -> tuple[str | None, bool]:
    """The signal group a lane's loops report to, and whether the lane feeds several groups.

    Rule: the group of most of the lane's links; on a tie, the group green in
    the fewest stages (``stages_of``: group -> number of stages), then the
    group of the lane's lowest link index. Links in no group (always red) do
    not count. A vehicle waiting for the group shown green least often must
    be able to call it: a shared lane's loops reporting to a right turn green
    in most stages would leave its through or U-turn movement waiting until
    another lane called that stage.
    """
    groups = [link_group[i] for i in sorted(links) if i in link_group]
    if not groups:
        return None, False
    stages_of = stages_of or {}
    best = max(groups, key=lambda g: (groups.count(g), -stages_of.get(g, 0), -groups.index(g)))
    return best, len(set(groups)) > 1


def turn_pockets(lane_moves: dict[str, set[str]], edge_of: dict[str, str]) -> set[str]:
    """The lanes that are turn pockets: no through movement ("s"), and their movements (SUMO
    directions) share none with the other lanes of their approach (edge). A lane alone on its
    approach is none."""
    by_edge: dict[str, list[str]] = {}
    for lane in lane_moves:
        by_edge.setdefault(edge_of[lane], []).append(lane)
    out = set()
    for lanes in by_edge.values():
        for lane in lanes:
            others = set().union(*(lane_moves[x] for x in lanes if x != lane))
            if others and "s" not in lane_moves[lane] and not (lane_moves[lane] & others):
                out.add(lane)
    return out


def via_length(net: Any, conn: Any) -> float:
    via = conn.getViaLaneID()
    if via and net.hasInternal:
        try:
            return net.getLane(via).getLength()
        except KeyError:
            return 0.0
    return 0.0


def _straight_feeder(lane: Any) -> tuple[Any | None, Any | None, str]:
    """The lane that leads straight into `lane` and feeds it alone, with the connection; or a reason."""
    cons = [c for c in lane.getIncomingConnections() if not c.getFromLane().getID().startswith(":")]
    if not cons:
        return None, None, "nothing upstream"
    straight = [c for c in cons if c.getDirection() == "s"] or (cons if len(cons) == 1 else [])
    if len(straight) != 1:
        return None, None, "no single straight feeder"
    c = straight[0]
    if c.getTLSID():
        return None, None, "the feeder is behind a traffic light"
    feeder = c.getFromLane()
    if any(o.getToLane() != lane for o in feeder.getOutgoing()):
        return None, None, "the feeder lane also serves other lanes"
    return feeder, c, ""


def place_advance(net: Any, lane: Any, advance_m: float) -> tuple[Any, float, float, str]:
    """Where the advance loop of `lane` goes: (lane object, pos_m, distance_m, note)."""
    if lane.getLength() >= advance_m + FAR_BACK_M:
        return lane, lane.getLength() - advance_m, advance_m, ""
    covered = lane.getLength()  # distance from the stop line to the start of `current`
    current = lane
    seen = {lane.getID()}
    while True:
        feeder, conn, why = _straight_feeder(current)
        if feeder is None or feeder.getID() in seen:
            why = why or "the feeders loop back"
            pos = min(FAR_BACK_M, current.getLength())
            return current, pos, covered - pos, "advance loop at %.0f m, not %.0f m: %s" % (covered - pos, advance_m, why)
        seen.add(feeder.getID())
        covered += via_length(net, conn)
        if covered + feeder.getLength() >= advance_m + FAR_BACK_M:
            # the junction between may already take the loop past advance_m: then just behind it
            pos = max(feeder.getLength() - max(advance_m - covered, FAR_BACK_M), 0.0)
            return feeder, pos, covered + feeder.getLength() - pos, ""
        covered += feeder.getLength()
        current = feeder


def layout(net: Any, tls_id: str, lane_links: dict[str, list[int]], link_group: dict[int, str],
           advance_m: float = 40.0, stages_of: dict[str, int] | None = None,
           lane_moves: dict[str, set[str]] | None = None) -> tuple[list[DetectorPlacement], list[str]]:
    """Stop-bar and advance loops for every incoming lane of one traffic light.

    lane_links: incoming lane id -> the controlled link indices it feeds.
    link_group: link index -> signal group id (links in no group left out).
    lane_moves: incoming lane id -> the SUMO directions of its links ("s", "l",
    "r", "t", ...), to mark turn pockets (none marked without it).
    Returns the placements (config order: lanes in link order, stop bar first)
    and notes on every deviation from the rules.
    """
    placements: list[DetectorPlacement] = []
    notes: list[str] = []
    used: set[str] = set()
    edge_of = {lane_id: net.getLane(lane_id).getEdge().getID() for lane_id in lane_links}
    looped = {lane_id: (lane_moves or {}).get(lane_id, set()) for lane_id, links in lane_links.items()
              if lane_group(links, link_group, stages_of)[0] is not None}
    pockets = turn_pockets(looped, edge_of) if lane_moves else set()

    def unique(base: str) -> str:
        i, name = 1, base
        while name in used:
            i += 1
            name = "%s_%d" % (base, i)
        used.add(name)
        return name

    for lane_id, links in sorted(lane_links.items(), key=lambda kv: min(kv[1])):
        group, mixed = lane_group(links, link_group, stages_of)
        if group is None:
            notes.append("lane %s feeds only links that are never green; no loops" % lane_id)
            continue
        if mixed:
            groups = sorted(set(link_group[i] for i in links if i in link_group))
            notes.append("lane %s feeds groups %s; its loops call and extend %s" % (lane_id, "+".join(groups), group))
        lane = net.getLane(lane_id)
        base = "e1_%s_%s" % (sanitize(tls_id), sanitize(lane_id))
        length = lane.getLength()
        stop_pos = max(length - STOP_BAR_M, 0.0) if length > STOP_BAR_M else length / 2
        where = {"approach": edge_of[lane_id], "turn_pocket": lane_id in pockets}
        placements.append(DetectorPlacement(unique(base + "_stop"), lane_id, lane_id, stop_pos,
                                            length - stop_pos, "stop_bar", group, **where))
        adv_lane, pos, distance, note = place_advance(net, lane, advance_m)
        if distance - (length - stop_pos) < MIN_LOOP_SPACING_M:
            notes.append("lane %s: no advance loop, it would sit within %.0f m of the stop-bar loop (%s)"
                         % (lane_id, MIN_LOOP_SPACING_M, note))
            continue
        if note:
            notes.append("lane %s: %s" % (lane_id, note))
        placements.append(DetectorPlacement(unique(base + "_adv"), lane_id, adv_lane.getID(), pos, distance,
                                            "advance", group, **where))
    return placements, notes


def add_exit_loops(net: Any, tls_id: str, placements: list[DetectorPlacement],
                   lane_exits: dict[str, set[str]]) -> list[DetectorPlacement]:
    """One exit loop EXIT_LOOP_M past the junction (half way along a shorter lane) on every lane
    that an approach loop's lane leads onto; each approach loop names its lane's (``exits``).

    lane_exits: incoming lane id -> the outgoing lanes its controlled vehicle links lead onto.
    Returns the exit loops (the approach loops are updated in place).
    """
    ids: dict[str, str] = {}
    out = []
    for lane_id in sorted(set().union(*lane_exits.values()) if lane_exits else ()):
        length = net.getLane(lane_id).getLength()
        pos = EXIT_LOOP_M if length >= 2 * EXIT_LOOP_M else length / 2
        ids[lane_id] = "e1_%s_%s_exit" % (sanitize(tls_id), sanitize(lane_id))
        out.append(DetectorPlacement(ids[lane_id], lane_id, lane_id, pos, pos, "exit", ""))
    for p in placements:
        p.exits = tuple(ids[x] for x in sorted(lane_exits.get(p.approach_lane, ())))
    return out


def write_additional(placements: list[DetectorPlacement], path: Path) -> None:
    """Write the E1 loops as a SUMO additional file (output to NUL: the runner polls them)."""
    lines = ["<additional>"]
    for p in placements:
        lines.append('    <inductionLoop id=%s lane=%s pos="%.2f" period="%d" file="NUL"%s/>' % (
            quoteattr(p.id), quoteattr(p.lane), p.pos_m, E1_PERIOD_S,
            " vTypes=%s" % quoteattr(p.vtypes) if p.vtypes else ""))
    lines.append("</additional>")
    path.write_text("\n".join(lines) + "\n")
