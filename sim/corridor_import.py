"""Find an arterial in a SUMO net and write it as a corridor file (``ampelwerk-corridor/1``). Host only.

Input: the net of a .sumocfg (sumolib) and the controller configs that
``sim.net_import`` wrote for its traffic lights (their ``source.sumo`` link
mapping). Output: ``corridor.json`` next to the configs, read by the
coordinator (coordinator/corridors.py) and by the arterial metrics and the
time-space diagram (sim/arterial_metrics.py, sim/timespace.py).

How the arterial is chosen (docs/coordination.md, "Corridors from a SUMO net"):
  * a *straight path* follows, edge after edge, the connection SUMO marks
    straight (``dir="s"``); where several edges are straight ahead, the one of
    the highest priority, then the most lanes;
  * ``auto``: every straight path is walked from every edge; the traffic
    lights it crosses (in order) form a chain. Chains that are not driveable
    straight the other way too (one-way streets) are dropped. The chain kept
    is the one with the most traffic lights, then the highest road class
    (lowest priority and lane count along it), then the most vehicles of the
    route files that drive it from its first to its last traffic light;
  * an explicit list of traffic light ids: the straight path from each to the
    next (an error names the pair where there is none).
Forward is the first to the last traffic light (auto: natural order of the
ids); ``main_direction`` is the direction more route-file vehicles drive
through. Units: metres, metres per second; the file's cycle bounds in ms.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.corridor_demand import route_demand, through_demand
from sim.scenarios import ScenarioError, read_sumocfg

CORRIDOR_FORMAT = "ampelwerk-corridor/1"
DEFAULT_CYCLE_MS = {"min": 30000, "max": 150000}  # low floor: the cycle follows demand (Webster), then bandwidth
MAX_WALK_EDGES = 5000  # a straight walk longer than this is a loop in the net


class CorridorImportError(ScenarioError):
    """No arterial can be found, or the given traffic lights are not joined by a straight path."""


@dataclass
class Piece:
    """One stretch of a direction's path: an edge or an internal (junction) lane, with its length and speed."""

    id: str  # edge id (an internal edge ":J1_11" for the way through a junction)
    length_m: float
    speed_mps: float
    internal: bool


@dataclass
class DirectionPath:
    """The arterial driven in one direction: its edges, pieces, the traffic lights it crosses and where."""

    edges: list[str]
    pieces: list[Piece]
    tls: list[str]  # in driving order
    stop_lines_m: list[float]  # distance of each tls's stop line from the start of the path
    through_links: list[list[int]]  # per tls: its link indices of the straight movement along the path
    entering_edges: list[str]  # per tls: the path's edge that ends at its stop line

    @property
    def length_m(self) -> float:
        return sum(p.length_m for p in self.pieces)

    def centres_m(self) -> list[float]:
        """Distance of each junction's middle: its stop line plus half the path's length through it."""
        out = []
        for x in self.stop_lines_m:
            acc = inside = 0.0
            for p in self.pieces:
                if acc >= x - 1e-6:
                    if not p.internal:
                        break
                    inside += p.length_m
                acc += p.length_m
            out.append(x + inside / 2)
        return out


@dataclass
class ArterialPath:
    """An arterial found in a net: forward and backward paths over the same traffic lights."""

    forward: DirectionPath
    backward: DirectionPath
    demand: dict[str, float] = field(default_factory=dict)  # direction -> route-file vehicles through all of it
    notes: list[str] = field(default_factory=list)

    @property
    def tls(self) -> list[str]:
        return self.forward.tls


