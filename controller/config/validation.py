# Validation of an intersection config (the parsed JSON dict). Runs on the board.
# `validate(raw)` returns a list of every problem found, each naming the field,
# the value, the allowed range and the unit; an empty list means the config is
# safe to build (validate_fields: the fields alone, before the model is built). Nothing here raises on bad input, and nothing here is on the
# tick path. Defaults and ranges live in config/schema.py, shared with
# intersection.py, so the documented limits and the checked limits are one.
# A board may unload this module once its config is loaded.

from controller.config.schema import (
    ADAPTIVE,
    CYCLE_RANGE,
    DETECTOR_IDLE,
    DETECTOR_KINDS,
    DIAGNOSTICS,
    DIAGNOSTICS_WITNESS,
    DISTANCE_MAX_M,
    FLASH_MODES,
    FORMAT,
    INTERGREEN_MAX_MS,
    MAX_DETECTORS,
    MAX_GROUPS,
    OCCUPANCY_WINDOW,
    PEDESTRIAN_RECALLS,
    PEDESTRIAN_TIMING,
    SEQUENCE_MODES,
    STARTUP_FLASH,
    STRATEGY_NAMES,
    VEHICLE_RECALLS,
    VEHICLE_TIMING,
)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _control(c):
    # a character that moves the cursor, ends a line or drives the terminal
    o = ord(c)
    return o < 32 or 127 <= o < 160 or o == 0x2028 or o == 0x2029


def _plain(s):
    for c in s:
        if _control(c):
            return False
    return True


def _shown(s):
    # s with its control characters escaped: an error stays one plain line
    if _plain(s):
        return s
    out = []
    for c in s:
        o = ord(c)
        out.append(("\\x%02x" % o if o < 256 else "\\u%04x" % o) if _control(c) else c)
    return "".join(out)


def _q(v):
    # quote a value the way it appeared in the JSON, cut to a readable length
    if isinstance(v, str):
        text = '"%s"' % _shown(v)
    elif v is True:
        text = "true"
    elif v is False:
        text = "false"
    elif v is None:
        text = "null"
    else:
        try:
            text = str(v)
        except RuntimeError:  # nested too deep to print (RecursionError on CPython)
            text = "[...]" if isinstance(v, list) else "{...}"
    if len(text) > 80:
        text = text[:70] + "... (%d characters)" % len(text)
    return text


def _known(x, ids):
    # x names one of ids (a set, dict or list of strings); a list, object or
    # number where a name belongs names nothing (and is not hashable)
    return isinstance(x, str) and x in ids


class _Report:
    def __init__(self):
        self.errors = []

    def add(self, where, msg):
        self.errors.append("%s: %s" % (where, msg) if where else msg)

    def int_field(self, where, obj, name, spec, unit="ms", allow_zero=False):
        # Check obj[name] against (default, lo, hi); returns the value or the default.
        default, lo, hi = spec
        if name not in obj:
            if default is None:
                self.add(where, "%s is missing (%d to %d %s)" % (name, lo, hi, unit))
            return default
        v = obj[name]
        if not _is_int(v):
            self.add(where, "%s=%s must be an integer number of %s (%d to %d %s)" % (name, _q(v), unit, lo, hi, unit))
            return default
        if allow_zero and v == 0:
            return v
        if v < lo:
            self.add(where, "%s=%s is below the %d %s minimum" % (name, _q(v), lo, unit))
        elif v > hi:
            self.add(where, "%s=%s is above the %d %s maximum" % (name, _q(v), hi, unit))
        return v

    def choice(self, where, obj, name, allowed, default):
        v = obj.get(name, default)
        if v not in allowed:
            self.add(where, "%s=%s is not one of %s" % (name, _q(v), ", ".join(allowed)))
            return default
        return v

    def bool_field(self, where, obj, name, default):
        v = obj.get(name, default)
        if v is not True and v is not False:
            self.add(where, "%s=%s must be true or false" % (name, _q(v)))
            return default
        return v

    def unknown_keys(self, where, obj, known):
        for k in obj:
            if k not in known:
                self.add(where, "unknown field %s (known: %s)" % (_q(k), ", ".join(sorted(known))))


