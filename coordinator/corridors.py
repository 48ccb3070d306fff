"""Corridor files: load and validate (format ``ampelwerk-corridor/1``). Host only.

A corridor is an ordered line of intersections (forward order) joined by links,
with the bounds of the common cycle and, per intersection, the controller id,
its intersection config, the coordinated stage and the through signal groups per
direction. Units: ms, metres, metres per second. The layout is documented in
docs/coordination.md. Every problem in a file is reported at once, each naming
the field, the value and what is allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.config.loading import ConfigError, load_file
from controller.config.schema import CYCLE_RANGE
from controller.coordination.message_fields import ID_MAX_CHARS
from controller.intersection import Intersection

CORRIDOR_FORMAT = "ampelwerk-corridor/1"
DIRECTIONS = ("forward", "backward")
CYCLE_LIMITS_MS = CYCLE_RANGE  # a controller refuses plans with cycles outside this
LINK_LENGTH_LIMITS_M = (1.0, 20000.0)
SPEED_LIMITS_MPS = (1.0, 40.0)
CORRIDOR_FILE_MAX_BYTES = 16 * 1048576  # a city: 10,000 controllers in corridors of 5 take 2 MB (compact JSON)
NAME_MAX_CHARS = 32  # a shard's or district's name
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class CorridorError(ValueError):
    """A corridor file with problems; ``errors`` lists every one."""

    def __init__(self, errors: list[str], source: str = "") -> None:
        self.errors = errors
        self.source = source
        head = "invalid corridor file%s: %d problem%s" % (
            " " + source if source else "", len(errors), "" if len(errors) == 1 else "s")
        super().__init__(head + "\n  " + "\n  ".join(errors))


@dataclass
class Link:
    """The road between two consecutive intersections (forward order)."""

    length_m: float
    speed_mps: float

    @property
    def travel_ms(self) -> float:
        """Free-flow travel time along the link."""
        return 1000.0 * self.length_m / self.speed_mps


@dataclass
class CorridorIntersection:
    """One controller on a corridor: its config, coordinated stage and through groups."""

    controller_id: str
    config_path: Path
    ix: Intersection
    coordinated_stage: str
    through_groups: dict[str, list[str]]

    @property
    def coordinated_stage_index(self) -> int:
        return self.ix.stage_ids.index(self.coordinated_stage)

    def stage_order(self) -> list[int]:
        """Stage indices in the order they run, starting with the coordinated stage."""
        seq = list(self.ix.sequence)
        k = seq.index(self.coordinated_stage_index)
        return seq[k:] + seq[:k]


@dataclass
class Corridor:
    """A coordinated corridor: intersections in forward order, N-1 links, cycle bounds."""

    id: str
    cycle_min_ms: int
    cycle_max_ms: int
    main_direction: str
    intersections: list[CorridorIntersection]
    links: list[Link]
    extra: dict[str, Any] = field(default_factory=dict)
    shard: str = ""  # the coordinator process that owns it ("": any; coordinator/shards.py)
    district: str = ""  # the district broker of its controllers ("": the central one; coordinator/broker_config.py)

    def positions_m(self) -> list[float]:
        """Distance of each intersection from the first, forward order."""
        x = [0.0]
        for link in self.links:
            x.append(x[-1] + link.length_m)
        return x

    def arrival_ms(self) -> list[float]:
        """Free-flow travel time from the first intersection to each one (forward)."""
        t = [0.0]
        for link in self.links:
            t.append(t[-1] + link.travel_ms)
        return t

    def controller_ids(self) -> list[str]:
        return [i.controller_id for i in self.intersections]


def _is_name(v: Any) -> bool:
    """A shard or district name: 1..NAME_MAX_CHARS letters, digits, _ and -."""
    return isinstance(v, str) and 0 < len(v) <= NAME_MAX_CHARS and all(ch in _NAME_CHARS for ch in v)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_range(errors: list[str], where: str, name: str, v: Any, lo: float, hi: float, unit: str,
                 integer: bool = False) -> bool:
    if not _number(v) or (integer and not isinstance(v, int)):
        errors.append("%s: %s=%r is not %s (allowed %g..%g %s)" % (
            where, name, v, "an integer" if integer else "a number", lo, hi, unit))
        return False
    if not lo <= v <= hi:
        errors.append("%s: %s=%r is outside the allowed range %g..%g %s" % (where, name, v, lo, hi, unit))
        return False
    return True


def minimum_cycle_ms(ci: CorridorIntersection) -> int:
    """Shortest cycle the intersection can run: every stage's minimum green plus the transition after it."""
    ix = ci.ix
    order = ci.stage_order()
    total = 0
    for k, s in enumerate(order):
        total += ix.stage_min_green_ms(s) + ix.transition_ms(s, order[(k + 1) % len(order)])
    return total


