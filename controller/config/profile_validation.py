# Checking a config against its regional profile (config/profiles.py). Runs on
# the board at load, called by config/validation.py with its report: every
# problem names the field, the value, the allowed range, the unit and the
# profile. Never on the tick path.
from controller.config.defaults import derived_yields_to
from controller.config.schema import VEHICLE_TIMING
from controller.config.profiles import APPROACH_SPEED_KMH, PROFILE_NAMES, PROFILES, yellow_for_speed_ms

# the signal-group fields this module adds (config/validation.py accepts them)
GROUP_FIELDS = ("red_amber_ms", "flashing_green_ms", "approach_speed_kmh")
RED_CLEARANCE_DEFAULT = VEHICLE_TIMING["red_clearance_ms"][0]


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _range(rep, where, name, v, lo, hi, why, unit="ms"):
    # v (an int) within lo..hi, or an error naming the field, value, range and why
    if v < lo or v > hi:
        allowed = "%d %s" % (lo, unit) if lo == hi else "%d to %d %s" % (lo, hi, unit)
        rep.add(where, "%s=%d is outside %s (allowed: %s)" % (name, v, why, allowed))


def validate_profile(rep, raw, groups, gids, q):
    # q: the validator's quoting of a value. Checks the profile's name, the
    # fields only a profile gives meaning to, and every group's timing
    # against the profile's allowed ranges.
    name = raw.get("profile")
    if name is not None and name not in PROFILE_NAMES:
        rep.add("", "profile=%s is not one of %s" % (q(name), ", ".join(PROFILE_NAMES)))
        name = None
        known = False
    else:
        known = name is not None
    p = PROFILES[name] if known else None
    for g, gid in zip(groups, gids):
        if gid is None:
            continue
        where = 'signal group "%s"' % gid
        ped = g.get("kind", "vehicle") == "pedestrian"
        for f in GROUP_FIELDS:
            if f not in g:
                continue
            if ped:
                rep.add(where, "%s is for vehicle groups only" % f)
            elif raw.get("profile") is None:
                rep.add(where, "%s needs a profile (set profile to one of %s)" % (f, ", ".join(PROFILE_NAMES)))
            elif not _is_int(g[f]):
                rep.add(where, "%s=%s must be an integer" % (f, q(g[f])))
        if not known:
            continue
        why = 'the "%s" profile\'s range' % name
        if ped:
            v = g.get("walk_ms")
            if _is_int(v):
                _range(rep, where, "walk_ms", v, p["walk_ms"][1], p["walk_ms"][2], why)
        else:
            v = g.get("red_amber_ms")
            if _is_int(v):
                _range(rep, where, "red_amber_ms", v, p["red_amber_ms"][1], p["red_amber_ms"][2], why)
            v = g.get("flashing_green_ms", 0)
            if _is_int(v):
                _range(rep, where, "flashing_green_ms", v, p["flashing_green_ms"][1], p["flashing_green_ms"][2], why)
                _partners_flash_alike(rep, raw, g, gid, v)
            speed = g.get("approach_speed_kmh")
            if _is_int(speed):
                _range(rep, where, "approach_speed_kmh", speed, APPROACH_SPEED_KMH[1], APPROACH_SPEED_KMH[2],
                       "the approach speeds a profile knows", "km/h")
            else:
                speed = None
            v = g.get("yellow_ms")
            if _is_int(v):
                lo, hi = p["yellow_ms"][1], p["yellow_ms"][2]
                if speed is not None:
                    lo = yellow_for_speed_ms(name, speed)
                    why_y = 'the "%s" profile\'s range at approach_speed_kmh=%d' % (name, speed)
                else:
                    why_y = why
                _range(rep, where, "yellow_ms", v, lo, hi if hi > lo else lo, why_y)
            v = g.get("min_green_ms")
            if _is_int(v):
                _range(rep, where, "min_green_ms", v, p["min_green_ms"][1], p["min_green_ms"][2], why)
        v = g.get("red_revert_ms")
        if _is_int(v):
            _range(rep, where, "red_revert_ms", v, p["min_red_ms"][1], p["min_red_ms"][2], why)
        if not ped and "yellow_ms" not in g:
            _intergreens_hold_yellow(rep, raw, g, gid, yellow_for_speed_ms(name, speed))


def _intergreens_hold_yellow(rep, raw, g, gid, yellow):
    # config/validation.py checked gid's intergreens against schema's default
    # yellow; the profile fills in its own (by approach speed), which they must hold too
    red = g.get("red_clearance_ms", RED_CLEARANCE_DEFAULT)
    row = raw.get("intergreen_ms", {}).get(gid) if isinstance(raw.get("intergreen_ms"), dict) else None
    if not isinstance(row, dict) or not _is_int(red):
        return
    for b, v in row.items():
        if _is_int(v) and v < yellow + red:
            rep.add("intergreen_ms %s->%s" % (gid, b), "%d ms is below %s's yellow_ms (the profile's %d ms) + "
                    "red_clearance_ms = %d ms minimum" % (v, gid, yellow, yellow + red))


def _partners_flash_alike(rep, raw, g, gid, v):
    # a yielding pair of vehicle groups ends together (kernel rule 5): with
    # unequal flashing greens one's yellow would stand beside the other's
    # (flashing) green. (A pedestrian group yielded to has none, and may end first.)
    ys = g.get("yields_to")
    if ys is None:  # derived from the stages' permissive lists, where those are sound
        stages = raw.get("stages")
        ok = isinstance(stages, list) and all(
            isinstance(s, dict) and isinstance(s.get("groups"), list) and isinstance(s.get("permissive") or [], list)
            for s in stages)
        ys = derived_yields_to(stages, gid) if ok else ()
    if not isinstance(ys, list):
        ys = ()
    for x in ys:
        for h in raw.get("signal_groups", ()):
            if isinstance(h, dict) and h.get("id") == x and h.get("kind", "vehicle") != "pedestrian":
                w = h.get("flashing_green_ms", 0)
                if _is_int(w) and w != v:
                    rep.add('signal group "%s"' % gid, "flashing_green_ms=%d differs from %s's %d ms, which it "
                            "yields to (allowed: the same, so the pair ends together)" % (v, x, w))