def _ids(rep, items, what):
    # Collect ids of a list of records, reporting missing and duplicate ids.
    ids = []
    seen = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            rep.add("%s #%d" % (what, n + 1), "must be an object, found %s" % _q(item))
            ids.append(None)
            continue
        i = item.get("id")
        if not isinstance(i, str) or not i or not _plain(i):
            rep.add("%s #%d" % (what, n + 1), "id=%s must be a non-empty string without control characters" % _q(i))
            ids.append(None)
            continue
        if i in seen:
            rep.add('%s "%s"' % (what, i), "duplicate id (also %s #%d)" % (what, seen[i] + 1))
        else:
            seen[i] = n
        ids.append(i)
    return ids


def _list(rep, raw, name, what):
    v = raw.get(name)
    if not isinstance(v, list) or not v:
        rep.add("", "%s must be a non-empty list of %s, found %s" % (name, what, _q(v)))
        return []
    return v


def validate_fields(raw):
    # Every problem found in the config's fields, each against its own range
    # and the other fields ([] when they are sound): one section after the
    # other (the functions below), later ones checking names against the ids
    # the earlier ones collected.
    rep = _Report()
    if not isinstance(raw, dict):
        rep.add("", "config must be a JSON object, found %s" % _q(raw))
        return rep.errors
    validate_profile = _profile_check(raw)
    _validate_top_level(rep, raw)
    groups, gids, kind, clearance = _validate_groups(rep, raw)
    known = set(i for i in gids if i is not None)
    conflict = _validate_conflicts(rep, raw, known)
    _validate_yields(rep, groups, gids, kind, known, conflict)
    _validate_intergreens(rep, raw, known, kind, clearance, conflict)
    sids = _validate_stages(rep, raw, gids, known, kind, conflict)
    order = _validate_sequence(rep, raw, sids)
    _validate_detectors(rep, raw, known, kind)
    _validate_detector_diagnostics(rep, raw)
    _validate_adaptive(rep, raw)
    if validate_profile is not None:
        validate_profile(rep, raw, groups, gids, _q)  # the regional profile (config/profiles.py)
    dets = raw.get("detectors")
    if "priority" in raw or (isinstance(dets, list) and [
            d for d in dets if isinstance(d, dict) and d.get("kind") in ("check_in", "check_out")]):
        # preemption and transit priority (loaded only for a config that uses them)
        from controller.config import priority_validation

        priority_validation.validate(rep, raw, sids, kind)
    # fixed-time plan (required by the fixed strategy, optional otherwise)
    ft = raw.get("fixed_time")
    if ft is None:
        if raw.get("strategy") == "fixed":
            rep.add("", 'strategy "fixed" needs a fixed_time plan {cycle_ms, offset_ms, splits_ms}')
    elif not isinstance(ft, dict):
        rep.add("", "fixed_time must be an object, found %s" % _q(ft))
    elif not rep.errors:
        # only meaningful once groups, conflicts and stages are sound
        _validate_fixed_time(rep, ft, order)
    if "schedule" in raw:  # the time-of-day and week program (docs/schedules.md)
        from controller.config.schedule_validation import validate_schedule

        validate_schedule(rep, raw, order, not rep.errors)
    return rep.errors


def _profile_check(raw):
    # config/profile_validation.py's check when the config names a profile or
    # uses its fields, else None; imported first, before the report grows (a
    # small heap's peak at load, and its fragments)
    groups = raw.get("signal_groups")
    if "profile" not in raw and not (isinstance(groups, list) and [
            g for g in groups if isinstance(g, dict) and ("red_amber_ms" in g or "flashing_green_ms" in g or "approach_speed_kmh" in g)]):
        return None
    from controller.config.profile_validation import validate_profile

    return validate_profile


def _validate_top_level(rep, raw):
    # the fields that name and run the intersection as a whole
    rep.unknown_keys("", raw, (
        "format", "id", "name", "strategy", "flash_mode", "startup_flash_ms", "signal_groups",
        "conflicts", "intergreen_ms", "stages", "sequence", "detectors", "detector_diagnostics",
        "fixed_time", "adaptive", "coordination", "source", "schedule", "profile", "priority",
    ))
    fmt = raw.get("format", FORMAT)
    if fmt != FORMAT:
        rep.add("", "format=%s is not supported (expected %s)" % (_q(fmt), _q(FORMAT)))
    if not isinstance(raw.get("id"), str) or not raw.get("id") or not _plain(raw["id"]):
        rep.add("", "id=%s must be a non-empty string naming the intersection" % _q(raw.get("id")))
    rep.choice("", raw, "strategy", STRATEGY_NAMES, "actuated")
    rep.choice("", raw, "flash_mode", FLASH_MODES, "yellow")
    rep.int_field("", raw, "startup_flash_ms", STARTUP_FLASH, allow_zero=True)


