# Coordination messages between controllers and the coordinator: topics,
# payloads (JSON text), the canonical text a plan's signature covers, and the
# reasons a plan is refused. Runs on the board and on the host; nothing here
# is on the tick path. Units: ms; wall-clock times are Unix epoch ms.
# Layouts and examples: docs/coordination-protocol.md.
import json

from controller.compat import const
from controller.plan_signature import sign_hex

PLAN_FORMAT = "ampelwerk-plan/1"
REPORT_FORMAT = "ampelwerk-report/1"
STATUS_FORMAT = "ampelwerk-plan-status/1"
TOPIC_PREFIX = "ampelwerk"

# Why a plan was refused (plan-status "reason", event PLAN_REJECTED's parameter)
PLAN_ACCEPTED = const(0)
PLAN_MALFORMED = const(1)  # not JSON, a field missing or of the wrong type
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


class MessageError(ValueError):
    def __init__(self, reason, text):
        self.reason = reason
        super().__init__(text)


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


def _int(d, name):
    v = d.get(name)
    if not isinstance(v, int) or isinstance(v, bool):
        raise MessageError(PLAN_MALFORMED, "plan field %s=%r is not an integer" % (name, v))
    return v


def _str(d, name):
    v = d.get(name)
    if not isinstance(v, str) or not v:
        raise MessageError(PLAN_MALFORMED, "plan field %s=%r is not a non-empty string" % (name, v))
    return v


def decode_plan(payload):
    # bytes -> Plan; MessageError(PLAN_MALFORMED) names what is wrong. Does not
    # check the signature or the bounds (plan_validation.py does).
    try:
        d = json.loads(payload)
    except (ValueError, UnicodeError):
        raise MessageError(PLAN_MALFORMED, "plan is not JSON (%d bytes)" % len(payload))
    if not isinstance(d, dict) or d.get("format") != PLAN_FORMAT:
        raise MessageError(PLAN_MALFORMED, "plan format is %r, expected %r" % (
            d.get("format") if isinstance(d, dict) else None, PLAN_FORMAT))
    splits = d.get("splits")
    if not isinstance(splits, list) or not splits:
        raise MessageError(PLAN_MALFORMED, "plan field splits=%r is not a list of [stage, split_ms]" % (splits,))
    stage_ids = []
    split_ms = []
    for item in splits:
        if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                or not isinstance(item[1], int) or isinstance(item[1], bool)):
            raise MessageError(PLAN_MALFORMED, "plan split %r is not [stage id, split_ms]" % (item,))
        stage_ids.append(item[0])
        split_ms.append(item[1])
    sig = d.get("sig")
    if not isinstance(sig, str):
        raise MessageError(PLAN_MALFORMED, "plan field sig=%r is not hex text" % (sig,))
    return Plan(_str(d, "controller"), _str(d, "corridor"), _int(d, "seq"), _int(d, "ref_ms"),
                _int(d, "valid_from_ms"), _int(d, "valid_until_ms"), _int(d, "cycle_ms"), _int(d, "offset_ms"),
                stage_ids, split_ms, sig)


class Report:
    # What a controller tells the coordinator every report period: vehicles
    # counted and occupancy per signal group (group order of its config), its
    # mode, the plan in force (seq, 0 = none) and its detector faults; and,
    # per group, its green time and the part of it traffic used (green_usage.py;
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
    # Host side: bytes -> Report; MessageError(PLAN_MALFORMED) names what is wrong.
    try:
        d = json.loads(payload)
    except (ValueError, UnicodeError):
        raise MessageError(PLAN_MALFORMED, "report is not JSON (%d bytes)" % len(payload))
    if not isinstance(d, dict) or d.get("format") != REPORT_FORMAT:
        raise MessageError(PLAN_MALFORMED, "report format is %r, expected %r" % (
            d.get("format") if isinstance(d, dict) else None, REPORT_FORMAT))
    mode = d.get("mode")
    if mode not in MODE_NAMES:
        raise MessageError(PLAN_MALFORMED, "report field mode=%r is not one of %s" % (mode, ", ".join(MODE_NAMES)))
    groups = d.get("groups")
    counts = d.get("counts")
    occ = d.get("occupancy_permille")
    faults = d.get("faults")
    for name, v in (("groups", groups), ("counts", counts), ("occupancy_permille", occ), ("faults", faults)):
        if not isinstance(v, list):
            raise MessageError(PLAN_MALFORMED, "report field %s=%r is not a list" % (name, v))
    if len(counts) != len(groups) or len(occ) != len(groups):
        raise MessageError(PLAN_MALFORMED, "report has %d groups but %d counts and %d occupancies" % (
            len(groups), len(counts), len(occ)))
    green = d.get("green_ms")
    used = d.get("used_green_ms")
    if green is not None or used is not None:  # optional: older controllers do not send them
        for name, v in (("green_ms", green), ("used_green_ms", used)):
            if not isinstance(v, list) or len(v) != len(groups):
                raise MessageError(PLAN_MALFORMED, "report field %s=%r is not a list of %d integers" % (
                    name, v, len(groups)))
    loops = d.get("loop_counts")
    if loops is not None:  # optional: older controllers do not send it
        if not isinstance(loops, list) or len(loops) != len(groups) or not all(
                isinstance(c, list) and all(isinstance(n, int) and n >= 0 for n in c) for c in loops):
            raise MessageError(PLAN_MALFORMED, "report field loop_counts=%r is not a list of %d lists of counts" % (
                loops, len(groups)))
    return Report(_str(d, "controller"), _int(d, "seq"), _int(d, "wall_ms"), _int(d, "period_ms"),
                  MODE_NAMES.index(mode), _int(d, "plan_seq"), groups, counts, occ, faults, green, used, loops)


def encode_plan_status(controller_id, seq, reason, wall_ms, text=""):
    # The controller's answer to every plan it receives: applied (reason 0) or why not.
    return json.dumps({"format": STATUS_FORMAT, "controller": controller_id, "seq": seq, "reason": reason,
                       "result": REASON_NAMES[reason], "wall_ms": wall_ms, "text": text}).encode()


def decode_plan_status(payload):
    # Host side: bytes -> dict with controller, seq, reason, result, wall_ms, text.
    try:
        d = json.loads(payload)
    except (ValueError, UnicodeError):
        raise MessageError(PLAN_MALFORMED, "plan status is not JSON (%d bytes)" % len(payload))
    if not isinstance(d, dict) or d.get("format") != STATUS_FORMAT:
        raise MessageError(PLAN_MALFORMED, "plan status format is %r, expected %r" % (
            d.get("format") if isinstance(d, dict) else None, STATUS_FORMAT))
    _str(d, "controller")
    _int(d, "seq")
    _int(d, "reason")
    return d