def natural_key(text: str) -> list[Any]:
    """Sort key that puts J2 before J10 and nt2 before nt10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


# ---- the net -------------------------------------------------------------------------------------------


def read_net(net_file: Path) -> Any:
    """The sumolib net with programs and internal lanes (the ways through junctions)."""
    try:
        import sumolib
    except ImportError:
        raise CorridorImportError("sumolib not found: pip install sumolib") from None
    return sumolib.net.readNet(str(net_file), withPrograms=True, withInternal=True)


def _drivable(edge: Any) -> bool:
    """A normal edge cars may use (not internal, crossing or walking area)."""
    return edge.getFunction() not in ("internal", "crossing", "walkingarea") and edge.allows("passenger")


def _node_tls(net: Any) -> dict[str, str]:
    """junction id -> id of the traffic light that controls links there."""
    out = {}
    for t in net.getTrafficLights():
        for in_lane, _out_lane, _idx in t.getConnections():
            out[in_lane.getEdge().getToNode().getID()] = t.getID()
    return out


def _straight_next(edge: Any) -> Any | None:
    """The edge straight ahead of ``edge`` (connection dir "s"), highest priority then most lanes; None if none."""
    cands = [to for to, conns in edge.getOutgoing().items()
             if _drivable(to) and any(c.getDirection() == "s" for c in conns)]
    if not cands:
        return None
    return max(cands, key=lambda e: (e.getPriority(), e.getLaneNumber(), e.getSpeed(), e.getID()))


def _walk(edge: Any, node_tls: dict[str, str]) -> tuple[list[Any], list[tuple[str, int]]]:
    """Straight walk from ``edge``: the edges and, in order, (tls id, index of the edge entering it)."""
    edges = [edge]
    seen = {edge.getID()}
    tls: list[tuple[str, int]] = []
    e = edge
    while len(edges) < MAX_WALK_EDGES:
        t = node_tls.get(e.getToNode().getID())
        if t is not None and (not tls or tls[-1][0] != t):
            tls.append((t, len(edges) - 1))
        nxt = _straight_next(e)
        if nxt is None or nxt.getID() in seen:
            break
        edges.append(nxt)
        seen.add(nxt.getID())
        e = nxt
    return edges, tls


def _reverse_edge(edge: Any) -> Any | None:
    """The drivable edge from this edge's end node back to its start node (the other carriageway)."""
    back = [e for e in edge.getToNode().getOutgoing() if e.getToNode() is edge.getFromNode() and _drivable(e)]
    return max(back, key=lambda e: (e.getPriority(), e.getLaneNumber(), e.getID())) if back else None


def _via_lanes(net: Any, a: Any, b: Any) -> list[Any]:
    """Internal lanes driven from edge a into edge b (straight connection from a's leftmost such lane)."""
    conns = [c for c in a.getOutgoing().get(b, []) if c.getDirection() == "s"] or a.getOutgoing().get(b, [])
    if not conns:
        return []
    c = max(conns, key=lambda c: c.getFromLane().getIndex())  # the inner (leftmost) through lane
    lanes = []
    via = c.getViaLaneID()
    while via:
        try:
            lane = net.getLane(via)
        except KeyError:
            break
        lanes.append(lane)
        nxt = [o for o in lane.getOutgoing() if o.getToLane().getEdge().getFunction() == "internal"]
        via = nxt[0].getToLane().getID() if nxt else ""
    return lanes


def _direction_path(net: Any, edges: list[Any], node_tls: dict[str, str]) -> DirectionPath:
    """Pieces, stop lines and through links of a path that starts on an approach edge and ends on an exit edge."""
    pieces: list[Piece] = []
    tls: list[str] = []
    stops: list[float] = []
    through: list[list[int]] = []
    entering: list[str] = []
    acc = 0.0
    for i, e in enumerate(edges):
        pieces.append(Piece(e.getID(), e.getLength(), e.getSpeed(), False))
        acc += e.getLength()
        if i + 1 == len(edges):
            break
        nxt = edges[i + 1]
        t = node_tls.get(e.getToNode().getID())
        if t is not None:
            links = sorted({c.getTLLinkIndex() for c in e.getOutgoing().get(nxt, [])
                            if c.getTLSID() == t and c.getTLLinkIndex() >= 0})
            if tls and tls[-1] == t:  # a cluster of junctions under one traffic light: one stop line
                through[-1] = sorted(set(through[-1]) | set(links))
            else:
                tls.append(t)
                stops.append(acc)
                through.append(links)
                entering.append(e.getID())
        for lane in _via_lanes(net, e, nxt):
            pieces.append(Piece(lane.getEdge().getID(), lane.getLength(), lane.getSpeed(), True))
            acc += lane.getLength()
    return DirectionPath([e.getID() for e in edges], pieces, tls, stops, through, entering)


def _trim(edges: list[Any], tls: list[tuple[str, int]], first: int, last: int) -> list[Any]:
    """The walk's edges from the one entering tls[first] to the one leaving tls[last] (if any)."""
    return edges[tls[first][1]:min(tls[last][1] + 2, len(edges))]