def _validate_groups(rep, raw):
    # signal groups: ids, kind, timing, recall; -> the groups, their ids
    # (None where unusable), each kind and each clearance + red clearance
    groups = _list(rep, raw, "signal_groups", "signal groups")
    if len(groups) > MAX_GROUPS:
        rep.add("", "signal_groups has %d entries, above the maximum of %d" % (len(groups), MAX_GROUPS))
    gids = _ids(rep, groups, "signal group")
    kind = {}
    clearance = {}  # yellow (vehicle) or ped clearance, plus red clearance
    for g, gid in zip(groups, gids):
        if gid is None:
            continue
        where = 'signal group "%s"' % gid
        k = rep.choice(where, g, "kind", ("vehicle", "pedestrian"), "vehicle")
        kind[gid] = k
        if k == "vehicle":
            timing, min_name, clear_name, recalls = VEHICLE_TIMING, "min_green_ms", "yellow_ms", VEHICLE_RECALLS
        else:
            timing, min_name, clear_name, recalls = PEDESTRIAN_TIMING, "walk_ms", "ped_clearance_ms", PEDESTRIAN_RECALLS
        rep.unknown_keys(where, g, ("id", "name", "kind", "recall", "max_wait_ms", "links", "yields_to",
                                    "red_amber_ms", "flashing_green_ms", "approach_speed_kmh") + tuple(timing))
        t = {}
        for name, spec in timing.items():
            t[name] = rep.int_field(where, g, name, spec)
        if _is_int(t[min_name]) and _is_int(t["max_green_ms"]) and t[min_name] > t["max_green_ms"]:
            rep.add(where, "%s=%s is above max_green_ms=%s" % (min_name, _q(t[min_name]), _q(t["max_green_ms"])))
        rep.choice(where, g, "recall", recalls, "none")
        clearance[gid] = (t[clear_name] or 0) + (t["red_clearance_ms"] or 0)
        if "max_wait_ms" in g:
            rep.int_field(where, g, "max_wait_ms", (None, 10000, 600000))
    return groups, gids, kind, clearance


def _validate_conflicts(rep, raw, known):
    # conflicts: list of [a, b] pairs; -> the set of pairs (a < b)
    conflict = set()
    craw = raw.get("conflicts", [])
    if not isinstance(craw, list):
        rep.add("", "conflicts must be a list of [group, group] pairs, found %s" % _q(craw))
        craw = []
    for n, pair in enumerate(craw):
        where = "conflicts #%d" % (n + 1)
        if not isinstance(pair, list) or len(pair) != 2:
            rep.add(where, "must be a pair [group, group], found %s" % _q(pair))
            continue
        a, b = pair
        bad = False
        for x in (a, b):
            if not _known(x, known):
                rep.add(where, "unknown signal group %s" % _q(x))
                bad = True
        if bad:
            continue
        if a == b:
            rep.add(where, "signal group %s cannot conflict with itself" % _q(a))
            continue
        key = (a, b) if a < b else (b, a)
        if key in conflict:
            rep.add(where, "duplicate conflict %s-%s" % (key[0], key[1]))
        conflict.add(key)
    return conflict


