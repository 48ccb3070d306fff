# Event codes of the Indiana Traffic Signal Hi-Resolution Data Logger
# Enumerations (Sturdevant et al., 2012), as read by ATSPM tools. Runs on the board.
# Parameter: signal group number (1-based, "phase") or detector channel (1-based).
# Each code's name, in lower case, is its name in exported event files
# (events/names.py): the codes come first; the values of a code's parameter
# follow, each family under its prefix (FAULT_, ALARM_, COORD_STATE_).
from controller.compat import const

PHASE_BEGIN_GREEN = const(1)
PHASE_MIN_COMPLETE = const(3)
PHASE_GAP_OUT = const(4)
PHASE_MAX_OUT = const(5)
PHASE_FORCE_OFF = const(6)
PHASE_GREEN_TERMINATION = const(7)
PHASE_BEGIN_YELLOW = const(8)
PHASE_END_YELLOW = const(9)
PHASE_BEGIN_RED_CLEARANCE = const(10)
PHASE_END_RED_CLEARANCE = const(11)
PED_BEGIN_WALK = const(21)
PED_BEGIN_CLEARANCE = const(22)
PED_BEGIN_DONT_WALK = const(23)
PHASE_CALL_REGISTERED = const(43)
PHASE_CALL_DROPPED = const(44)
PED_CALL_REGISTERED = const(45)
DETECTOR_OFF = const(81)
DETECTOR_ON = const(82)
DETECTOR_RESTORED = const(83)
DETECTOR_FAULT_MAX_PRESENCE = const(84)  # stuck on (Indiana: "detector fault - other")
DETECTOR_FAULT_NO_ACTIVITY = const(85)  # no actuation (Indiana: "detector fault - watchdog fault")
DETECTOR_FAULT_ERRATIC = const(88)  # erratic counts (Indiana: "detector fault - excessive changes")
PED_DETECTOR_OFF = const(89)
PED_DETECTOR_ON = const(90)
PED_DETECTOR_FAILED = const(91)
PED_DETECTOR_RESTORED = const(92)
COORD_PATTERN_CHANGE = const(131)
CYCLE_LENGTH_CHANGE = const(132)
OFFSET_LENGTH_CHANGE = const(133)
COORD_CYCLE_STATE_CHANGE = const(150)  # param: COORD_STATE_* below
UNIT_FLASH_STATUS_CHANGE = const(173)  # param: 1 flash on, 0 flash off
UNIT_ALARM_STATUS_CHANGE = const(174)
VENDOR_ALARM = const(185)  # param: FAULT_* below
COORD_PLAN_ACCEPTED = const(190)  # vendor: a coordination plan was applied (param 0)
COORD_PLAN_REJECTED = const(191)  # vendor: a plan was refused (param: a coordination/messages.py reason code)

# Parameters of VENDOR_ALARM: what the conflict monitor saw.
FAULT_CONFLICT = const(1)  # two conflicting groups out of red at once
FAULT_SHORT_YELLOW = const(2)  # clearance shorter than configured
FAULT_INTERGREEN = const(3)  # green before the intergreen elapsed
FAULT_SHORT_GREEN = const(4)  # green ended before min green / walk
FAULT_BAD_SEQUENCE = const(5)  # green->red without yellow, yellow->green
FAULT_BAD_STATE = const(6)  # unknown state value
FAULT_STEP_INPUT = const(7)  # elapsed_ms out of range; tick ignored
FAULT_YELLOW_TRAP = const(8)  # a group ended beside the green it yields to, or a green began beside its clearance
FAULT_RED_REVERT = const(9)  # green again before the group showed red for its red_revert_ms
FAULT_RED_AMBER = const(10)  # red-amber shorter than red_amber_ms, missing before green, or not followed by green
FAULT_FLASHING_GREEN = const(11)  # flashing green shorter than flashing_green_ms, left out, or not followed by yellow
# Parameters of UNIT_ALARM_STATUS_CHANGE
ALARM_STRATEGY_REQUEST = const(1)  # strategy asked for an unknown stage
# Parameters of COORD_CYCLE_STATE_CHANGE (Indiana 150)
COORD_STATE_FREE = const(0)
COORD_STATE_IN_STEP = const(1)
COORD_STATE_TRANSITION_ADD = const(2)  # lengthening cycles (dwell) to reach the offset
COORD_STATE_TRANSITION_SUBTRACT = const(3)  # shortening cycles to reach the offset