def _backward_edges(fwd_edges: list[Any], chain: list[str], node_tls: dict[str, str]) -> list[Any] | None:
    """Walk straight back from the reverse of the forward exit edge; None unless it crosses the chain reversed."""
    rev = _reverse_edge(fwd_edges[-1])
    if rev is None:
        return None
    edges, tls = _walk(rev, node_tls)
    ids = [t for t, _ in tls]
    want = list(reversed(chain))
    for k in range(len(ids) - len(want) + 1):
        if ids[k:k + len(want)] == want:
            return _trim(edges, tls, k, k + len(want) - 1)
    return None


def _road_class(edges: list[Any]) -> tuple[int, int]:
    """(lowest priority, fewest lanes) along the edges: higher is a bigger road."""
    return min(e.getPriority() for e in edges), min(e.getLaneNumber() for e in edges)


# ---- finding the arterial ------------------------------------------------------------------------------


def find_arterial(net: Any, tls_ids: list[str] | None = None,
                  routes: list[tuple[tuple[str, ...], float]] | None = None) -> ArterialPath:
    """The arterial over ``tls_ids`` in that order, or (None) the one chosen automatically (module header)."""
    node_tls = _node_tls(net)
    routes = routes or []
    if tls_ids:
        return _explicit(net, tls_ids, node_tls, routes)
    best: tuple | None = None
    seen: set[tuple[str, ...]] = set()
    for e in sorted(net.getEdges(), key=lambda e: e.getID()):
        if not _drivable(e):
            continue
        edges, tls = _walk(e, node_tls)
        if len(tls) < 2 or tls[0][1] != 0:
            continue  # only walks that start on the approach edge of their first traffic light
        chain = [t for t, _ in tls]
        if len(set(chain)) != len(chain):
            continue
        key = tuple(chain) if natural_key(chain[0]) <= natural_key(chain[-1]) else tuple(reversed(chain))
        if key in seen:
            continue
        seen.add(key)
        fwd = _trim(edges, tls, 0, len(tls) - 1)
        back = _backward_edges(fwd, chain, node_tls)
        if back is None:
            continue
        if tuple(chain) != key:
            fwd, back, chain = back, fwd, list(key)
        cls = min(_road_class(fwd), _road_class(back))
        art = ArterialPath(_direction_path(net, fwd, node_tls), _direction_path(net, back, node_tls))
        art.demand = {"forward": through_demand(art.forward, routes), "backward": through_demand(art.backward, routes)}
        score = (len(chain), cls, art.demand["forward"] + art.demand["backward"], [natural_key(t) for t in chain])
        if best is None or score[:3] > best[0][:3] or (score[:3] == best[0][:3] and score[3] < best[0][3]):
            best = (score, art)
    if best is None:
        raise CorridorImportError("no two traffic lights of the net are joined by a straight road driveable both "
                                  "ways: give the corridor's traffic lights explicitly (--corridor J1,J2,...)")
    art = best[1]
    art.notes.append("auto: %d traffic lights, road class (priority, lanes) %s, route-file vehicles through it: "
                     "forward %.0f, backward %.0f" % (len(art.tls), best[0][1], art.demand["forward"],
                                                      art.demand["backward"]))
    return art


