# Coordination messages between controllers and the coordinator: topics,
# payloads (JSON text), the canonical text a plan's signature covers, and the
# reasons a plan is refused. Every decoder checks every field against the
# bounds of coordination/message_fields.py before it returns. Runs on the board and on
# the host; nothing here is on the tick path. Units: ms; wall-clock times
# are Unix epoch ms. Layouts and examples: docs/coordination-protocol.md.
import json

from controller.compat import const
from controller.config.schema import MAX_DETECTORS, MAX_GROUPS
from controller.coordination.message_fields import (
    COUNT_MAX,
    MAX_SPLITS,
    OCCUPANCY_MAX,
    PERIOD_MAX_MS,
    PLAN_MALFORMED,
    SEQ_MAX,
    SIG_MAX_CHARS,
    STATUS_REASON_MAX,
    TEXT_MAX_CHARS,
    TIMING_MAX_MS,
    WALL_MS_MAX,
    MessageError,
    check_id,
    check_int,
    check_int_list,
    check_list,
    load_object,
    read_id,
    read_id_list,
    read_int,
    read_int_list,
    read_list,
    read_text,
    refuse,
    show,
)
from controller.coordination.plan_signature import sign_hex

PLAN_FORMAT = "ampelwerk-plan/1"
REPORT_FORMAT = "ampelwerk-report/1"
STATUS_FORMAT = "ampelwerk-plan-status/1"
TOPIC_PREFIX = "ampelwerk"

# Why a plan was refused (plan-status "reason", event PLAN_REJECTED's parameter)
PLAN_ACCEPTED = const(0)
# PLAN_MALFORMED = 1 (coordination/message_fields.py): not JSON, a field missing, of the wrong type or out of range
PLAN_WRONG_CONTROLLER = const(2)  # addressed to another controller
PLAN_BAD_SIGNATURE = const(3)  # HMAC does not match this controller's key
PLAN_REPLAYED = const(4)  # sequence number not newer than the last accepted one
PLAN_STALE = const(5)  # validity window already over
PLAN_NOT_YET_VALID = const(6)  # validity window starts in the future (beyond the skew tolerance)
PLAN_OUT_OF_BOUNDS = const(7)  # cycle, splits, offset or stages do not fit local timing
PLAN_NOT_COORDINATED = const(8)  # this controller does not run the coordinated strategy
REASON_NAMES = ("accepted", "malformed", "wrong controller", "bad signature", "replayed", "stale",
                "not yet valid", "out of bounds", "not coordinated")

# Controller modes in reports
MODE_STARTUP = const(0)  # startup flash / all red
MODE_FREE = const(1)  # free (adaptive) operation: no plan in force
MODE_COORDINATED = const(2)  # plan in force, in step with its offset
MODE_TRANSITION = const(3)  # plan in force, moving to its offset
MODE_FLASH = const(4)  # fault flash
MODE_NAMES = ("startup", "free", "coordinated", "transition", "flash")


def topic(controller_id, kind, prefix=TOPIC_PREFIX):
    # kind: "report", "plan", "plan_status" or "status"
    return "%s/%s/%s" % (prefix, controller_id, kind)


class Plan:
    # A timing plan for one controller. stage_ids/split_ms list the stages in
    # the order they run in the cycle; the first is the coordinated stage.
    # Cycle position 0 (the coordinated stage's planned start of green) falls
    # on ref_ms + offset_ms + k * cycle_ms. A split runs from the start of its
    # stage's green to the start of the next stage's green.
    def __init__(self, controller_id, corridor, seq, ref_ms, valid_from_ms, valid_until_ms, cycle_ms, offset_ms,
                 stage_ids, split_ms, signature=""):
        self.controller_id = controller_id
        self.corridor = corridor
        self.seq = seq
        self.ref_ms = ref_ms
        self.valid_from_ms = valid_from_ms
        self.valid_until_ms = valid_until_ms
        self.cycle_ms = cycle_ms
        self.offset_ms = offset_ms
        self.stage_ids = stage_ids
        self.split_ms = split_ms
        self.signature = signature

    def signing_text(self):
        # What the HMAC covers: every field, fixed order, no JSON ambiguity.
        parts = []
        for i in range(len(self.stage_ids)):
            parts.append("%s:%d" % (self.stage_ids[i], self.split_ms[i]))
        return ("%s|%s|%s|%d|%d|%d|%d|%d|%d|%s" % (
            PLAN_FORMAT, self.controller_id, self.corridor, self.seq, self.ref_ms, self.valid_from_ms,
            self.valid_until_ms, self.cycle_ms, self.offset_ms, ",".join(parts))).encode()

    def same_timing(self, other):
        # True when other runs the same cycle, splits and offset (a refreshed plan)
        return (other is not None and self.cycle_ms == other.cycle_ms and self.offset_ms == other.offset_ms
                and self.ref_ms % self.cycle_ms == other.ref_ms % other.cycle_ms
                and list(self.stage_ids) == list(other.stage_ids) and list(self.split_ms) == list(other.split_ms))


