"""Intergreens from a junction's geometry, by a regional profile's formula. Host only.

`ampelwerk sim import --profile NAME` uses this instead of copying the program's
yellow and all-red. For every ordered pair of conflicting signal groups (clearing
group c, entering group e) and every pair of their links, the conflict point is
where the two links' paths through the junction cross (the internal lanes'
shapes from the net file; a pedestrian link's path is its crossing). From it:

* s_c: the clearing distance, from the clearing link's stop line (the start of
  its internal lane) along its path to the conflict point; a pedestrian may be
  anywhere on the crossing, so the longer way to the point from either kerb;
* s_e: the entry distance, from the entering link's stop line to the point.

RiLSA (de-rilsa, and uk and custom with their own constants, PROFILE_CONSTANTS):
    t_z = t_u + t_c - t_e,  t_c = (s_c + l_veh) / v_c,  t_e = s_e / v_e
rounded up to a whole second; t_u, the crossing time at the end of green, is
the clearing group's yellow for motor vehicles and 0 for pedestrians.
ITE (us-mutcd): yellow + all-red with all-red = (W + L) / v, W = s_c, L the
vehicle length and v the approach speed, rounded up to 0.1 s; no entry credit.

The group pair's intergreen is the largest over its link pairs, and never below
the clearing group's clearance + red clearance (the core's load check) nor the
profile's least intergreen. A conflicting pair without a conflict point (the
program keeps them apart, the net does not make them foes) gets that floor.
docs/sim-import.md and docs/profiles/ give the constants' sources and a worked
example. Units: m, m/s, s here; ms in the result.
"""

from __future__ import annotations

import csv
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from controller.config.schema import INTERGREEN_MAX_MS

Point = tuple[float, float]

# Per profile: formula, vehicle length (m), clearing speeds (m/s) straight / turning,
# entering speed (m/s), pedestrian clearing speed (m/s), least intergreen (ms).
PROFILE_CONSTANTS = {
    # RiLSA (FGSV 2015), 2.5.3: l_veh 6 m; clearing 10 m/s straight, 7 m/s turning;
    # entering 11.1 m/s (40 km/h) for motor vehicles, 0 s for pedestrians; pedestrians
    # clear at 1.2 m/s
    "de-rilsa": {"formula": "rilsa", "l_veh_m": 6.0, "v_clear_straight": 10.0, "v_clear_turn": 7.0,
                 "v_enter": 11.1, "v_ped": 1.2, "min_intergreen_ms": 0},
    # ITE: all-red (W + L) / v with L = 20 ft (6.1 m), v the approach speed; pedestrians 3.5 ft/s (1.07 m/s)
    "us-mutcd": {"formula": "ite", "l_veh_m": 6.1, "v_clear_straight": 0.0, "v_clear_turn": 0.0,
                 "v_enter": 0.0, "v_ped": 1.07, "min_intergreen_ms": 0},
    # UK: the RiLSA form with the same speeds, and no intergreen below 5 s (the DfT's
    # usual least intergreen between conflicting traffic streams)
    "uk": {"formula": "rilsa", "l_veh_m": 6.0, "v_clear_straight": 10.0, "v_clear_turn": 7.0,
           "v_enter": 11.1, "v_ped": 1.2, "min_intergreen_ms": 5000},
    "custom": {"formula": "rilsa", "l_veh_m": 6.0, "v_clear_straight": 10.0, "v_clear_turn": 7.0,
               "v_enter": 11.1, "v_ped": 1.2, "min_intergreen_ms": 0},
}


@dataclass
class LinkPath:
    """One link's way through the junction: its polyline, whether a pedestrian walks it, and its speed."""

    link: int
    shape: list[Point]
    pedestrian: bool
    turning: bool
    approach_speed_m_s: float


