# Event codes of preemption and transit signal priority, from the Indiana
# Traffic Signal Hi-Resolution Data Logger Enumerations (codes 102-115).
# Runs on the board. Kept out of events/codes.py so that a board without a
# priority block does not carry their names (events/names.py reads both).
# Parameter: the priority class number (1-based, the order of
# priority.classes). 101 (advance warning), 103 (gate down input) and
# 108/109 (preempt link active on/off) are not used: no such inputs here.
from controller.compat import const

PREEMPT_CALL_INPUT_ON = const(102)
PREEMPT_CALL_INPUT_OFF = const(104)
PREEMPT_ENTRY_STARTED = const(105)
PREEMPT_BEGIN_TRACK_CLEARANCE = const(106)
PREEMPT_BEGIN_DWELL = const(107)
PREEMPT_MAX_PRESENCE_EXCEEDED = const(110)
PREEMPT_BEGIN_EXIT = const(111)
TSP_CHECK_IN = const(112)
TSP_EARLY_GREEN = const(113)
TSP_EXTEND_GREEN = const(114)
TSP_CHECK_OUT = const(115)