def _validate_intergreens(rep, raw, known, kind, clearance, conflict):
    # intergreen matrix: {clearing: {entering: ms}}, one for each way of every conflict
    ig = raw.get("intergreen_ms", {})
    if not isinstance(ig, dict):
        rep.add("", "intergreen_ms must be an object {clearing group: {entering group: ms}}, found %s" % _q(ig))
        ig = {}
    for a, row in ig.items():
        if a not in known:
            rep.add("intergreen_ms", "unknown clearing signal group %s" % _q(a))
            continue
        if not isinstance(row, dict):
            rep.add('intergreen_ms "%s"' % a, "must be an object {entering group: ms}, found %s" % _q(row))
            continue
        for b, v in row.items():
            where = "intergreen_ms %s->%s" % (a, b)
            if b not in known:
                rep.add("intergreen_ms", "unknown entering signal group %s (row %s)" % (_q(b), a))
                continue
            key = (a, b) if a < b else (b, a)
            if key not in conflict:
                rep.add(where, "%s and %s are not listed in conflicts; add the conflict or remove the intergreen" % (a, b))
                continue
            if not _is_int(v):
                rep.add(where, "%s must be an integer number of ms (%d to %d ms)" % (_q(v), clearance.get(a, 0), INTERGREEN_MAX_MS))
                continue
            lo = clearance.get(a, 0)
            if v < lo:
                what = "yellow_ms" if kind.get(a) == "vehicle" else "ped_clearance_ms"
                rep.add(where, "%s ms is below %s's %s + red_clearance_ms = %d ms minimum" % (_q(v), a, what, lo))
            elif v > INTERGREEN_MAX_MS:
                rep.add(where, "%s ms is above the %d ms maximum" % (_q(v), INTERGREEN_MAX_MS))
    for a, b in sorted(conflict):
        for x, y in ((a, b), (b, a)):
            row = ig.get(x)
            if not isinstance(row, dict) or y not in row:
                rep.add("conflicts", "conflicting pair %s-%s has no intergreen_ms %s->%s" % (a, b, x, y))


def _validate_stages(rep, raw, gids, known, kind, conflict):
    # stages: groups that may be green together, permissive ones among
    # them, every group in some stage; -> the stage ids (None where unusable)
    stages = _list(rep, raw, "stages", "stages")
    sids = _ids(rep, stages, "stage")
    in_stage = set()
    for s, sid in zip(stages, sids):
        if sid is None:
            continue
        where = 'stage "%s"' % sid
        rep.unknown_keys(where, s, ("id", "name", "groups", "permissive"))
        sg = s.get("groups")
        if not isinstance(sg, list) or not sg:
            rep.add(where, "groups=%s must be a non-empty list of signal groups" % _q(sg))
            continue
        ok = []
        for x in sg:
            if not _known(x, known):
                rep.add(where, "unknown signal group %s" % _q(x))
            elif x in ok:
                rep.add(where, "signal group %s listed twice" % _q(x))
            else:
                ok.append(x)
        for i in range(len(ok)):
            for j in range(i + 1, len(ok)):
                a, b = ok[i], ok[j]
                if ((a, b) if a < b else (b, a)) in conflict:
                    rep.add(where, "conflicting signal groups %s and %s in one stage" % (a, b))
        if ok and all(kind.get(x) == "pedestrian" for x in ok):
            rep.add(where, "has only pedestrian groups; a stage needs at least one vehicle group")
        perm = s.get("permissive", [])
        if not isinstance(perm, list):
            rep.add(where, "permissive=%s must be a list of the stage's vehicle groups" % _q(perm))
            perm = []
        for x in perm:
            if x not in ok or kind.get(x) == "pedestrian":
                rep.add(where, "permissive group %s must be one of the stage's vehicle groups (%s)" % (
                    _q(x), ", ".join(y for y in ok if kind.get(y) != "pedestrian")))
        in_stage.update(ok)
    for gid in gids:
        if gid is not None and gid not in in_stage:
            rep.add('signal group "%s"' % gid, "is in no stage, so it could never show green")
    return sids


def _validate_sequence(rep, raw, sids):
    # the order of the stages; -> that order (every known stage by default)
    seq = raw.get("sequence", {"mode": "fixed"})
    known_stages = [i for i in sids if i is not None]
    order = known_stages
    if not isinstance(seq, dict):
        rep.add("", "sequence must be an object {mode, order}, found %s" % _q(seq))
    else:
        rep.unknown_keys("sequence", seq, ("mode", "order"))
        rep.choice("sequence", seq, "mode", SEQUENCE_MODES, "fixed")
        if "order" in seq:
            order = seq["order"]
            if not isinstance(order, list) or not order:
                rep.add("sequence", "order=%s must be a non-empty list of stages" % _q(order))
                order = []
            for x in order:
                if x not in known_stages:
                    rep.add("sequence", "order names unknown stage %s" % _q(x))
            for x in known_stages:
                if x not in order:
                    rep.add("sequence", 'order omits stage "%s"; list every stage once' % x)
            if len(set(o for o in order if isinstance(o, str))) != len(order):
                rep.add("sequence", "order lists a stage more than once")
    return order


