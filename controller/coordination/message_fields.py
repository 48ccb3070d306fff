# Bounds of every field of the coordination messages, and the readers that
# check a decoded JSON object against them before anything uses a value.
# A controller or the coordinator decodes messages from the network, so
# every field is checked for type and range here, once: a value that passes
# cannot overflow a float, break a dict or make a later computation raise.
# Every refusal is a MessageError(PLAN_MALFORMED) naming the message, the
# field, the value (cut to a readable length) and the allowed range.
# Runs on the board and on the host; not on the tick path (messages are
# decoded between ticks, so the readers may allocate). Units: ms; wall-clock
# times are Unix epoch ms. Table of bounds: docs/coordination-protocol.md.
import json

from controller.compat import const
from controller.config.schema import MAX_GROUPS
from controller.timing import TIMER_MAX_MS

PLAN_MALFORMED = const(1)  # the plan-status reason of a message that does not parse (see coordination/messages.py)

MESSAGE_MAX_BYTES = const(65536)  # longest payload decoded at all
ID_MAX_CHARS = const(64)  # controller, corridor, signal group, stage and detector ids
TEXT_MAX_CHARS = const(1000)  # free text (plan status "text")
SIG_MAX_CHARS = const(128)  # the signature field (an HMAC-SHA256 is 64 hex digits)
# Sequence numbers: at most 2**53 - 1, so every JSON reader keeps them exact.
# Plan seqs count the coordinator's clock in ms (docs/coordination.md), so
# this bound is reached in the year 287,000.
SEQ_MAX = const(9007199254740991)
WALL_MS_MAX = const(4102444800000)  # 2100-01-01T00:00Z; 0 (an unset clock) is allowed
COUNT_MAX = const(0x1FFFFFFF)  # vehicles on one loop or one group in one period (detectors.COUNT_WRAP - 1)
OCCUPANCY_MAX = const(1000)  # permille
PERIOD_MAX_MS = TIMER_MAX_MS  # a report period, a green time; timers saturate there
TIMING_MAX_MS = TIMER_MAX_MS  # a plan's cycle, offset and splits (the gate checks the cycle range)
MAX_SPLITS = MAX_GROUPS  # stages in a plan: a stage shows at least one group of its own
STATUS_REASON_MAX = const(255)  # plan-status reason codes a coordinator accepts (newer controllers may add some)


class MessageError(ValueError):
    def __init__(self, reason, text):
        self.reason = reason
        super().__init__(text)


def show(v):
    # A value as quoted in an error: its repr, cut to 40 characters.
    try:
        r = repr(v)
    except Exception:  # noqa: BLE001 - a value too large to print is still named
        r = "<%s>" % type(v).__name__
    if len(r) > 40:
        r = "%s... (%d characters)" % (r[:32], len(r))
    return r


def refuse(what, text):
    raise MessageError(PLAN_MALFORMED, "%s %s" % (what, text))


def load_object(payload, what, fmt):
    # bytes -> dict whose "format" is fmt; what names the message in errors.
    if not isinstance(payload, (bytes, bytearray, str)):
        refuse(what, "is a %s, not bytes" % type(payload).__name__)
    if len(payload) > MESSAGE_MAX_BYTES:
        refuse(what, "is %d bytes, above the %d-byte maximum" % (len(payload), MESSAGE_MAX_BYTES))
    try:
        d = json.loads(payload)
    except (ValueError, RuntimeError) as e:  # UnicodeError is a ValueError; deep nesting a RuntimeError
        refuse(what, "is not JSON (%d bytes): %s" % (len(payload), show(str(e))))
    if not isinstance(d, dict):
        refuse(what, "is a JSON %s, expected an object" % type(d).__name__)
    f = d.get("format")
    if f != fmt:
        refuse(what, "format is %s, expected %r" % (show(f), fmt))
    return d


def check_int(v, name, what, lo, hi, unit=""):
    # v itself: an integer (not a bool) in lo..hi
    if not isinstance(v, int) or isinstance(v, bool):
        refuse(what, "field %s=%s is not an integer" % (name, show(v)))
    if v < lo or v > hi:
        refuse(what, "field %s=%s is outside %d..%d%s" % (name, show(v), lo, hi, unit))
    return v


def read_int(d, name, what, lo, hi, unit=""):
    return check_int(d.get(name), name, what, lo, hi, unit)


def check_id(v, name, what):
    # an id: a string of 1..ID_MAX_CHARS characters
    if not isinstance(v, str) or not v:
        refuse(what, "field %s=%s is not a non-empty string" % (name, show(v)))
    if len(v) > ID_MAX_CHARS:
        refuse(what, "field %s=%s is %d characters long, above the %d maximum" % (name, show(v), len(v), ID_MAX_CHARS))
    return v


def read_id(d, name, what):
    return check_id(d.get(name), name, what)


def check_list(v, name, what, lo_len, hi_len):
    # v itself: a list of lo_len..hi_len items
    if not isinstance(v, list):
        refuse(what, "field %s=%s is not a list" % (name, show(v)))
    if len(v) < lo_len or len(v) > hi_len:
        refuse(what, "field %s has %d items, allowed %d..%d" % (name, len(v), lo_len, hi_len))
    return v


def read_list(d, name, what, lo_len, hi_len):
    return check_list(d.get(name), name, what, lo_len, hi_len)


def check_int_list(v, name, what, lo_len, hi_len, lo, hi, unit=""):
    # v itself: a list of lo_len..hi_len integers, each in lo..hi
    check_list(v, name, what, lo_len, hi_len)
    for i in range(len(v)):
        check_int(v[i], "%s[%d]" % (name, i), what, lo, hi, unit)
    return v


def read_int_list(d, name, what, n, lo, hi, unit=""):
    # d[name]: a list of exactly n integers, each in lo..hi
    return check_int_list(d.get(name), name, what, n, n, lo, hi, unit)


def read_id_list(d, name, what, lo_len, hi_len, unique):
    v = read_list(d, name, what, lo_len, hi_len)
    for i in range(len(v)):
        check_id(v[i], "%s[%d]" % (name, i), what)
        if unique and v[i] in v[:i]:
            refuse(what, "field %s[%d]=%s repeats an earlier id" % (name, i, show(v[i])))
    return v


def read_text(d, name, what, default=""):
    v = d.get(name, default)
    if not isinstance(v, str):
        refuse(what, "field %s=%s is not text" % (name, show(v)))
    if len(v) > TEXT_MAX_CHARS:
        refuse(what, "field %s is %d characters long, above the %d maximum" % (name, len(v), TEXT_MAX_CHARS))
    return v
