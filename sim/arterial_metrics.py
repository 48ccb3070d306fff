"""Arterial metrics of one SUMO run: stops and travel time of the vehicles driving the corridor. Host only.

Input: SUMO's floating car data (fcd.xml, written by the runner for the
corridor's edges only, every step: lane, position on the lane, speed) and the
``sumo`` section of a corridor file (sim/corridor_import.py: per direction the
path as pieces - edges and the internal edges through junctions - with their
lengths, and the stop line of every traffic light on it). This is measurement:
it uses everything SUMO knows. The controllers never see any of it.

Every FCD sample on a corridor piece becomes a distance along its direction's
path (piece offset + position). Per direction, two populations:

* ``full``: vehicles that enter the first corridor edge and leave the last
  (the brief's definition: first sample on the path lies on its first edge,
  last sample on its last edge). Travel time = time of the last sample minus
  time of the first (one step resolution); stops over the whole path.
* ``inner``: vehicles that drive every edge from leaving the first junction
  (X1, end of its internal lane) to the last stop line (XN), whatever approach
  they came from and wherever they turn at the last light. Travel time from
  crossing X1 to crossing XN (linear interpolation between samples; a vehicle
  first or last seen up to one step's travel away is extrapolated at its
  speed); stops counted between X1 and XN, i.e. at lights 2..N and on the
  links. This is the green-wave measure: platoons released by the first light
  should not stop again; it also exists on nets where nobody drives the
  whole corridor edge to edge (RESCO arterial4x4).

A stop is SUMO's own "halting" definition, as in tripinfo's waitingCount: a
sample with speed below 0.1 m/s (SUMO_const_haltingSpeed) whose previous
sample in the section was at or above it (or that is the first sample in the
section). Units: s, m, m/s.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

HALTING_SPEED_MPS = 0.1  # SUMO_const_haltingSpeed
DIRECTIONS = ("forward", "backward")


class ArterialMetricsError(Exception):
    """A corridor file without SUMO geometry, or FCD output that is missing or incomplete."""


@dataclass
class DirectionGeometry:
    """One direction's path: distance of each piece's start, stop lines, where the first junction ends."""

    offsets: dict[str, float]  # edge id (normal or internal) -> distance of its start along the path
    lengths: dict[str, float]
    order: list[str]  # piece ids in driving order
    internal: set[str]
    stop_lines_m: list[float]
    centres_m: list[float]
    through_links: list[list[int]]
    tls: list[str]  # in driving order

    @property
    def length_m(self) -> float:
        last = self.order[-1]
        return self.offsets[last] + self.lengths[last]

    def first_edge(self) -> str:
        return self.order[0]

    def last_edge(self) -> str:
        return self.order[-1]

    def after_first_junction_m(self) -> float:
        """X1: the end of the way through the first light's junction (start of the first link edge)."""
        x = self.stop_lines_m[0]
        for pid in self.order:
            start = self.offsets[pid]
            if start >= x - 1e-6 and pid not in self.internal:
                return start
        return x


@dataclass
class CorridorGeometry:
    """The SUMO geometry of a corridor file's first corridor (both directions)."""

    id: str
    main_direction: str
    tls: list[str]  # forward order
    controllers: list[str]
    through_groups: list[dict[str, list[str]]]
    link_speeds_mps: list[float]
    directions: dict[str, DirectionGeometry]