def _explicit(net: Any, tls_ids: list[str], node_tls: dict[str, str],
              routes: list[tuple[tuple[str, ...], float]]) -> ArterialPath:
    known = sorted(set(node_tls.values()), key=natural_key)
    bad = [t for t in tls_ids if t not in known]
    if bad:
        raise CorridorImportError("--corridor names %s: %s (traffic lights of the net: %s)" % (
            ", ".join(bad), "not a traffic light" if len(bad) == 1 else "not traffic lights", ", ".join(known)))
    if len(tls_ids) < 2 or len(set(tls_ids)) != len(tls_ids):
        raise CorridorImportError("--corridor=%s: give at least two different traffic lights" % ",".join(tls_ids))
    # every straight walk from an approach of the first light; the one that crosses all of them in order
    reached, beyond = 0, None  # longest prefix of tls_ids crossed in order, and what the walk met next
    for e in sorted(net.getEdges(), key=lambda e: e.getID()):
        if not _drivable(e) or node_tls.get(e.getToNode().getID()) != tls_ids[0]:
            continue
        edges, tls = _walk(e, node_tls)
        ids = [t for t, _ in tls]
        n = 0
        while n < min(len(ids), len(tls_ids)) and ids[n] == tls_ids[n]:
            n += 1
        if n > reached:
            reached, beyond = n, ids[n] if n < len(ids) else None
        if n < len(tls_ids):
            continue
        fwd = _trim(edges, tls, 0, len(tls_ids) - 1)
        back = _backward_edges(fwd, tls_ids, node_tls)
        if back is None:
            continue
        art = ArterialPath(_direction_path(net, fwd, node_tls), _direction_path(net, back, node_tls))
        art.demand = {"forward": through_demand(art.forward, routes), "backward": through_demand(art.backward, routes)}
        art.notes.append("explicit: route-file vehicles through it: forward %.0f, backward %.0f"
                         % (art.demand["forward"], art.demand["backward"]))
        return art
    if reached == len(tls_ids):
        raise CorridorImportError("--corridor=%s: the lights are joined straight one way, but not straight back "
                                  "(one-way street or a divided road with separate junctions)" % ",".join(tls_ids))
    a, b = tls_ids[reached - 1], tls_ids[reached]
    via = " (coming from %s)" % ", ".join(tls_ids[:reached - 1]) if reached > 1 else ""
    raise CorridorImportError("--corridor=%s: the straight road through %s%s %s, not to %s: list the traffic lights "
                              "in driving order, every one the road crosses" % (
                                  ",".join(tls_ids), a, via,
                                  "leads to %s first" % beyond if beyond else "meets no further traffic light", b))


# ---- the corridor file ---------------------------------------------------------------------------------


def _groups_of(links: list[int], group_links: dict[str, list[int]], group_order: list[str]) -> list[str]:
    return [g for g in group_order if set(group_links.get(g, ())) & set(links)]


def coordinated_stage(raw: dict, through: dict[str, list[str]], main: str) -> str:
    """The stage where both directions' through groups are green; failing both, the main direction's."""
    other = "backward" if main == "forward" else "forward"
    best = None
    for stage in raw["stages"]:
        green = set(stage["groups"])
        score = (set(through[main]) <= green, set(through[other]) <= green,
                 len(green & set(through[main])), len(green & set(through[other])))
        if best is None or score > best[0]:
            best = (score, stage["id"])
    return best[1]


def corridor_dict(art: ArterialPath, configs: dict[str, Path], corridor_file: Path, corridor_id: str = "arterial",
                  cycle_ms: dict[str, int] | None = None) -> dict:
    """The ``ampelwerk-corridor/1`` document for the arterial (config paths relative to corridor_file)."""
    fwd, back = art.forward, art.backward
    main = "backward" if art.demand.get("backward", 0) > art.demand.get("forward", 0) else "forward"
    intersections = []
    for k, tls in enumerate(fwd.tls):
        if tls not in configs:
            raise CorridorImportError("traffic light %s has no imported config (configs: %s)" % (
                tls, ", ".join(sorted(configs))))
        raw = json.loads(Path(configs[tls]).read_text())
        src = raw["source"]["sumo"]
        order = [g["id"] for g in raw["signal_groups"]]
        kb = back.tls.index(tls)
        links = {"forward": fwd.through_links[k], "backward": back.through_links[kb]}
        through = {d: _groups_of(links[d], src["group_links"], order) for d in links}
        for d, groups in through.items():
            if not groups:
                raise CorridorImportError("traffic light %s: the %s through movement (links %s) has no signal group "
                                          "in %s" % (tls, d, links[d], configs[tls]))
        try:
            rel = str(Path(configs[tls]).resolve().relative_to(Path(corridor_file).resolve().parent))
        except ValueError:
            rel = str(Path(configs[tls]).resolve())
        intersections.append({"controller": raw["id"], "config": rel,
                              "coordinated_stage": coordinated_stage(raw, through, main), "through_groups": through})
    centres_f = fwd.centres_m()
    centres_b = back.centres_m()
    links = []
    for k in range(len(fwd.tls) - 1):
        kb = back.tls.index(fwd.tls[k])  # backward: from tls k+1 (index kb-1) to tls k (index kb)
        lf = fwd.stop_lines_m[k + 1] - fwd.stop_lines_m[k]
        lb = back.stop_lines_m[kb] - back.stop_lines_m[kb - 1]
        tf = _travel_s(fwd, fwd.stop_lines_m[k], fwd.stop_lines_m[k + 1])
        tb = _travel_s(back, back.stop_lines_m[kb - 1], back.stop_lines_m[kb])
        links.append({"length_m": round((lf + lb) / 2, 1), "speed_mps": round((lf + lb) / (tf + tb), 2)})
    return {
        "format": CORRIDOR_FORMAT,
        "corridors": [{
            "id": corridor_id,
            "cycle_ms": dict(cycle_ms or DEFAULT_CYCLE_MS),
            "main_direction": main,
            "intersections": intersections,
            "links": links,
            "sumo": {
                "tls": fwd.tls,
                "forward_edges": fwd.edges,
                "backward_edges": back.edges,
                # geometry for the metrics and the time-space diagram (the coordinator ignores it)
                "pieces": {"forward": [[p.id, round(p.length_m, 2), p.internal] for p in fwd.pieces],
                           "backward": [[p.id, round(p.length_m, 2), p.internal] for p in back.pieces]},
                "stop_lines_m": {"forward": [round(x, 2) for x in fwd.stop_lines_m],
                                 "backward": [round(x, 2) for x in back.stop_lines_m]},
                "centres_m": {"forward": [round(x, 2) for x in centres_f],
                              "backward": [round(x, 2) for x in centres_b]},
                "through_links": {"forward": fwd.through_links, "backward": back.through_links},
                "route_demand": {d: round(v, 1) for d, v in art.demand.items()},
                "notes": art.notes,
            },
        }],
    }