@dataclass
class PairRow:
    """What one ordered pair of conflicting groups' intergreen was made of (the worst link pair)."""

    tls_id: str
    clearing: str
    entering: str
    clearing_link: int | None
    entering_link: int | None
    s_c_m: float | None
    v_c_m_s: float | None
    l_veh_m: float
    t_u_s: float
    s_e_m: float | None
    v_e_m_s: float | None
    formula_s: float | None
    intergreen_ms: int
    note: str


def read_internal_lanes(net_file: Path) -> tuple[dict[str, list[Point]], dict[str, str]]:
    """(internal lane id -> shape, internal lane id -> the next internal lane of its link, if any)."""
    shapes: dict[str, list[Point]] = {}
    nxt: dict[str, str] = {}
    for _, el in ET.iterparse(str(net_file)):
        if el.tag == "lane" and el.get("id", "").startswith(":"):
            pts = []
            for xy in el.get("shape", "").split():
                x, y = xy.split(",")[:2]
                pts.append((float(x), float(y)))
            shapes[el.get("id")] = pts
        elif el.tag == "connection" and el.get("from", "").startswith(":") and el.get("via"):
            nxt["%s_%s" % (el.get("from"), el.get("fromLane"))] = el.get("via")
    return shapes, nxt


def _length(shape: list[Point]) -> float:
    return sum(math.dist(shape[k], shape[k + 1]) for k in range(len(shape) - 1))


def _segment_hit(p: Point, q: Point, r: Point, s: Point) -> tuple[float, float] | None:
    """Where segments p-q and r-s cross: (fraction along p-q, fraction along r-s), or None."""
    d1 = (q[0] - p[0], q[1] - p[1])
    d2 = (s[0] - r[0], s[1] - r[1])
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-12:
        return None
    w = (r[0] - p[0], r[1] - p[1])
    t = (w[0] * d2[1] - w[1] * d2[0]) / den
    u = (w[0] * d1[1] - w[1] * d1[0]) / den
    if -1e-9 <= t <= 1 + 1e-9 and -1e-9 <= u <= 1 + 1e-9:
        return t, u
    return None


def conflict_point(a: list[Point], b: list[Point], merge_m: float = 1.0) -> tuple[float, float] | None:
    """Distances along a and along b to the first point (along a) where the two paths cross.

    Paths that do not cross but end within merge_m of each other (two streams merging
    into one lane) meet at their ends. None: no conflict point."""
    run_a = 0.0
    for k in range(len(a) - 1):
        seg_a = math.dist(a[k], a[k + 1])
        best = None
        run_b = 0.0
        for m in range(len(b) - 1):
            seg_b = math.dist(b[m], b[m + 1])
            hit = _segment_hit(a[k], a[k + 1], b[m], b[m + 1])
            if hit is not None and (best is None or hit[0] < best[0]):
                best = (hit[0], run_b + hit[1] * seg_b)
            run_b += seg_b
        if best is not None:
            return run_a + best[0] * seg_a, best[1]
        run_a += seg_a
    if a and b and math.dist(a[-1], b[-1]) <= merge_m:
        return _length(a), _length(b)
    return None


def pair_time_s(profile: str, clear: LinkPath, enter: LinkPath, s_c: float, s_e: float,
                yellow_s: float) -> tuple[float, float, float, float, float]:
    """(formula result in s, v_c, t_u, v_e, l_veh) for one link pair with its conflict point."""
    k = PROFILE_CONSTANTS[profile]
    if clear.pedestrian:
        v_c, l_veh, t_u = k["v_ped"], 0.0, 0.0
    elif k["formula"] == "ite":
        v_c, l_veh, t_u = clear.approach_speed_m_s, k["l_veh_m"], yellow_s
    else:
        v_c = k["v_clear_turn"] if clear.turning else k["v_clear_straight"]
        l_veh, t_u = k["l_veh_m"], yellow_s
    t_c = (s_c + l_veh) / v_c
    if k["formula"] == "ite" or enter.pedestrian:
        v_e, t_e = 0.0, 0.0  # ITE gives no entry credit; RiLSA takes t_e = 0 for entering pedestrians
    else:
        v_e = k["v_enter"]
        t_e = s_e / v_e
    return t_u + t_c - t_e, v_c, t_u, v_e, l_veh


