# Defaults and allowed ranges of every config field. Runs on the board.
# Shared by config/validation.py (which checks them) and config/defaults.py
# (which fills them in once, at load), and quoted by docs/config-reference.md.
# Timing tables: field -> (default, min, max) in ms; default None = required.
from controller.compat import const

FORMAT = "ampelwerk-intersection/1"
# the strategies a config may name (strategies/registry.py makes them)
STRATEGY_NAMES = ("fixed", "actuated", "adaptive", "coordinated")

# field: (default, min, max) in ms unless the name says otherwise; default None = required
VEHICLE_TIMING = {
    "min_green_ms": (5000, 1000, 120000),
    "max_green_ms": (45000, 1000, 300000),
    "passage_ms": (3000, 0, 20000),
    "yellow_ms": (3000, 3000, 8000),
    "red_clearance_ms": (1000, 0, 10000),
    # red revert: the least red after the group's own yellow before it may go green again
    "red_revert_ms": (2000, 1000, 30000),
}
PEDESTRIAN_TIMING = {
    "walk_ms": (7000, 1000, 60000),
    "ped_clearance_ms": (None, 1000, 60000),
    "red_clearance_ms": (1000, 0, 10000),
    "max_green_ms": (300000, 1000, 300000),
    "red_revert_ms": (2000, 1000, 30000),
}
VEHICLE_RECALLS = ("none", "min", "max")
PEDESTRIAN_RECALLS = ("none", "ped")
# "exit": a loop just past the junction on an outgoing lane; it calls and extends
# nothing, the approach loops whose lanes lead onto it name it in "exits"
# "check_in" / "check_out": a priority loop registering / clearing a request of its
# priority_class (config/priority_schema.py); it calls and extends nothing either
DETECTOR_KINDS = ("stop_bar", "advance", "pedestrian", "exit", "check_in", "check_out")
# 0 disables a diagnostic; a detector may set its own value of each
DIAGNOSTICS = {
    # no actuation for this long while the other loops on its lane counted
    # witness_count vehicles: a dead loop (docs/core.md, "Detector
    # diagnostics"). A loop on no approach needs no witnesses.
    "no_activity_ms": (1800000, 60000, 86400000),
    "max_presence_ms": (180000, 10000, 3600000),
    "erratic_counts_per_min": (70, 10, 1000),
}
# Block only. witness_count in vehicles (0: no witnesses needed); idle
# limits by detector role, ms: a loop on an approach without an actuation
# for this long is suspect whatever its lane saw (0: never).
DIAGNOSTICS_WITNESS = {
    "witness_count": (20, 1, 1000),
    "idle_stop_bar_ms": (7200000, 60000, 86400000),
    "idle_advance_ms": (14400000, 60000, 86400000),
    "idle_turn_pocket_ms": (14400000, 60000, 86400000),
}
# a detector's own idle limit (default: its role's, above)
DETECTOR_IDLE = (None, 60000, 86400000)
OCCUPANCY_WINDOW = (60000, 1000, 3600000)
STARTUP_FLASH = (5000, 0, 60000)
INTERGREEN_MAX_MS = const(60000)
DISTANCE_MAX_M = const(1000)
CYCLE_RANGE = (20000, 300000)
FLASH_MODES = ("yellow", "red")
SEQUENCE_MODES = ("fixed", "free")
MAX_GROUPS = const(64)
MAX_DETECTORS = const(250)
# "adaptive" block: parameters of the adaptive strategy (strategies/adaptive.py)
ADAPTIVE = {
    "min_gap_ms": (1000, 0, 10000),  # shortest passage time once the counted queue has cleared
    "gap_reduction_ms_per_veh": (0, 0, 5000),  # passage cut per vehicle-equivalent waiting elsewhere
    "age_weight_ms": (20000, 1000, 600000),  # one vehicle-equivalent per this much waiting
    "max_wait_ms": (120000, 10000, 600000),  # longest a group with demand may wait (default for all groups)
    "spill_ms": (3000, 1000, 60000),  # an advance loop occupied this long means the queue spilled past it
    "saturation_headway_ms": (2000, 1000, 5000),  # discharge headway when a stop-bar loop is missing
    "permissive_wait_ms": (5000, 1000, 60000),  # a permissive green's loop on this long: waiting for a gap
    "exit_blocked_ms": (4000, 1000, 60000),  # an exit loop occupied this long: that exit is blocked
}
