# Filling in a config's defaults, once, at load. Runs on the board (and may be
# unloaded with the validator once the controller is built).
#
# `with_defaults(raw)` takes a dict that config/validation.py accepted and returns
# a dict in which every optional field has its value written out: signal
# group timings, recalls and `yields_to`, stage `permissive` lists, the
# sequence, detector settings and thresholds (turn_pocket), the diagnostics
# block (with the witness count and the idle limits by role) and the adaptive
# block. Everything downstream (the intersection model, the conflict monitor,
# the strategies) reads explicit values and keeps no defaults of its own, so
# changing a default in config/schema.py changes it everywhere at once.
# with_defaults() leaves its input as it was; fill_defaults() fills in place.
from controller.config.schema import (
    ADAPTIVE,
    DIAGNOSTICS,
    DIAGNOSTICS_WITNESS,
    OCCUPANCY_WINDOW,
    PEDESTRIAN_TIMING,
    STARTUP_FLASH,
    VEHICLE_TIMING,
)


def _fill(obj, table):
    # every field of table (name: (default, lo, hi)) present in obj
    for name, spec in table.items():
        if obj.get(name) is None and spec[0] is not None:
            obj[name] = spec[0]
    return obj


def derived_yields_to(stages, group_id):
    # A permissive group without its own yields_to gives way, in every stage
    # that lists it permissive, to the stage's groups that are not permissive.
    out = []
    for s in stages:
        perm = s.get("permissive") or []
        if group_id in perm:
            for x in s["groups"]:
                if x != group_id and x not in perm and x not in out:
                    out.append(x)
    return out


def with_defaults(raw):
    # A filled-in copy: the containers the filling touches are copied, the
    # input dict is not changed.
    out = dict(raw)
    for name in ("signal_groups", "stages", "detectors"):
        if name in raw:
            out[name] = [dict(x) for x in raw[name]]
    for name in ("sequence", "detector_diagnostics", "adaptive", "priority"):
        if raw.get(name) is not None:
            out[name] = dict(raw[name])
    return fill_defaults(out)


def fill_defaults(raw):
    # Fill raw in place (the loader does so with the dict it parsed itself,
    # which saves a board the copy) and return it.
    raw["name"] = raw.get("name", raw["id"])
    if raw.get("profile") is not None:
        from controller.config.profiles import fill_profile

        fill_profile(raw)  # a regional profile's defaults come before schema's
    raw["strategy"] = raw.get("strategy", "actuated")
    raw["flash_mode"] = raw.get("flash_mode", "yellow")
    if raw.get("startup_flash_ms") is None:
        raw["startup_flash_ms"] = STARTUP_FLASH[0]
    raw["conflicts"] = raw.get("conflicts", [])
    raw["intergreen_ms"] = raw.get("intergreen_ms", {})

    stages = raw["stages"]
    for s in stages:
        s["permissive"] = s.get("permissive") or []
    for g in raw["signal_groups"]:
        if g.get("kind", "vehicle") == "pedestrian":
            _fill(g, PEDESTRIAN_TIMING)
            g["kind"] = "pedestrian"
            g["yields_to"] = []
        else:
            _fill(g, VEHICLE_TIMING)
            g["kind"] = "vehicle"
            if g.get("yields_to") is None:
                g["yields_to"] = derived_yields_to(stages, g["id"])
        g["recall"] = g.get("recall", "none")

    seq = raw.get("sequence") or {}
    seq["mode"] = seq.get("mode", "fixed")
    if seq.get("order") is None:
        seq["order"] = [s["id"] for s in stages]
    raw["sequence"] = seq

    diag = _fill(_fill(raw.get("detector_diagnostics") or {}, DIAGNOSTICS), DIAGNOSTICS_WITNESS)
    if diag.get("occupancy_window_ms") is None:
        diag["occupancy_window_ms"] = OCCUPANCY_WINDOW[0]
    raw["detector_diagnostics"] = diag
    dets = raw.get("detectors") or []
    for d in dets:
        d["kind"] = d.get("kind", "stop_bar")
        if d["kind"] in ("exit", "check_in", "check_out"):
            # calls and extends nothing; silence on an exit lane says nothing
            # of the loop (no no-activity check unless it sets its own)
            d["distance_m"] = d.get("distance_m", 0)
            d["extend"] = d["call"] = False  # (the model reads these of every loop)
            d["fault_recall"] = "none"
            d["no_activity_ms"] = d.get("no_activity_ms", 0)
            continue
        d["distance_m"] = d.get("distance_m", 0)
        d["extend"] = d.get("extend", True)
        d["call"] = d.get("call", True)
        if d.get("fault_recall") is None:
            d["fault_recall"] = "ped" if d["kind"] == "pedestrian" else "max"
        if d["kind"] != "pedestrian":  # a push button sits on no lane's traffic
            d["turn_pocket"] = d.get("turn_pocket", False)
        # `approach` and `lane` stay absent when not given: a loop on no
        # approach keeps the classic no-activity check (docs/core.md)
        # thresholds a detector does not set are the diagnostics block's (read
        # there by the model, not copied into every detector: RAM on a board)
    raw["detectors"] = dets
    raw["adaptive"] = _fill(raw.get("adaptive") or {}, ADAPTIVE)
    if raw.get("priority") is not None:
        from controller.config import priority_schema

        priority_schema.fill_defaults(raw)
    return raw
