# Priority requests from the coordinator or a central system over MQTT:
# the signed message on <prefix>/<controller>/priority, its checks, and the
# controller's answer on <prefix>/<controller>/priority_status. Runs on the
# board and on the host; nothing here is on the tick path. Units: ms;
# wall-clock times are Unix epoch ms. Layout: docs/coordination-protocol.md.
#
# A request is signed with the controller's plan key (HMAC-SHA256 over
# signing_text()), and taken only when it is addressed to this controller,
# its signature holds, its seq is above the last one taken (no replay) and
# its wall_ms is within FRESH_MS of the controller's clock either way (a
# request held back by a broker outage is refused, not served late). Then
# it counts one request of its class up (on) or down (off), exactly as a
# check-in or check-out loop would (controller/priority/requests.py).
import json

from controller.compat import const
from controller.coordination.message_fields import (
    SEQ_MAX,
    SIG_MAX_CHARS,
    TEXT_MAX_CHARS,
    WALL_MS_MAX,
    MessageError,
    load_object,
    read_id,
    read_int,
    read_text,
    refuse,
    show,
)
from controller.coordination.messages import (
    PLAN_ACCEPTED,
    PLAN_BAD_SIGNATURE,
    PLAN_MALFORMED,
    PLAN_NOT_YET_VALID,
    PLAN_OUT_OF_BOUNDS,
    PLAN_REPLAYED,
    PLAN_STALE,
    PLAN_WRONG_CONTROLLER,
    REASON_NAMES,
)
from controller.coordination.plan_signature import sign_hex, verify_hex

PRIORITY_FORMAT = "ampelwerk-priority/1"
PRIORITY_STATUS_FORMAT = "ampelwerk-priority-status/1"
FRESH_MS = const(30000)


class PriorityRequest:
    def __init__(self, controller_id, seq, wall_ms, class_id, on, signature=""):
        self.controller_id = controller_id
        self.seq = seq
        self.wall_ms = wall_ms
        self.class_id = class_id
        self.on = on
        self.signature = signature

    def signing_text(self):
        return ("%s|%s|%d|%d|%s|%d" % (PRIORITY_FORMAT, self.controller_id, self.seq, self.wall_ms, self.class_id,
                                       1 if self.on else 0)).encode()


def encode_priority(req, key):
    # Host side: sign with the controller's key and serialise.
    req.signature = sign_hex(key, req.signing_text())
    return json.dumps({"format": PRIORITY_FORMAT, "controller": req.controller_id, "seq": req.seq,
                       "wall_ms": req.wall_ms, "class": req.class_id, "on": req.on,
                       "sig": req.signature}).encode()


def decode_priority(payload):
    # bytes -> PriorityRequest; MessageError(PLAN_MALFORMED) names the field,
    # the value and the allowed range
    w = "priority request"
    d = load_object(payload, w, PRIORITY_FORMAT)
    on = d.get("on")
    if on is not True and on is not False:
        refuse(w, "field on=%s is not true or false" % show(on))
    sig = d.get("sig")
    if not isinstance(sig, str) or len(sig) > SIG_MAX_CHARS:
        refuse(w, "field sig=%s is not hex text of at most %d characters" % (show(sig), SIG_MAX_CHARS))
    return PriorityRequest(read_id(d, "controller", w), read_int(d, "seq", w, 1, SEQ_MAX),
                           read_int(d, "wall_ms", w, 0, WALL_MS_MAX, " ms"), read_id(d, "class", w), on, sig)


def encode_priority_status(controller_id, seq, reason, wall_ms, text="", requests=0):
    # The controller's answer to every request: taken (reason 0) or why not
    # (the reasons of plan status), and the class's requests counted now.
    return json.dumps({"format": PRIORITY_STATUS_FORMAT, "controller": controller_id, "seq": seq, "reason": reason,
                       "result": REASON_NAMES[reason], "wall_ms": wall_ms, "text": text[:TEXT_MAX_CHARS],
                       "requests": requests}).encode()


