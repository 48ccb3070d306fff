"""Demand of the generated network suite (sim/suite.py), written with SUMO's own tools. Host only.

Two kinds, both fixed by a seed so that a rebuild gives the same bytes:

* ``TripDemand``: ``randomTrips.py`` (shipped with eclipse-sumo under
  $SUMO_HOME/tools) draws trips between random edges, mostly from fringe to
  fringe, at a total insertion rate per slice of the hour; duarouter (called
  by randomTrips) turns them into routes.
* ``TurnDemand``: a flow enters at every fringe entry edge (its rate drawn per
  entry from a range, some entries idle), and ``jtrrouter`` routes each
  vehicle junction by junction with the spec's turning shares (right,
  straight, left; no U-turns) until it leaves the net at a fringe exit.
  A zero share leaves every lane that serves only that turn without traffic.

Units: vehicles per hour, seconds, metres.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

END_S = 3600
# share of the hour's peak rate in each slice (six 10-minute slices: rising, then falling)
PEAK_SHAPE = (0.6, 0.85, 1.0, 1.0, 0.85, 0.6)
FLAT_SHAPE = (1.0,)
TRIP_ATTRIBUTES = 'departLane="best" departSpeed="max"'


@dataclass(frozen=True)
class TripDemand:
    """randomTrips.py: ``peak_vph`` vehicles per hour over the net at the peak, shaped by ``shape``."""

    seed: int
    peak_vph: int
    shape: tuple[float, ...] = PEAK_SHAPE
    fringe_factor: float = 10.0  # fringe edges this many times as likely to start/end a trip
    min_distance_m: float = 300.0

    def describe(self) -> str:
        return "randomTrips.py: %d veh/h at the peak, fringe factor %g, trips >= %g m, seed %d" % (
            self.peak_vph, self.fringe_factor, self.min_distance_m, self.seed)


@dataclass(frozen=True)
class TurnDemand:
    """Entry flows routed by jtrrouter with turning shares (percent right, straight, left)."""

    seed: int
    entry_vph: tuple[int, int]  # each entry's peak rate is drawn uniformly from this range
    shares: tuple[int, int, int]  # right, straight, left (%), renormalised over the turns a road has
    idle_entries: int = 0  # this many entries (drawn with the seed) carry no traffic
    shape: tuple[float, ...] = PEAK_SHAPE

    def describe(self) -> str:
        return ("jtrrouter: entries %d-%d veh/h at the peak, %d idle, turning shares right/straight/left "
                "%d/%d/%d %%, seed %d" % (self.entry_vph[0], self.entry_vph[1], self.idle_entries,
                                          *self.shares, self.seed))


def _slices(shape: tuple[float, ...]) -> list[tuple[int, int, float]]:
    step = END_S // len(shape)
    return [(k * step, (k + 1) * step, share) for k, share in enumerate(shape)]


def write_trips(net_file: Path, demand: TripDemand, routes: Path, tools: Path, run: Any) -> None:
    """routes <- randomTrips.py (+ duarouter). ``run(cmd, cwd)`` runs a SUMO tool and checks it."""
    import sys

    rates = ["%g" % (demand.peak_vph * s) for s in demand.shape]
    trips = routes.with_name(routes.name.replace(".rou.xml", ".trips.xml"))
    run([sys.executable, str(tools / "randomTrips.py"), "-n", net_file.name, "-o", trips.name, "-r", routes.name,
         "--seed", str(demand.seed), "--begin", "0", "--end", str(END_S), "--insertion-rate", *rates,
         "--binomial", "4", "--fringe-factor", "%g" % demand.fringe_factor,
         "--min-distance", "%g" % demand.min_distance_m, "--validate", "--remove-loops",
         "--trip-attributes", TRIP_ATTRIBUTES], routes.parent)
    trips.unlink()


def _direction(c: Any) -> str:
    """'r', 's', 'l' or 't' (turnaround) of a sumolib connection (partial turns count as turns)."""
    d = c.getDirection().lower()
    return "t" if d == "t" else "r" if d == "r" else "l" if d == "l" else "s"


def fringe_edges(net: Any) -> tuple[list[str], list[str]]:
    """(entries, exits): edges from / to a dead end of the net (a node no vehicle passes but by a U-turn)."""
    def dead_end(node: Any) -> bool:
        return all(_direction(c) == "t" for e in node.getIncoming() for cs in e.getOutgoing().values() for c in cs)
    entries = sorted(e.getID() for e in net.getEdges() if dead_end(e.getFromNode()))
    exits = sorted(e.getID() for e in net.getEdges() if dead_end(e.getToNode()))
    return entries, exits


def turn_ratios(net: Any, shares: tuple[int, int, int]) -> list[tuple[str, str, float]]:
    """(from edge, to edge, probability) for every edge with a choice; U-turns get none."""
    weight = {"r": shares[0], "s": shares[1], "l": shares[2]}
    out = []
    for edge in sorted(net.getEdges(), key=lambda e: e.getID()):
        dirs: dict[str, str] = {}
        for to_edge, conns in edge.getOutgoing().items():
            kinds = {_direction(c) for c in conns}
            dirs[to_edge.getID()] = "t" if kinds == {"t"} else min(kinds - {"t"})
        usable = {to: d for to, d in dirs.items() if d != "t"}
        total = sum(weight[d] for d in usable.values())
        for to, d in sorted(dirs.items()):
            p = weight[d] / total if d != "t" and total > 0 else 0.0
            if d != "t" and total == 0:  # only turns with a zero share: split evenly (a road must go somewhere)
                p = 1.0 / len(usable)
            out.append((edge.getID(), to, p))
    return out


def write_turn_flows(net_file: Path, demand: TurnDemand, routes: Path, run: Any, jtrrouter: str) -> None:
    """routes <- entry flows (rates drawn with the seed) routed by jtrrouter with the turning shares."""
    import sumolib

    net = sumolib.net.readNet(str(net_file))
    entries, exits = fringe_edges(net)
    rng = random.Random(demand.seed)
    rates = {e: rng.randint(*demand.entry_vph) for e in entries}
    for e in rng.sample(entries, min(demand.idle_entries, len(entries))):
        rates[e] = 0
    flows = []
    for begin, end, share in _slices(demand.shape):
        for e in entries:
            if rates[e]:
                flows.append('    <flow id="%s.%d" from="%s" begin="%d" end="%d" probability="%.4f" %s/>' % (
                    e, begin, e, begin, end, rates[e] * share / 3600.0, TRIP_ATTRIBUTES))
    flow_file = routes.with_name(routes.name.replace(".rou.xml", ".flows.xml"))
    flow_file.write_text("<routes>\n%s\n</routes>\n" % "\n".join(flows))
    ratios = turn_ratios(net, demand.shares)
    turn_file = routes.with_name(routes.name.replace(".rou.xml", ".turns.xml"))
    turn_file.write_text('<turns>\n    <interval begin="0" end="%d">\n%s\n    </interval>\n</turns>\n' % (
        END_S, "\n".join('        <edgeRelation from="%s" to="%s" probability="%.4f"/>' % r for r in ratios)))
    run([jtrrouter, "-n", net_file.name, "--route-files", flow_file.name, "--turn-ratio-files", turn_file.name,
         "--sink-edges", ",".join(exits), "--seed", str(demand.seed), "--begin", "0", "--end", str(END_S),
         "-o", routes.name, "--no-step-log", "true", "--no-warnings", "true"], routes.parent)
    flow_file.unlink()
    turn_file.unlink()
    drop_forbidden_turns(routes, {(a, b) for a, b, p in ratios if p == 0})


_VEHICLE = re.compile(r'    <vehicle [^>]*>\n        <route edges="([^"]*)"/>\n    </vehicle>\n')


def drop_forbidden_turns(routes: Path, forbidden: set[tuple[str, str]]) -> int:
    """Remove the vehicles whose route takes a turn of zero share (or a U-turn); returns how many.

    jtrrouter takes such a turn now and then where the road cannot go on otherwise without
    driving a road twice; dropping those vehicles keeps the lanes of a zero share empty.
    """
    text = routes.read_text()
    dropped = 0

    def keep(m: re.Match) -> str:
        nonlocal dropped
        edges = m.group(1).split()
        if any(pair in forbidden for pair in zip(edges, edges[1:])):
            dropped += 1
            return ""
        return m.group(0)

    routes.write_text(_VEHICLE.sub(keep, text))
    return dropped
