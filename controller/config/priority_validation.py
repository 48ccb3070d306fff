# Validation of the "priority" block (preemption and transit priority classes)
# and of the check-in / check-out detectors that register their requests.
# Runs on the board at load only. Called by config/validation.py with its
# report, so every problem is listed with the others, each naming the field,
# the value and the allowed range.
from controller.config.priority_schema import (
    COMMON,
    MAX_CLASSES,
    MAX_DWELL,
    PREEMPTION,
    PRIORITY_KINDS,
    RANK_RANGE,
    TRACK_CLEARANCE,
    TRANSIT,
)
from controller.config.validation import _ids, _known, _q

_KNOWN = {
    "railroad": ("id", "kind", "rank", "stage", "track_clearance_stage", "track_clearance_ms", "max_dwell_ms",
                 "exit_stage") + tuple(COMMON) + tuple(PREEMPTION),
    "emergency": ("id", "kind", "rank", "stage", "max_dwell_ms", "exit_stage") + tuple(COMMON) + tuple(PREEMPTION),
    "transit": ("id", "kind", "rank", "stage", "groups") + tuple(COMMON) + tuple(TRANSIT),
}


def _stage_field(rep, where, c, name, sids, required):
    v = c.get(name)
    if v is None and not required:
        return None
    if not _known(v, sids):
        rep.add(where, "%s=%s is not a known stage (%s)" % (name, _q(v), ", ".join(sids)))
        return None
    return v


def validate(rep, raw, sids, kind):
    # the priority block and the loops that call its classes (sids: the stage
    # ids, None where unusable; kind: {group id: "vehicle" | "pedestrian"})
    stages = raw.get("stages") if isinstance(raw.get("stages"), list) else []
    stage_groups = {}
    for s in stages:
        if isinstance(s, dict) and isinstance(s.get("id"), str) and isinstance(s.get("groups"), list):
            stage_groups[s["id"]] = s["groups"]
    classes = validate_priority(rep, raw, sids, stage_groups, kind)
    validate_priority_detectors(rep, raw, classes, [x for x in sids if x is not None])


def validate_priority(rep, raw, sids, stage_groups, kind):
    # rep: validation's report; sids: the known stage ids; stage_groups:
    # {stage id: [group ids]}; kind: {group id: "vehicle" | "pedestrian"}.
    # Returns the class ids (for the detectors' priority_class).
    block = raw.get("priority")
    if block is None:
        return {}
    if not isinstance(block, dict):
        rep.add("", "priority must be an object {classes: [...]}, found %s" % _q(block))
        return {}
    rep.unknown_keys("priority", block, ("classes",))
    classes = block.get("classes")
    if not isinstance(classes, list) or not classes:
        rep.add("priority", "classes=%s must be a non-empty list of priority classes" % _q(classes))
        return {}
    if len(classes) > MAX_CLASSES:
        rep.add("priority", "classes has %d entries, above the maximum of %d" % (len(classes), MAX_CLASSES))
    sids = [s for s in sids if s is not None]
    out = {}
    for c, cid in zip(classes, _ids(rep, classes, "priority class")):
        if cid is None:
            continue
        where = 'priority class "%s"' % cid
        k = rep.choice(where, c, "kind", PRIORITY_KINDS, None)
        if k is None:
            continue
        out[cid] = c
        rep.unknown_keys(where, c, _KNOWN[k])
        rep.int_field(where, c, "rank", RANK_RANGE, unit="")
        stage = _stage_field(rep, where, c, "stage", sids, True)
        for name, spec in COMMON.items():
            rep.int_field(where, c, name, spec)
        if k == "transit":
            _validate_transit(rep, where, c, stage, stage_groups, kind)
            continue
        for name, spec in PREEMPTION.items():
            rep.int_field(where, c, name, spec)
        rep.int_field(where, c, "max_dwell_ms", MAX_DWELL[k], allow_zero=True)
        exit_stage = _stage_field(rep, where, c, "exit_stage", sids, False)
        if k == "railroad":
            track = _stage_field(rep, where, c, "track_clearance_stage", sids, False)
            if track is not None and track == stage:
                rep.add(where, "track_clearance_stage=%s is the dwell stage; give the stage that clears the track"
                        % _q(track))
            if "track_clearance_ms" in c and "track_clearance_stage" not in c:
                rep.add(where, "track_clearance_ms needs a track_clearance_stage")
            rep.int_field(where, c, "track_clearance_ms", (None if track is not None else 0,) + TRACK_CLEARANCE[1:])
        if exit_stage is not None and exit_stage == stage:
            rep.add(where, "exit_stage=%s is the dwell stage itself; leave it out to hand back from the dwell"
                    % _q(exit_stage))
    return out


def _validate_transit(rep, where, c, stage, stage_groups, kind):
    for name, spec in TRANSIT.items():
        rep.int_field(where, c, name, spec)
    groups = c.get("groups", [])
    if not isinstance(groups, list):
        rep.add(where, "groups=%s must be a list of the stage's vehicle groups" % _q(groups))
        return
    members = stage_groups.get(stage, []) if stage is not None else []
    for x in groups:
        if not isinstance(x, str) or x not in members or kind.get(x) != "vehicle":
            rep.add(where, "groups names %s, not a vehicle group of stage %s (%s)" % (
                _q(x), _q(stage), ", ".join(y for y in members if kind.get(y) == "vehicle")))


def validate_priority_detectors(rep, raw, classes, sids):
    # check_in / check_out loops: their class and (check_in) stage
    dets = raw.get("detectors", [])
    if not isinstance(dets, list):
        return
    for d in dets:
        if not isinstance(d, dict) or d.get("kind") not in ("check_in", "check_out") or not isinstance(d.get("id"), str):
            continue
        where = 'detector "%s"' % d["id"]
        k = d["kind"]
        # (extend, call, fault_recall: as the filled-in config writes them out; a priority loop
        # calls and extends nothing, so a config read back from a running controller passes)
        rep.unknown_keys(where, d, ("id", "kind", "priority_class", "distance_m", "vehicle_classes",
                                    "max_presence_ms", "no_activity_ms", "erratic_counts_per_min",
                                    "extend", "call", "fault_recall") + (("stage",) if k == "check_in" else ()))
        for name, value in (("extend", False), ("call", False), ("fault_recall", "none")):
            if name in d and d[name] != value:
                rep.add(where, "%s=%s: a priority loop calls and extends nothing (%s or leave it out)" % (
                    name, _q(d[name]), _q(value)))
        pc = d.get("priority_class")
        if not _known(pc, classes):
            rep.add(where, "priority_class=%s is not a class of the priority block (%s)" % (
                _q(pc), ", ".join(sorted(classes)) or "no priority block"))
        if k == "check_in" and "stage" in d:
            st = d["stage"]
            if not _known(st, sids):
                rep.add(where, "stage=%s is not a known stage" % _q(st))
        vc = d.get("vehicle_classes", [])
        if not isinstance(vc, list) or not all(isinstance(x, str) and x for x in vc):
            rep.add(where, "vehicle_classes=%s must be a list of vehicle class names (read by the simulator)" % _q(vc))