def _travel_s(path: DirectionPath, x0: float, x1: float) -> float:
    """Free-flow time between two distances of a path, at each piece's speed limit."""
    t = acc = 0.0
    for p in path.pieces:
        a, b = max(acc, x0), min(acc + p.length_m, x1)
        if b > a:
            t += (b - a) / p.speed_mps
        acc += p.length_m
    return t


def parse_corridor_option(text: str | None) -> list[str] | None:
    """``auto`` (or empty) -> None; ``J1,J2,J3`` -> the ids."""
    if text is None or text.strip() in ("", "auto"):
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def write_corridor(sumocfg: Path, configs: dict[str, Path], out_file: Path, tls_ids: list[str] | None = None,
                   corridor_id: str = "arterial") -> tuple[Path, ArterialPath]:
    """Find the arterial of the scenario (auto or over ``tls_ids``) and write ``out_file``."""
    cfg = read_sumocfg(Path(sumocfg))
    net = read_net(cfg.net_file)
    routes = route_demand(net, cfg.route_files)
    art = find_arterial(net, tls_ids, routes)
    doc = corridor_dict(art, configs, out_file, corridor_id)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(doc, indent=1) + "\n")
    return out_file, art


def imported_configs(import_dir: Path) -> dict[str, Path]:
    """{tls id: config path} of the configs `sim import` wrote in a directory (their ``source.sumo.tls_id``)."""
    out = {}
    for path in sorted(Path(import_dir).glob("*.json")):
        try:
            tls = json.loads(path.read_text())["source"]["sumo"]["tls_id"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not an imported config (e.g. corridor.json)
        out[tls] = path
    return out


def corridor_command(sumocfg: Path, import_dir: Path, option: str | None, shown: Path | None = None) -> Path:
    """`ampelwerk sim import ... --corridor auto|J1,J2,..`: write <import_dir>/corridor.json and print it
    (naming ``shown`` instead of import_dir, where that will be renamed to)."""
    path, art = write_corridor(sumocfg, imported_configs(import_dir), Path(import_dir) / "corridor.json",
                               parse_corridor_option(option))
    c = json.loads(path.read_text())["corridors"][0]
    print("corridor %r: %s (forward), main direction %s" % (c["id"], " -> ".join(art.tls), c["main_direction"]))
    for a, b, link in zip(art.tls, art.tls[1:], c["links"]):
        print("  %s - %s: %.1f m at %.2f m/s (%.1f s)" % (a, b, link["length_m"], link["speed_mps"],
                                                          link["length_m"] / link["speed_mps"]))
    print("  coordinated stages: %s" % ", ".join("%s %s" % (i["controller"], i["coordinated_stage"])
                                                  for i in c["intersections"]))
    print("".join("  %s\n" % n for n in art.notes) + "wrote %s" % (Path(shown) / path.name if shown else path))
    return path