def _validate_detectors(rep, raw, known, kind):
    # detectors: each loop's group, kind, place and own diagnostic thresholds
    dets = raw.get("detectors", [])
    if not isinstance(dets, list):
        rep.add("", "detectors must be a list, found %s" % _q(dets))
        dets = []
    if len(dets) > MAX_DETECTORS:
        rep.add("", "detectors has %d entries, above the maximum of %d" % (len(dets), MAX_DETECTORS))
    dids = _ids(rep, dets, "detector")
    exit_ids = [did for d, did in zip(dets, dids) if did is not None and d.get("kind") == "exit"]
    for d, did in zip(dets, dids):
        if did is None:
            continue
        where = 'detector "%s"' % did
        k = rep.choice(where, d, "kind", DETECTOR_KINDS, "stop_bar")
        if k == "check_in" or k == "check_out":  # a priority loop: config/priority_validation.py
            rep.int_field(where, d, "distance_m", (0, 0, DISTANCE_MAX_M), unit="m")
            _diagnostic_fields(rep, where, d)
            continue
        if k == "exit":  # on an outgoing lane: no group, no place on an approach
            rep.unknown_keys(where, d, ("id", "kind", "distance_m") + tuple(DIAGNOSTICS))
            rep.int_field(where, d, "distance_m", (0, 0, DISTANCE_MAX_M), unit="m")
            _diagnostic_fields(rep, where, d)
            continue
        # where a vehicle loop sits (approach, lane, turn_pocket, the exits its lane leads onto)
        # and its idle limit; a push button: its lane only
        place = ("lane",) if k == "pedestrian" else ("approach", "lane", "turn_pocket", "idle_ms", "exits")
        rep.unknown_keys(where, d, ("id", "group", "kind", "distance_m", "extend", "call", "fault_recall") + place
                         + tuple(DIAGNOSTICS))
        grp = d.get("group")
        if not _known(grp, known):
            rep.add(where, "group=%s is not a known signal group" % _q(grp))
        elif (k == "pedestrian") != (kind.get(grp) == "pedestrian"):
            rep.add(where, 'kind "%s" does not fit the %s signal group "%s"' % (k, kind.get(grp), grp))
        rep.int_field(where, d, "distance_m", (0, 0, DISTANCE_MAX_M), unit="m")
        rep.bool_field(where, d, "extend", True)
        rep.bool_field(where, d, "call", True)
        recalls = ("none", "ped") if k == "pedestrian" else VEHICLE_RECALLS
        rep.choice(where, d, "fault_recall", recalls, recalls[-1])
        _diagnostic_fields(rep, where, d)
        if place:
            _validate_detector_place(rep, where, d)
        if "exits" in d:
            _validate_exits(rep, where, d["exits"], exit_ids)


def _validate_detector_diagnostics(rep, raw):
    # the thresholds of detectors that set none of their own
    diag = raw.get("detector_diagnostics", {})
    if not isinstance(diag, dict):
        rep.add("", "detector_diagnostics must be an object, found %s" % _q(diag))
    else:
        rep.unknown_keys("detector_diagnostics", diag, tuple(DIAGNOSTICS) + tuple(DIAGNOSTICS_WITNESS)
                         + ("occupancy_window_ms",))
        _diagnostic_fields(rep, "detector_diagnostics", diag)
        for name, spec in DIAGNOSTICS_WITNESS.items():
            unit = "vehicles" if name == "witness_count" else "ms"
            rep.int_field("detector_diagnostics", diag, name, spec, unit=unit, allow_zero=True)
        rep.int_field("detector_diagnostics", diag, "occupancy_window_ms", OCCUPANCY_WINDOW)


def _validate_adaptive(rep, raw):
    # the adaptive strategy's parameters
    ad = raw.get("adaptive", {})
    if not isinstance(ad, dict):
        rep.add("", "adaptive must be an object of parameters, found %s" % _q(ad))
    else:
        rep.unknown_keys("adaptive", ad, tuple(ADAPTIVE))
        for name, spec in ADAPTIVE.items():
            rep.int_field("adaptive", ad, name, spec, unit="ms")


def validate(raw):
    # Every problem found in the config dict raw ([] when it is sound): its
    # fields, then what needs the model built from it (config.load_dict does
    # the same in two steps, so that a board can drop this module between).
    errors = validate_fields(raw)
    if errors:
        return errors
    from controller.config.defaults import with_defaults
    from controller.intersection import Intersection

    model = Intersection(with_defaults(raw))
    errors = model.fixed_time_errors()
    if raw.get("schedule"):
        from controller.plan_change import plan_timing_errors

        errors += plan_timing_errors(model)
    return errors