def _intersection(raw: Any, where: str, base: Path, errors: list[str]) -> CorridorIntersection | None:
    if not isinstance(raw, dict):
        errors.append("%s: %r is not an object with controller, config, coordinated_stage, through_groups" % (where, raw))
        return None
    known = {"controller", "config", "coordinated_stage", "through_groups"}
    for k in raw:
        if k not in known:
            errors.append("%s: unknown field %r (allowed: %s)" % (where, k, ", ".join(sorted(known))))
    cid = raw.get("controller")
    if not isinstance(cid, str) or not cid or "/" in cid or "+" in cid or "#" in cid:
        errors.append("%s: controller=%r is not a controller id (non-empty text without / + #)" % (where, cid))
        cid = None
    else:
        where = "%s (controller %s)" % (where, cid)
    cfg = raw.get("config")
    ix = None
    path = None
    if not isinstance(cfg, str) or not cfg:
        errors.append("%s: config=%r is not a path to an intersection config" % (where, cfg))
    else:
        path = (base / cfg) if not Path(cfg).is_absolute() else Path(cfg)
        try:
            ix = load_file(str(path))
        except ConfigError as e:
            errors.extend("%s: config %s: %s" % (where, cfg, x) for x in e.errors)
        if ix is not None and cid is not None and ix.id != cid:
            errors.append("%s: config %s has id=%r but controller=%r (they must match: the id is the MQTT user)" % (
                where, cfg, ix.id, cid))
        if ix is not None:
            for what, x in [("id", ix.id)] + [(kind, i) for kind, ids in (
                    ("signal group", ix.group_ids), ("stage", ix.stage_ids), ("detector", ix.detector_ids)) for i in ids]:
                if len(x) > ID_MAX_CHARS:
                    errors.append("%s: config %s: %s id %r is %d characters long; reports and plans carry at most %d"
                                  % (where, cfg, what, x[:20] + "...", len(x), ID_MAX_CHARS))
    stage = raw.get("coordinated_stage")
    if not isinstance(stage, str):
        errors.append("%s: coordinated_stage=%r is not a stage id" % (where, stage))
    elif ix is not None and stage not in ix.stage_ids:
        errors.append("%s: coordinated_stage=%r is not a stage of %s (stages: %s)" % (
            where, stage, cfg, ", ".join(ix.stage_ids)))
        stage = None
    elif ix is not None and ix.stage_ids.index(stage) not in list(ix.sequence):
        errors.append("%s: coordinated_stage=%r is not in the sequence of %s" % (where, stage, cfg))
    tg = raw.get("through_groups")
    through: dict[str, list[str]] = {}
    if not isinstance(tg, dict):
        errors.append("%s: through_groups=%r is not an object {\"forward\": [groups], \"backward\": [groups]}" % (where, tg))
    else:
        for d in tg:
            if d not in DIRECTIONS:
                errors.append("%s: through_groups has direction %r (allowed: forward, backward)" % (where, d))
        for d in DIRECTIONS:
            groups = tg.get(d)
            if not isinstance(groups, list) or not groups or not all(isinstance(g, str) for g in groups):
                errors.append("%s: through_groups.%s=%r is not a non-empty list of signal group ids" % (where, d, groups))
                continue
            through[d] = groups
            if ix is None:
                continue
            for g in groups:
                if g not in ix.group_index:
                    errors.append("%s: through_groups.%s has %r, not a signal group of %s (groups: %s)" % (
                        where, d, g, cfg, ", ".join(ix.group_ids)))
                elif isinstance(stage, str) and stage in ix.stage_ids and \
                        ix.group_index[g] not in ix.stage_groups[ix.stage_ids.index(stage)]:
                    errors.append("%s: through_groups.%s has %r, which is not green in coordinated_stage %r" % (
                        where, d, g, stage))
    if cid is None or ix is None or not isinstance(stage, str) or stage not in ix.stage_ids or len(through) != 2:
        return None
    return CorridorIntersection(cid, path, ix, stage, through)


