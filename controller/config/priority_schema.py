# Defaults and allowed ranges of the "priority" block (preemption and transit
# priority, docs/config-reference.md "Priority") and the filling-in of its
# defaults at load. Runs on the board at load only (dropped with the loader).
# Timing tables: field -> (default, min, max) in ms; default None = required.
from controller.compat import const

# kinds and the band of their rank: railroad 3 > emergency 2 > transit 1
PRIORITY_KINDS = ("railroad", "emergency", "transit")
KIND_BAND = {"railroad": 3, "emergency": 2, "transit": 1}
RANK_RANGE = (0, 0, 99)  # an optional "rank" orders classes within their kind's band
MAX_CLASSES = const(16)
# detectors of these kinds register (check_in) and clear (check_out) requests
PRIORITY_DETECTOR_KINDS = ("check_in", "check_out")

COMMON = {
    # a request whose check-out never comes is cleared after this long
    "request_timeout_ms": (120000, 10000, 3600000),
}
PREEMPTION = {
    # greens that are not in the preemption's stage may end after this instead of their min green
    "preempt_min_green_ms": (2000, 1000, 120000),
}
# longest dwell while a request holds (0: no limit but the request timeout)
MAX_DWELL = {"emergency": (60000, 5000, 3600000), "railroad": (0, 5000, 3600000)}
TRACK_CLEARANCE = (15000, 1000, 120000)
TRANSIT = {
    "max_extension_ms": (10000, 0, 60000),  # bus stage held past the strategy's wish, per request
    "max_early_ms": (10000, 0, 60000),  # early green: priority time before the bus stage, per request
    "max_per_cycle_ms": (15000, 0, 120000),  # all priority time of the class per cycle (window)
    "window_ms": (120000, 30000, 600000),  # the "cycle" of max_per_cycle_ms when no coordinated plan runs
}


def _fill(obj, table):
    for name, spec in table.items():
        if obj.get(name) is None and spec[0] is not None:
            obj[name] = spec[0]


def fill_defaults(raw):
    # Every optional field of the priority block written out (raw["priority"]
    # already copied by the caller where the input must stay as it was).
    block = raw["priority"]
    classes = [dict(c) for c in block["classes"]]
    block = dict(block)
    block["classes"] = classes
    raw["priority"] = block
    for c in classes:
        kind = c["kind"]
        c["rank"] = c.get("rank", 0)
        _fill(c, COMMON)
        if kind == "transit":
            _fill(c, TRANSIT)
            if c.get("groups") is None:
                c["groups"] = []
            continue
        _fill(c, PREEMPTION)
        if c.get("max_dwell_ms") is None:
            c["max_dwell_ms"] = MAX_DWELL[kind][0]
        c["exit_stage"] = c.get("exit_stage")
        if kind == "railroad":
            c["track_clearance_stage"] = c.get("track_clearance_stage")
            if c["track_clearance_stage"] is not None and c.get("track_clearance_ms") is None:
                c["track_clearance_ms"] = TRACK_CLEARANCE[0]
    return raw