def encode_plan(plan, key):
    # Host side: sign with the controller's key and serialise.
    plan.signature = sign_hex(key, plan.signing_text())
    return json.dumps({
        "format": PLAN_FORMAT, "controller": plan.controller_id, "corridor": plan.corridor, "seq": plan.seq,
        "ref_ms": plan.ref_ms, "valid_from_ms": plan.valid_from_ms, "valid_until_ms": plan.valid_until_ms,
        "cycle_ms": plan.cycle_ms, "offset_ms": plan.offset_ms,
        "splits": [[plan.stage_ids[i], plan.split_ms[i]] for i in range(len(plan.stage_ids))],
        "sig": plan.signature}).encode()


def decode_plan(payload):
    # bytes -> Plan; MessageError(PLAN_MALFORMED) names the field, the value
    # and the allowed range. Does not check the signature or the timing
    # against this intersection (coordination/plan_validation.py does).
    w = "plan"
    d = load_object(payload, w, PLAN_FORMAT)
    splits = read_list(d, "splits", w, 1, MAX_SPLITS)
    stage_ids = []
    split_ms = []
    for i in range(len(splits)):
        item = splits[i]
        name = "splits[%d]" % i
        if not isinstance(item, list) or len(item) != 2:
            refuse(w, "field %s=%s is not [stage id, split_ms]" % (name, show(item)))
        stage_ids.append(check_id(item[0], name + "[0]", w))
        split_ms.append(check_int(item[1], name + "[1]", w, 0, TIMING_MAX_MS, " ms"))
    sig = d.get("sig")
    if not isinstance(sig, str) or len(sig) > SIG_MAX_CHARS:
        refuse(w, "field sig=%s is not hex text of at most %d characters" % (show(sig), SIG_MAX_CHARS))
    return Plan(read_id(d, "controller", w), read_id(d, "corridor", w), read_int(d, "seq", w, 1, SEQ_MAX),
                read_int(d, "ref_ms", w, 0, WALL_MS_MAX, " ms"), read_int(d, "valid_from_ms", w, 0, WALL_MS_MAX, " ms"),
                read_int(d, "valid_until_ms", w, 0, WALL_MS_MAX, " ms"), read_int(d, "cycle_ms", w, 1, TIMING_MAX_MS, " ms"),
                read_int(d, "offset_ms", w, 0, TIMING_MAX_MS, " ms"), stage_ids, split_ms, sig)


class Report:
    # What a controller tells the coordinator every report period: vehicles
    # counted and occupancy per signal group (group order of its config), its
    # mode, the plan in force (seq, 0 = none) and its detector faults; and,
    # per group, its green time and the part of it traffic used (detection/green_usage.py;
    # None from a controller that does not measure them); and, per group, the
    # count of each of its counting loops (one per lane, so the coordinator
    # can find the group's busiest lane; None from older controllers).
    def __init__(self, controller_id, seq, wall_ms, period_ms, mode, plan_seq, group_ids, counts,
                 occupancy_permille, faults, green_ms=None, used_green_ms=None, loop_counts=None):
        self.controller_id = controller_id
        self.seq = seq
        self.wall_ms = wall_ms
        self.period_ms = period_ms
        self.mode = mode
        self.plan_seq = plan_seq
        self.group_ids = group_ids
        self.counts = counts
        self.occupancy_permille = occupancy_permille
        self.faults = faults  # ids of the detectors diagnosed faulty
        self.green_ms = green_ms
        self.used_green_ms = used_green_ms
        self.loop_counts = loop_counts


