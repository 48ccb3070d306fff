# Limits of the core's integer time. Runs on the board. Units: ms.
# Every timer, clock and time stamp stays a small int (compat.SMALL_INT_MAX,
# 2**30 - 1 on a 32-bit board) however long the controller runs, so tick
# arithmetic never allocates.
from controller.compat import const

# 2**29 ms is about 6.2 days: a saturating timer never grows past it, so
# `timer + elapsed_ms` never leaves the small-int range and never allocates.
TIMER_MAX_MS = const(536870912)
# Longest step the core accepts in one tick; longer gaps are split by the caller.
MAX_STEP_MS = const(60000)
# Clocks of time stamps (stamp_clock.py) wrap at CLOCK_MASK; ages saturate
# at AGE_MAX_MS (about 3.1 days), clamped every CLAMP_EVERY_MS.
CLOCK_MASK = const(0x1FFFFFFF)
AGE_MAX_MS = const(0x10000000)
CLAMP_EVERY_MS = const(60000)