def parse_corridors(raw: Any, base: Path, source: str = "") -> list[Corridor]:
    """Validate a parsed corridor file (dict); configs are read relative to ``base``."""
    errors: list[str] = []
    if not isinstance(raw, dict):
        raise CorridorError(["the file is not a JSON object"], source)
    if raw.get("format") != CORRIDOR_FORMAT:
        errors.append("format=%r, expected %r" % (raw.get("format"), CORRIDOR_FORMAT))
    items = raw.get("corridors")
    if not isinstance(items, list) or not items:
        errors.append("corridors=%r is not a non-empty list" % (items,))
        raise CorridorError(errors, source)
    result = []
    ids: set[str] = set()
    controllers: dict[str, str] = {}
    for n, c in enumerate(items):
        where = "corridors[%d]" % n
        if not isinstance(c, dict):
            errors.append("%s: %r is not an object" % (where, c))
            continue
        cid = c.get("id")
        if not isinstance(cid, str) or not cid:
            errors.append("%s: id=%r is not a non-empty string" % (where, cid))
            cid = "?"
        elif cid in ids:
            errors.append("%s: id=%r is used by another corridor (ids must be unique)" % (where, cid))
        elif len(cid) > ID_MAX_CHARS:
            errors.append("%s: id=%r is %d characters long; plans carry at most %d" % (
                where, cid[:20] + "...", len(cid), ID_MAX_CHARS))
        ids.add(cid)
        where = "corridor %r" % cid
        bounds = c.get("cycle_ms")
        lo = hi = None
        if not isinstance(bounds, dict):
            errors.append("%s: cycle_ms=%r is not an object {\"min\": ms, \"max\": ms}" % (where, bounds))
        else:
            ok1 = _check_range(errors, where, "cycle_ms.min", bounds.get("min"), *CYCLE_LIMITS_MS, "ms", integer=True)
            ok2 = _check_range(errors, where, "cycle_ms.max", bounds.get("max"), *CYCLE_LIMITS_MS, "ms", integer=True)
            if ok1 and ok2:
                lo, hi = bounds["min"], bounds["max"]
                if lo > hi:
                    errors.append("%s: cycle_ms.min=%d is above cycle_ms.max=%d" % (where, lo, hi))
        main = c.get("main_direction", "forward")
        if main not in DIRECTIONS:
            errors.append("%s: main_direction=%r is not forward or backward" % (where, main))
        raw_ix = c.get("intersections")
        inters: list[CorridorIntersection] = []
        if not isinstance(raw_ix, list) or not raw_ix:
            errors.append("%s: intersections=%r is not a non-empty list" % (where, raw_ix))
            raw_ix = []
        complete = True
        for k, r in enumerate(raw_ix):
            ci = _intersection(r, "%s: intersections[%d]" % (where, k), base, errors)
            if ci is None:
                complete = False
                continue
            if ci.controller_id in controllers:
                errors.append("%s: controller %r is already on corridor %r (a controller follows one plan)" % (
                    where, ci.controller_id, controllers[ci.controller_id]))
            controllers[ci.controller_id] = cid
            inters.append(ci)
            if hi is not None:
                need = minimum_cycle_ms(ci)
                if need > hi:
                    errors.append("%s: controller %s needs a cycle of at least %d ms (minimum greens + transitions) "
                                  "but cycle_ms.max=%d" % (where, ci.controller_id, need, hi))
        raw_links = c.get("links")
        links: list[Link] = []
        if not isinstance(raw_links, list):
            errors.append("%s: links=%r is not a list of {length_m, speed_mps}" % (where, raw_links))
        else:
            if len(raw_links) != max(len(raw_ix) - 1, 0):
                errors.append("%s: links has %d entries, expected %d (one between each pair of consecutive "
                              "intersections)" % (where, len(raw_links), max(len(raw_ix) - 1, 0)))
            for k, lk in enumerate(raw_links):
                w = "%s: links[%d]" % (where, k)
                if not isinstance(lk, dict):
                    errors.append("%s: %r is not an object {length_m, speed_mps}" % (w, lk))
                    continue
                ok1 = _check_range(errors, w, "length_m", lk.get("length_m"), *LINK_LENGTH_LIMITS_M, "m")
                ok2 = _check_range(errors, w, "speed_mps", lk.get("speed_mps"), *SPEED_LIMITS_MPS, "m/s")
                if ok1 and ok2:
                    links.append(Link(float(lk["length_m"]), float(lk["speed_mps"])))
        names = {}
        for key in ("shard", "district"):
            v = c.get(key, "")
            if v != "" and not _is_name(v):
                errors.append("%s: %s=%r is not a name (1..%d of the letters a-z A-Z 0-9 _ -; it goes into MQTT "
                              "user names and file names)" % (where, key, v, NAME_MAX_CHARS))
                v = ""
            names[key] = v
        known = {"id", "cycle_ms", "main_direction", "intersections", "links", "sumo", "shard", "district"}
        for k in c:
            if k not in known:
                errors.append("%s: unknown field %r (allowed: %s)" % (where, k, ", ".join(sorted(known))))
        if complete and lo is not None and len(links) == len(inters) - 1 and main in DIRECTIONS:
            result.append(Corridor(cid, lo, hi, main, inters, links, {"sumo": c.get("sumo")}, names["shard"],
                                   names["district"]))
    if errors:
        raise CorridorError(errors, source)
    return result


def load_corridors(path: str | Path) -> list[Corridor]:
    """Read and validate a corridor file; CorridorError lists every problem."""
    from controller.config.text_file import TextFileError, read_text

    p = Path(path)
    try:
        text = read_text(str(p), CORRIDOR_FILE_MAX_BYTES, "corridor file")  # a regular file of UTF-8 text
    except TextFileError as e:
        raise CorridorError([str(e)], str(p)) from None
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise CorridorError(["not valid JSON: %s" % e], str(p)) from None
    except RecursionError:
        raise CorridorError(["not valid JSON for a corridor file: lists or objects nested too deep to read"],
                            str(p)) from None
    return parse_corridors(raw, p.parent, str(p))
