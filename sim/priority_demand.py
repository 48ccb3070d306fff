"""Emergency vehicles and buses added to a scenario's demand, for the priority studies. Host only.

A run with ``RunOptions.priority_demand`` gets one more SUMO route file,
``priority.rou.xml`` in its run directory, loaded after the scenario's own (so a
vType those define is known), with these vehicles (docs/priority.md):

* ``ems``: vClass ``emergency``, rare: on average ``ems_per_hour`` per
  approach (the first traffic-light approach edge of the scenario's routes), at
  random seconds of the window (not its last 5 minutes); each takes one of the
  scenario's own routes over its approach (drawn by how many vehicles use it).
  They obey the signals like any vehicle: no bluelight device, no
  ``jmIgnore*`` parameters (the study measures what the controller does for
  them, not what a driver may do at red).
* ``bus``: vClass ``bus``, on ``bus_lines`` lines (the routes that cross the
  most traffic lights, then the busiest; one per entry edge), every
  ``bus_headway_s``, the first one at a random second of the first headway.

Both use only routes that go straight through every traffic light they cross:
a check-in loop names its approach, not the turn, and asks for the stage of
the approach's through movement (sim/priority_loops.py).

Everything is drawn from ``random.Random(seed)``: the same scenario, window
and seed give the same bytes. A vType the scenario already defines (the
Ingolstadt nets have a ``bus``) is not defined again: its vehicles count as that
class too. Units: seconds, vehicles per hour.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

# priority class id -> (vType id, SUMO vClass, vType attributes when the scenario has no such vType)
CLASS_TYPES = {
    "ems": ("ems", "emergency", 'color="1,0,0" guiShape="emergency"'),
    "bus": ("bus", "bus", 'color="0,0.6,0" guiShape="bus"'),
}
DEMAND_FILE = "priority.rou.xml"
VEHICLE_ATTRIBUTES = 'departLane="best" departSpeed="max"'
END_MARGIN_S = 300  # no emergency vehicle departs in the window's last 5 minutes: it could not finish


class PriorityDemandError(ValueError):
    """A priority demand that cannot be generated (unknown class, no route through a traffic light, ...)."""


@dataclass(frozen=True)
class PriorityDemand:
    """Which classes to add and how many; the seed is the run's."""

    classes: tuple[str, ...] = ("ems", "bus")
    ems_per_hour: float = 2.0  # per approach
    bus_headway_s: float = 480.0
    bus_lines: int = 2

    def check(self) -> None:
        """Raise PriorityDemandError naming every bad field, value and allowed range."""
        errors = ["class %r is not one of %s" % (c, ", ".join(CLASS_TYPES)) for c in self.classes if c not in CLASS_TYPES]
        if not self.classes:
            errors.append("no class given (expected some of %s)" % ", ".join(CLASS_TYPES))
        if not 0 < self.ems_per_hour <= 60:
            errors.append("ems_per_hour=%g is outside 0 (exclusive)..60 per approach and hour" % self.ems_per_hour)
        if not 60 <= self.bus_headway_s <= 3600:
            errors.append("bus_headway_s=%g s is outside 60..3600 s" % self.bus_headway_s)
        if not 1 <= self.bus_lines <= 20:
            errors.append("bus_lines=%d is outside 1..20" % self.bus_lines)
        if errors:
            raise PriorityDemandError("priority demand: " + "; ".join(errors))


def parse_classes(text: str) -> tuple[str, ...]:
    """'ems,bus' -> ('ems', 'bus'); raises PriorityDemandError for an unknown or empty list."""
    classes = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    PriorityDemand(classes=classes).check()
    return classes


@dataclass(frozen=True)
class Line:
    """A route of the scenario: its edges, the traffic lights it crosses, the vehicles that use it."""

    edges: tuple[str, ...]
    lights: int
    vehicles: float
    approach: str  # the first edge of the route that ends at a traffic light's stop line


def _lights_crossed(net: Any, edges: tuple[str, ...]) -> tuple[int, str]:
    """How many times the route goes straight through a traffic light, and the edge before the first; (0, "")
    if it turns at one."""
    n = 0
    first = ""
    for a, b in zip(edges, edges[1:]):
        try:
            cons = net.getEdge(a).getOutgoing().get(net.getEdge(b), [])
        except KeyError:
            return 0, ""
        if any(c.getTLSID() for c in cons):
            if not any(c.getTLSID() and c.getDirection() == "s" for c in cons):
                return 0, ""  # a turn: the approach's check-in asks for the through stage (sim/priority_loops.py)
            n += 1
            first = first or a
    return n, first


