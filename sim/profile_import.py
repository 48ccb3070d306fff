"""A regional profile applied to one imported traffic light. Host only.

`sim import --profile NAME` (net_import.build_config): every vehicle group gets
its approach speed (the fastest of its incoming lanes, km/h), the profile's yellow
for that speed, a min green the profile allows and (through the profile's own
defaults, config/profiles.py) its red-amber and minimum red; intergreens come from
the junction's geometry (sim/intergreen_geometry.py) instead of the program.
"""

from __future__ import annotations

from typing import Any

from controller.config.profiles import PROFILES, yellow_for_speed_ms
from sim import intergreen_geometry as geo


def link_paths(conns: dict[int, list[Any]], links: list[int], pedestrian: bool,
               internal: tuple[dict, dict]) -> list[geo.LinkPath]:
    """The paths through the junction of a group's links: internal lanes chained, or the crossing walked."""
    shapes, nxt = internal
    out = []
    for i in links:
        for c in conns.get(i, []):
            if pedestrian:
                lanes = [ln.getID() for ln in (c.getFromLane(), c.getToLane())
                         if ln.getEdge().getFunction() == "crossing"]
                shape = shapes.get(lanes[0], []) if lanes else []
                speed = 0.0
            else:
                lane = c.getViaLaneID()
                shape = []
                seen = set()
                while lane and lane in shapes and lane not in seen:
                    seen.add(lane)
                    part = shapes[lane]
                    shape += part[1:] if shape and part and part[0] == shape[-1] else part
                    lane = nxt.get(lane)
                speed = c.getFromLane().getSpeed()
            if len(shape) >= 2:
                out.append(geo.LinkPath(i, shape, pedestrian, c.getDirection() not in ("s",), speed))
    return out


def apply_profile(profile: str, tls_id: str, a: Any, groups: list[dict], conns: dict[int, list[Any]],
                  internal: tuple[dict, dict], red_clearance_ms: int, notes: list[str],
                  rows: list[geo.PairRow]) -> dict[str, dict[str, int]]:
    """Set the groups' timings by the profile; return {clearing: {entering: ms}}, rows appended."""
    p = PROFILES[profile]
    by_id = {g["id"]: g for g in groups}
    paths = {}
    for g in groups:
        ped = g.get("kind") == "pedestrian"
        paths[g["id"]] = link_paths(conns, a.group_links[g["id"]], ped, internal)
        if ped:
            g["walk_ms"] = max(g["walk_ms"], p["walk_ms"][1])
            continue
        program_yellow = g.get("yellow_ms") or 0  # what the net's own program shows
        speeds = [lp.approach_speed_m_s for lp in paths[g["id"]]]
        if speeds:
            kmh = max(10, min(130, int(round(max(speeds) * 3.6))))
            g["approach_speed_kmh"] = kmh
            g["yellow_ms"] = yellow_for_speed_ms(profile, kmh)
        else:
            g["yellow_ms"] = yellow_for_speed_ms(profile, None)
            notes.append("group %s: no path through the junction found; the profile's default yellow" % g["id"])
        _keep_program_yellow(g, program_yellow, p["yellow_ms"][2], notes)
        lo = p["min_green_ms"][1]
        if g["min_green_ms"] < lo:
            g["min_green_ms"] = lo
            g["max_green_ms"] = max(g["max_green_ms"], lo)
    out: dict[str, dict[str, int]] = {}
    for x, y in a.conflicts:
        for c, e in ((x, y), (y, x)):
            gc = by_id[c]
            clearance = gc["ped_clearance_ms"] if gc.get("kind") == "pedestrian" else gc["yellow_ms"]
            yellow_s = gc.get("yellow_ms", 0) / 1000.0
            row = geo.group_pair_intergreen(profile, tls_id, c, e, paths[c], paths[e], yellow_s,
                                            clearance + red_clearance_ms)
            rows.append(row)
            out.setdefault(c, {})[e] = row.intergreen_ms
    return out


def _keep_program_yellow(g: dict, program_yellow: int, profile_max: int, notes: list[str]) -> None:
    """Never a shorter yellow than the net's own program shows: the program's designer may have had reasons
    the approach speed does not show (grade, trucks, sight distance), and SUMO's drivers react to it. Up to
    the profile's maximum; above that the maximum, with a note."""
    keep = min(program_yellow, profile_max)
    if keep > g["yellow_ms"]:
        notes.append("group %s: yellow %d ms kept from the program (the profile's for the approach speed: %d ms)"
                     % (g["id"], keep, g["yellow_ms"]))
        g["yellow_ms"] = keep
    if program_yellow > profile_max:
        notes.append("group %s: the program's yellow %d ms is above the profile's maximum; %d ms"
                     % (g["id"], program_yellow, g["yellow_ms"]))