def _round_ms(profile: str, t_s: float) -> int:
    # RiLSA rounds intergreens up to whole seconds; ITE intervals go up to 0.1 s
    step = 100 if PROFILE_CONSTANTS[profile]["formula"] == "ite" else 1000
    return int(math.ceil(round(t_s * 1000, 6) / step)) * step


def group_pair_intergreen(profile: str, tls_id: str, clearing: str, entering: str, clear_paths: list[LinkPath],
                          enter_paths: list[LinkPath], yellow_s: float, floor_ms: int) -> PairRow:
    """The intergreen clearing -> entering: the worst of its link pairs, at least floor_ms."""
    floor_ms = max(floor_ms, PROFILE_CONSTANTS[profile]["min_intergreen_ms"])
    best: PairRow | None = None
    for c in clear_paths:
        for e in enter_paths:
            hit = conflict_point(c.shape, e.shape)
            if hit is None:
                continue
            s_c, s_e = hit
            if c.pedestrian:
                s_c = max(s_c, _length(c.shape) - s_c)  # from whichever kerb is farther
            t, v_c, t_u, v_e, l_veh = pair_time_s(profile, c, e, s_c, s_e, yellow_s)
            row = PairRow(tls_id, clearing, entering, c.link, e.link, s_c, v_c, l_veh, t_u, s_e, v_e or None, t,
                          _round_ms(profile, t), "")
            if best is None or row.formula_s > best.formula_s:
                best = row
    if best is None:
        return PairRow(tls_id, clearing, entering, None, None, None, None, 0.0, 0.0, None, None, None, floor_ms,
                       "no conflict point (not foes in the net): clearance + red clearance")
    if best.intergreen_ms < floor_ms:
        best.note = "raised from %d ms to the clearing group's clearance + red clearance" % best.intergreen_ms
        best.intergreen_ms = floor_ms
    best.intergreen_ms = min(best.intergreen_ms, INTERGREEN_MAX_MS)
    return best


CSV_FIELDS = ("tls_id", "clearing", "entering", "clearing_link", "entering_link", "s_c_m", "v_c_m_s", "l_veh_m",
              "t_u_s", "s_e_m", "v_e_m_s", "formula_s", "intergreen_ms", "note")


def _cell(v: object) -> str:
    if v is None:
        return ""
    return "%.2f" % v if isinstance(v, float) else str(v)


def write_csv(rows: list[PairRow], path: Path) -> None:
    """intergreens.csv: one row per ordered conflicting pair, the inputs the formula used and its result."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_FIELDS)
        for r in rows:
            w.writerow([_cell(getattr(r, name)) for name in CSV_FIELDS])


def format_table(rows: list[PairRow]) -> str:
    """The rows as a plain text table (what `sim import --profile` prints)."""
    head = ("pair", "links", "s_c m", "v_c m/s", "l m", "t_u s", "s_e m", "v_e m/s", "formula s", "intergreen ms")
    lines = ["%-12s %-8s %7s %7s %5s %5s %7s %7s %9s %13s" % head]
    for r in rows:
        lines.append("%-12s %-8s %7s %7s %5s %5s %7s %7s %9s %13d%s" % (
            "%s->%s" % (r.clearing, r.entering),
            "" if r.clearing_link is None else "%d->%d" % (r.clearing_link, r.entering_link),
            _cell(r.s_c_m), _cell(r.v_c_m_s), _cell(r.l_veh_m), _cell(r.t_u_s), _cell(r.s_e_m), _cell(r.v_e_m_s),
            _cell(r.formula_s), r.intergreen_ms, "  (%s)" % r.note if r.note else ""))
    return "\n".join(lines)