def load_geometry(path: Path, corridor_id: str | None = None) -> CorridorGeometry:
    """Read the geometry the corridor importer stored in the corridor file's ``sumo`` section."""
    from controller.config.text_file import TextFileError, read_text

    try:
        doc = json.loads(read_text(str(path), 1048576, "corridor file"))
    except (TextFileError, ValueError, RecursionError) as e:
        why = e if not isinstance(e, RecursionError) else "lists or objects nested too deep to read"
        raise ArterialMetricsError("cannot read corridor file %s: %s" % (path, why)) from None
    items = doc.get("corridors") if isinstance(doc, dict) else None
    items = [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []
    if corridor_id is not None:
        items = [c for c in items if c.get("id") == corridor_id]
    if not items:
        raise ArterialMetricsError("corridor file %s has no corridor%s" % (
            path, " %r" % corridor_id if corridor_id else ""))
    c = items[0]
    sumo = c.get("sumo") or {}
    missing = [k for k in ("tls", "pieces", "stop_lines_m", "through_links") if not isinstance(sumo, dict) or k not in sumo]
    if missing:
        raise ArterialMetricsError("corridor %s in %s has no SUMO geometry (sumo.%s missing): write it with "
                                   "`ampelwerk sim import SCENARIO --out DIR --corridor auto`"
                                   % (_short(c.get("id")), path, ", sumo.".join(missing)))
    try:
        return _geometry(c, sumo)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as e:
        # the importer wrote this section; an edit broke its shape
        raise ArterialMetricsError("corridor %s in %s: the SUMO geometry (sumo section) is damaged (%s: %s): write "
                                   "it again with `ampelwerk sim import SCENARIO --out DIR --corridor auto`"
                                   % (_short(c.get("id")), path, type(e).__name__, str(e)[:200])) from None


def _short(v: object) -> str:
    """A value of the file as it reads, cut to a line: an id edited into a whole list stays readable."""
    r = repr(v)
    return r if len(r) <= 60 else r[:50] + "... (%d characters)" % len(r)


def _geometry(c: dict, sumo: dict) -> CorridorGeometry:
    """The geometry of one corridor's sumo section (raises on a section of the wrong shape)."""
    dirs = {}
    for d in DIRECTIONS:
        offsets, lengths, order, internal = {}, {}, [], set()
        acc = 0.0
        for pid, length, is_internal in sumo["pieces"][d]:
            if not isinstance(pid, str) or isinstance(length, bool) or not 0 <= float(length) < 1e6:
                raise ValueError("piece %r of %r m is not an edge id with a length in metres" % (pid, length))
            offsets[pid] = acc
            lengths[pid] = float(length)
            order.append(pid)
            if is_internal:
                internal.add(pid)
            acc += float(length)
        tls = list(sumo["tls"]) if d == "forward" else list(reversed(sumo["tls"]))
        dirs[d] = DirectionGeometry(offsets, lengths, order, internal, list(sumo["stop_lines_m"][d]),
                                    list(sumo.get("centres_m", {}).get(d, sumo["stop_lines_m"][d])),
                                    [list(x) for x in sumo["through_links"][d]], tls)
    return CorridorGeometry(c.get("id", ""), c.get("main_direction", "forward"), list(sumo["tls"]),
                            [i["controller"] for i in c.get("intersections", [])],
                            [i.get("through_groups", {}) for i in c.get("intersections", [])],
                            [float(x["speed_mps"]) for x in c.get("links", [])], dirs)


def corridor_edges(geo: CorridorGeometry) -> list[str]:
    """Every edge (normal and internal) of both directions, for SUMO's FCD edge filter."""
    return [pid for d in DIRECTIONS for pid in geo.directions[d].order]


def edges_missing_from(geo: CorridorGeometry, sumocfg: Path) -> list[str]:
    """The corridor's edges (normal and internal) that the scenario's net does not have: [] if it is its net."""
    from sim.scenarios import read_sumocfg

    want = set(corridor_edges(geo))
    for _ev, el in ET.iterparse(str(read_sumocfg(Path(sumocfg)).net_file)):
        if el.tag == "edge":
            want.discard(el.get("id"))
            if not want:
                break
        el.clear()
    return sorted(want)


# sample: (time s, distance along the direction's path m, speed m/s)
Sample = tuple[float, float, float]


def read_fcd(fcd: Path, geo: CorridorGeometry) -> dict[str, dict[str, list[Sample]]]:
    """{direction: {vehicle id: samples in time order}} of every FCD sample on a corridor piece."""
    lookup: dict[str, tuple[str, float]] = {}
    for d in DIRECTIONS:
        for pid, off in geo.directions[d].offsets.items():
            lookup[pid] = (d, off)
    out: dict[str, dict[str, list[Sample]]] = {d: {} for d in DIRECTIONS}
    try:
        t = 0.0
        for event, el in ET.iterparse(str(fcd), events=("start", "end")):
            if event == "start":
                if el.tag == "timestep":
                    t = float(el.get("time", 0))
                continue
            if el.tag == "vehicle":
                lane = el.get("lane", "")
                edge = lane.rsplit("_", 1)[0]
                hit = lookup.get(edge)
                if hit is not None:
                    d, off = hit
                    out[d].setdefault(el.get("id", ""), []).append(
                        (t, off + float(el.get("pos", 0)), float(el.get("speed", 0))))
            elif el.tag == "timestep":
                el.clear()
    except FileNotFoundError:
        raise ArterialMetricsError("%s not found: run with a corridor file (RunOptions.corridor_file)" % fcd) from None
    except ET.ParseError as e:
        raise ArterialMetricsError("%s is not complete XML (%s): the run was interrupted" % (fcd, e)) from None
    return out


def count_stops(samples: list[Sample]) -> int:
    """Transitions into halting (speed < 0.1 m/s); a first sample that is halting counts as one."""
    stops = 0
    moving = True
    for _t, _s, v in samples:
        halting = v < HALTING_SPEED_MPS
        if halting and moving:
            stops += 1
        moving = not halting
    return stops


def _crossing(samples: list[Sample], x: float, step_s: float, at_end: bool) -> float | None:
    """Time the vehicle passes distance x: interpolated, or extrapolated by one step's travel at most."""
    for (t0, s0, _v0), (t1, s1, _v1) in zip(samples, samples[1:]):
        if s0 < x <= s1 and t1 > t0:
            return t0 + (t1 - t0) * (x - s0) / (s1 - s0)
    if not samples:
        return None
    t, s, v = samples[-1] if at_end else samples[0]
    gap = (x - s) if at_end else (s - x)
    if gap < 0 and not at_end:
        return None  # first seen before x but never crossed it
    if gap < 0:
        return None
    reach = max(v, 0.0) * step_s + 1.0
    if gap > reach:
        return None
    return t + gap / max(v, 1.0) if at_end else t - gap / max(v, 1.0)


def direction_metrics(tracks: dict[str, list[Sample]], geo: DirectionGeometry, step_s: float) -> dict:
    """``full`` and ``inner`` figures of one direction (module header)."""
    first, last = geo.first_edge(), geo.last_edge()
    first_end = geo.offsets[first] + geo.lengths[first]
    last_start = geo.offsets[last]
    x1 = geo.after_first_junction_m()
    xn = geo.stop_lines_m[-1]
    full_tt, full_stops, inner_tt, inner_stops = [], [], [], []
    for samples in tracks.values():
        if samples[0][1] <= first_end and samples[-1][1] >= last_start:
            full_tt.append(samples[-1][0] - samples[0][0])
            full_stops.append(count_stops(samples))
        t_in = _crossing(samples, x1, step_s, at_end=False)
        t_out = _crossing(samples, xn, step_s, at_end=True)
        if t_in is not None and t_out is not None and t_out > t_in:
            inner_tt.append(t_out - t_in)
            inner_stops.append(count_stops([s for s in samples if x1 <= s[1] <= xn]))
    return {"full": _figures(full_tt, full_stops, geo.length_m), "inner": _figures(inner_tt, inner_stops, xn - x1)}


def _figures(tt: list[float], stops: list[int], length_m: float) -> dict:
    n = len(tt)
    return {
        "vehicles": n,
        "stops_per_vehicle": mean(stops) if n else None,
        "share_stopped": sum(1 for s in stops if s > 0) / n if n else None,
        "travel_time_s": mean(tt) if n else None,
        "section_m": round(length_m, 1),
    }


def arterial_metrics(fcd: Path, geo: CorridorGeometry, step_s: float = 1.0) -> dict:
    """The summary.json section: per direction ``full`` and ``inner`` figures, plus the corridor's layout."""
    tracks = read_fcd(fcd, geo)
    out: dict = {"corridor": geo.id, "main_direction": geo.main_direction, "tls": geo.tls,
                 "stop_definition": "speed < %g m/s after moving (SUMO halting, as tripinfo waitingCount)"
                                    % HALTING_SPEED_MPS}
    for d in DIRECTIONS:
        out[d] = direction_metrics(tracks[d], geo.directions[d], step_s)
    return out