def encode_report(r):
    d = {
        "format": REPORT_FORMAT, "controller": r.controller_id, "seq": r.seq, "wall_ms": r.wall_ms,
        "period_ms": r.period_ms, "mode": MODE_NAMES[r.mode], "plan_seq": r.plan_seq,
        "groups": list(r.group_ids), "counts": list(r.counts), "occupancy_permille": list(r.occupancy_permille),
        "faults": list(r.faults)}
    if r.green_ms is not None and r.used_green_ms is not None:
        d["green_ms"] = list(r.green_ms)
        d["used_green_ms"] = list(r.used_green_ms)
    if r.loop_counts is not None:
        d["loop_counts"] = [list(c) for c in r.loop_counts]
    return json.dumps(d).encode()


def decode_report(payload):
    # Host side: bytes -> Report; MessageError(PLAN_MALFORMED) names the
    # field, the value and the allowed range.
    w = "report"
    d = load_object(payload, w, REPORT_FORMAT)
    mode = d.get("mode")
    if mode not in MODE_NAMES:
        refuse(w, "field mode=%s is not one of %s" % (show(mode), ", ".join(MODE_NAMES)))
    groups = read_id_list(d, "groups", w, 1, MAX_GROUPS, True)
    n = len(groups)
    counts = read_int_list(d, "counts", w, n, 0, COUNT_MAX)
    occ = read_int_list(d, "occupancy_permille", w, n, 0, OCCUPANCY_MAX, " permille")
    faults = read_id_list(d, "faults", w, 0, MAX_DETECTORS, False)
    green = d.get("green_ms")
    used = d.get("used_green_ms")
    if green is not None or used is not None:  # optional: older controllers do not send them
        read_int_list(d, "green_ms", w, n, 0, PERIOD_MAX_MS, " ms")
        read_int_list(d, "used_green_ms", w, n, 0, PERIOD_MAX_MS, " ms")
        for i in range(n):
            if used[i] > green[i]:
                refuse(w, "field used_green_ms[%d]=%d is above green_ms[%d]=%d" % (i, used[i], i, green[i]))
    loops = d.get("loop_counts")
    if loops is not None:  # optional: older controllers do not send it
        check_list(loops, "loop_counts", w, n, n)
        for i in range(n):
            name = "loop_counts[%d]" % i
            check_int_list(loops[i], name, w, 0, MAX_DETECTORS, 0, COUNT_MAX)
            if sum(loops[i]) != counts[i]:
                refuse(w, "field %s sums to %d, but counts[%d]=%d (the group's count is its loops' sum)" % (
                    name, sum(loops[i]), i, counts[i]))
    return Report(read_id(d, "controller", w), read_int(d, "seq", w, 0, SEQ_MAX),
                  read_int(d, "wall_ms", w, 0, WALL_MS_MAX, " ms"), read_int(d, "period_ms", w, 0, PERIOD_MAX_MS, " ms"),
                  MODE_NAMES.index(mode), read_int(d, "plan_seq", w, 0, SEQ_MAX), groups, counts, occ, faults,
                  green, used, loops)


def encode_plan_status(controller_id, seq, reason, wall_ms, text="", last_seq=None):
    # The controller's answer to every plan it receives: applied (reason 0)
    # or why not. last_seq: the seq of the last plan it accepted (0: none),
    # so a coordinator that lost its state learns where to continue. The
    # text is cut to TEXT_MAX_CHARS so the answer always decodes.
    d = {"format": STATUS_FORMAT, "controller": controller_id, "seq": seq, "reason": reason,
         "result": REASON_NAMES[reason], "wall_ms": wall_ms, "text": text[:TEXT_MAX_CHARS]}
    if last_seq is not None:
        d["last_seq"] = last_seq
    return json.dumps(d).encode()


def decode_plan_status(payload):
    # Host side: bytes -> dict with controller, seq, reason, result, wall_ms,
    # text and last_seq (None from older controllers), every field checked.
    w = "plan status"
    d = load_object(payload, w, STATUS_FORMAT)
    reason = read_int(d, "reason", w, 0, STATUS_REASON_MAX)
    last = d.get("last_seq")
    return {"controller": read_id(d, "controller", w), "seq": read_int(d, "seq", w, 0, SEQ_MAX), "reason": reason,
            "result": REASON_NAMES[reason] if reason < len(REASON_NAMES) else "reason %d" % reason,
            "wall_ms": read_int(d, "wall_ms", w, 0, WALL_MS_MAX, " ms"), "text": read_text(d, "text", w),
            "last_seq": None if last is None else read_int(d, "last_seq", w, 0, SEQ_MAX)}
