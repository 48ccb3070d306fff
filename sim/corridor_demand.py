"""Route-file demand along a corridor: which direction is the main one, which chain is busiest. Host only.

Reads the route files of a scenario (vehicles, trips and flows; flows count
their expected vehicles) as (edge ids, vehicles) and counts the vehicles that
drive a corridor direction from its first to its last stop line
(sim/corridor_import.py uses it to choose the arterial and its main direction).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

Routes = list[tuple[tuple[str, ...], float]]  # (edge ids, vehicles)


def route_demand(net: Any, route_files: list[Path]) -> Routes:
    """(edge ids, vehicles) of every route in the route files: vehicles, trips and flows.

    Flows count their expected vehicles (number, or rate times duration); trips and
    flows given by from/to take the net's shortest path.
    """
    named: dict[str, tuple[str, ...]] = {}
    out: list[tuple[tuple[str, ...], float]] = []
    paths: dict[tuple[str, str], tuple[str, ...]] = {}

    def shortest(a: str, b: str) -> tuple[str, ...]:
        if (a, b) not in paths:
            try:
                p, _cost = net.getShortestPath(net.getEdge(a), net.getEdge(b))
            except (KeyError, TypeError):
                p = None
            paths[(a, b)] = tuple(e.getID() for e in p) if p else ()
        return paths[(a, b)]

    for rf in route_files:
        if not Path(rf).is_file():
            continue
        try:
            for _ev, el in ET.iterparse(str(rf)):
                if el.tag == "route" and el.get("id"):
                    named[el.get("id")] = tuple(el.get("edges", "").split())
                elif el.tag in ("vehicle", "trip", "flow"):
                    r = el.find("route")
                    edges = (tuple(r.get("edges", "").split()) if r is not None
                             else named.get(el.get("route"), ()) if el.get("route")
                             else shortest(el.get("from"), el.get("to")) if el.get("from") and el.get("to") else ())
                    if edges:
                        out.append((edges, _vehicles(el)))
                    el.clear()
        except ET.ParseError:
            continue
    return out


def _vehicles(el: ET.Element) -> float:
    """Vehicles of a route-file element: 1 for a vehicle or trip, the expected number for a flow."""
    if el.tag != "flow":
        return 1.0
    if el.get("number"):
        return float(el.get("number"))
    span = float(el.get("end", 3600)) - float(el.get("begin", 0))
    if el.get("probability"):
        return float(el.get("probability")) * span
    for key in ("vehsPerHour", "perHour"):
        if el.get(key):
            return float(el.get(key)) * span / 3600
    if el.get("period"):
        return span / float(el.get("period"))
    return 0.0


def through_demand(path: Any, routes: Routes) -> float:
    """Route-file vehicles that drive every edge between the path's first and last stop line, in order.

    (Whatever approach they came from and wherever they turn at the last light:
    the same population as the "inner" arterial metrics.)
    """
    first = path.edges.index(path.entering_edges[0]) + 1
    last = path.edges.index(path.entering_edges[-1])
    seq = tuple(path.edges[first:last + 1])
    n = len(seq)
    total = 0.0
    for edges, veh in routes:
        for k in range(len(edges) - n + 1):
            if edges[k] == seq[0] and edges[k:k + n] == seq:
                total += veh
                break
    return total