def decode_priority_status(payload):
    # Host side: bytes -> dict, every field checked
    w = "priority status"
    d = load_object(payload, w, PRIORITY_STATUS_FORMAT)
    reason = read_int(d, "reason", w, 0, len(REASON_NAMES) - 1)
    return {"controller": read_id(d, "controller", w), "seq": read_int(d, "seq", w, 0, SEQ_MAX), "reason": reason,
            "result": REASON_NAMES[reason], "wall_ms": read_int(d, "wall_ms", w, 0, WALL_MS_MAX, " ms"),
            "text": read_text(d, "text", w), "requests": read_int(d, "requests", w, 0, 255)}


class PriorityGate:
    # One controller's check of the requests it receives.
    def __init__(self, ctl, key, fresh_ms=FRESH_MS):
        self.ctl = ctl
        self.key = key
        self.fresh_ms = fresh_ms
        self.last_seq = 0  # of the last request taken
        self.accepted = 0
        self.rejected = 0
        self.last_reason = -1  # of the last request offered (-1: none yet)
        self.last_text = ""

    def offer(self, payload, wall_ms):
        # A payload from the priority topic -> the priority-status payload to
        # publish. Never raises on bad input.
        ctl = self.ctl
        cid = ctl.ix.id
        seq = 0
        count = 0
        try:
            req = decode_priority(payload)
            seq = req.seq
            reason, text, count = self._check(req, wall_ms)
        except MessageError as e:
            reason, text = e.reason, str(e)
        except Exception as e:  # noqa: BLE001 - a request never takes the controller down
            reason, text = PLAN_MALFORMED, "priority request could not be read: %r" % (e,)
        self.last_reason = reason
        self.last_text = text
        if reason == PLAN_ACCEPTED:
            self.accepted += 1
        else:
            self.rejected += 1
        return encode_priority_status(cid, seq, reason, wall_ms, text, count)

    def _check(self, req, wall_ms):
        ctl = self.ctl
        head = "priority seq=%d for %s" % (req.seq, req.controller_id)
        if req.controller_id != ctl.ix.id:
            return PLAN_WRONG_CONTROLLER, "%s: addressed to another controller (this is %s)" % (head, ctl.ix.id), 0
        if not verify_hex(self.key, req.signing_text(), req.signature):
            return PLAN_BAD_SIGNATURE, "%s: signature does not match this controller's key" % head, 0
        if req.seq <= self.last_seq:
            return PLAN_REPLAYED, "%s: seq=%d is not above the last request's seq=%d" % (
                head, req.seq, self.last_seq), 0
        if req.wall_ms < wall_ms - self.fresh_ms:
            return PLAN_STALE, "%s: wall_ms=%d is %d ms before the controller's clock %d (at most %d ms)" % (
                head, req.wall_ms, wall_ms - req.wall_ms, wall_ms, self.fresh_ms), 0
        if req.wall_ms > wall_ms + self.fresh_ms:
            return PLAN_NOT_YET_VALID, "%s: wall_ms=%d is %d ms after the controller's clock %d (at most %d ms)" % (
                head, req.wall_ms, req.wall_ms - wall_ms, wall_ms, self.fresh_ms), 0
        prio = ctl.priority
        c = prio.classes.index(req.class_id) if prio is not None else -1
        if c < 0:
            known = ", ".join(prio.classes.ids) if prio is not None else "none: the config has no priority block"
            return PLAN_OUT_OF_BOUNDS, '%s: class "%s" is not a priority class of %s (%s)' % (
                head, req.class_id, ctl.ix.id, known), 0
        self.last_seq = req.seq
        prio.request(c, req.on)
        return PLAN_ACCEPTED, "%s: class %s %s" % (head, req.class_id, "on" if req.on else "off"), \
            prio.requests.count[c]