def signal_routes(net: Any, route_files: list[Path], vclass: str) -> list[Line]:
    """The scenario's distinct routes that go straight through every traffic light they cross (at least one)
    and allow ``vclass`` on every edge, with their vehicles, sorted by edges (a stable order for the draws)."""
    from sim.corridor_demand import route_demand

    use: dict[tuple[str, ...], float] = {}
    for edges, veh in route_demand(net, route_files):
        use[edges] = use.get(edges, 0.0) + veh
    out = []
    for edges in sorted(use):
        if len(edges) < 2 or not all(net.hasEdge(e) and net.getEdge(e).allows(vclass) for e in edges):
            continue
        n, approach = _lights_crossed(net, edges)
        if n:
            out.append(Line(edges, n, use[edges], approach))
    return out


def defined_vtypes(files: list[Path]) -> set[str]:
    """vType ids defined in the scenario's route and additional files."""
    out: set[str] = set()
    for f in files:
        if not Path(f).is_file():
            continue
        try:
            for _ev, el in ET.iterparse(str(f)):
                if el.tag == "vType" and el.get("id"):
                    out.add(el.get("id"))
                el.clear()
        except ET.ParseError:
            continue
    return out


def _ems_trips(lines: list[Line], demand: PriorityDemand, rng: random.Random, begin: float, end: float
               ) -> list[tuple[float, tuple[str, ...]]]:
    by_approach: dict[str, list[Line]] = {}
    for line in lines:
        by_approach.setdefault(line.approach, []).append(line)
    approaches = sorted(by_approach)
    last = max(begin + 1, end - END_MARGIN_S)
    n = round(demand.ems_per_hour * len(approaches) * (end - begin) / 3600.0)
    out = []
    for _ in range(n):
        options = by_approach[rng.choice(approaches)]
        line = rng.choices(options, weights=[max(x.vehicles, 1e-6) for x in options])[0]
        out.append((float(rng.randrange(int(begin), int(last))), line.edges))
    return out


def bus_lines(lines: list[Line], count: int) -> list[Line]:
    """The through routes buses run on: most traffic lights crossed, then most vehicles; one per entry edge."""
    chosen: list[Line] = []
    for line in sorted(lines, key=lambda x: (-x.lights, -x.vehicles, x.edges)):
        if all(c.edges[0] != line.edges[0] for c in chosen):
            chosen.append(line)
        if len(chosen) == count:
            break
    return chosen


def _bus_trips(lines: list[Line], demand: PriorityDemand, rng: random.Random, begin: float, end: float
               ) -> list[tuple[float, tuple[str, ...]]]:
    out = []
    for line in bus_lines(lines, demand.bus_lines):
        t = begin + rng.randrange(int(demand.bus_headway_s))
        while t < end:
            out.append((float(t), line.edges))
            t += demand.bus_headway_s
    return out


def write_priority_demand(sumocfg: Path, demand: PriorityDemand, seed: int, begin: float, end: float,
                          path: Path) -> dict[str, int]:
    """Write the vehicles of ``demand`` for the scenario's window as a SUMO route file; returns the
    vehicles per class. Raises PriorityDemandError when a class finds no route through a traffic light."""
    import sumolib

    from sim.scenarios import read_sumocfg

    demand.check()
    cfg = read_sumocfg(Path(sumocfg))
    net = sumolib.net.readNet(str(cfg.net_file))
    known = defined_vtypes(cfg.route_files + cfg.additional_files)
    rng = random.Random(seed)
    lines_out = []
    vehicles: list[tuple[float, str, tuple[str, ...]]] = []
    counts = {}
    for cls in demand.classes:
        vtype, vclass, attrs = CLASS_TYPES[cls]
        if vtype not in known:
            lines_out.append('    <vType id="%s" vClass="%s" %s/>' % (vtype, vclass, attrs))
        routes = signal_routes(net, cfg.route_files, vclass)
        if not routes:
            raise PriorityDemandError("%s: no route of the scenario crosses a traffic light on edges that allow "
                                      "vClass %s: cannot add %s vehicles" % (cfg.path.name, vclass, cls))
        trips = (_ems_trips if cls == "ems" else _bus_trips)(routes, demand, rng, begin, end)
        counts[cls] = len(trips)
        vehicles += [(t, vtype, edges) for t, edges in trips]
    vehicles.sort(key=lambda v: (v[0], v[1]))
    serial: dict[str, int] = {}
    for t, vtype, edges in vehicles:
        k = serial[vtype] = serial.get(vtype, -1) + 1
        lines_out.append('    <vehicle id=%s type=%s depart="%.2f" %s>\n        <route edges=%s/>\n    </vehicle>' % (
            quoteattr("prio_%s_%d" % (vtype, k)), quoteattr(vtype), t, VEHICLE_ATTRIBUTES, quoteattr(" ".join(edges))))
    Path(path).write_text("<routes>\n%s\n</routes>\n" % "\n".join(lines_out))
    return counts