def _validate_exits(rep, where, xs, exit_ids):
    # exits: the exit loops (exit_ids: the detectors of kind "exit") the loop's lane leads onto
    if not isinstance(xs, list) or not xs:
        rep.add(where, "exits=%s must be a non-empty list of exit loops (detectors of kind \"exit\")" % _q(xs))
        return
    for i, x in enumerate(xs):
        if not isinstance(x, str) or x not in exit_ids:
            rep.add(where, "exits names %s, not a detector of kind \"exit\"" % _q(x))
        elif x in xs[:i]:
            rep.add(where, "exits lists %s twice" % _q(x))


def _diagnostic_fields(rep, where, d):
    # a detector's own diagnostic thresholds (0 disables a check)
    for name, spec in DIAGNOSTICS.items():
        unit = "counts/min" if name.endswith("per_min") else "ms"
        rep.int_field(where, d, name, spec, unit=unit, allow_zero=True)


def _validate_detector_place(rep, where, d):
    # approach, lane, turn_pocket, idle_ms of a vehicle loop: the
    # diagnostics' witnesses (the loops of a lane) and idle limits (docs/core.md)
    for name in ("approach", "lane"):
        if name in d and (not isinstance(d[name], str) or not d[name] or not _plain(d[name])):
            rep.add(where, "%s=%s must be a non-empty string without control characters" % (name, _q(d[name])))
    pocket = rep.bool_field(where, d, "turn_pocket", False)
    if ("approach" in d or pocket is True) and not ("approach" in d and "lane" in d):
        rep.add(where, "a loop on an approach (or a turn_pocket) names its approach and lane")
    if "idle_ms" in d:
        rep.int_field(where, d, "idle_ms", DETECTOR_IDLE, allow_zero=True)


def _validate_yields(rep, groups, gids, kind, known, conflict):
    # yields_to: the groups a vehicle group gives way to when both are green
    for g, gid in zip(groups, gids):
        if gid is None or "yields_to" not in g:
            continue
        where = 'signal group "%s"' % gid
        ys = g["yields_to"]
        if kind.get(gid) != "vehicle" and ys != []:
            rep.add(where, "yields_to=%s: only vehicle groups give way (a pedestrian group's list stays empty)" % _q(ys))
            continue
        if not isinstance(ys, list):
            rep.add(where, "yields_to=%s must be a list of signal groups" % _q(ys))
            continue
        seen = []
        for x in ys:
            if not isinstance(x, str) or x not in known:
                rep.add(where, "yields_to names unknown signal group %s" % _q(x))
            elif x == gid:
                rep.add(where, "yields_to names the group itself")
            elif x in seen:
                rep.add(where, "yields_to lists %s twice" % _q(x))
            elif ((gid, x) if gid < x else (x, gid)) in conflict:
                rep.add(where, "yields_to names %s, a conflicting group: conflicting groups are never green together" % _q(x))
            else:
                seen.append(x)


def _validate_fixed_time(rep, ft, order):
    # The plan's own fields, before any model is built from them (the model
    # stores the splits in 32-bit arrays, by stage): a cycle and offset in
    # range, splits an object of known stages, each an integer within
    # 0..cycle. Each split against its stage's minimum (min green +
    # transition) and the sum against the cycle need the model:
    # Intersection.fixed_time_errors(), after these pass.
    where = "fixed_time"
    rep.unknown_keys(where, ft, ("cycle_ms", "offset_ms", "splits_ms"))
    cycle = rep.int_field(where, ft, "cycle_ms", (None,) + CYCLE_RANGE)
    splits = ft.get("splits_ms")
    if not isinstance(splits, dict):
        rep.add(where, "splits_ms=%s must be an object {stage: ms}" % _q(splits))
        return
    if not _is_int(cycle):
        return
    rep.int_field(where, ft, "offset_ms", (0, 0, cycle - 1))
    for sid in splits:
        if sid not in order:
            rep.add(where, "splits_ms names unknown stage %s" % _q(sid))
    for sid in order:
        v = splits.get(sid)
        if not _is_int(v):
            rep.add(where, "splits_ms %s=%s must be an integer number of ms" % (sid, _q(v)))
            return
        if v < 0 or v > cycle:
            rep.add(where, "splits_ms %s=%s is outside 0 to cycle_ms=%d ms" % (sid, _q(v), cycle))
            return

