# Compat shim: the few things that differ between MicroPython and CPython.
# Runs on the board. `const` is MicroPython's compile-time constant marker
# (identity on CPython); `TIMER_MAX_MS` bounds every timer so that tick
# arithmetic stays within small ints (30-bit on 32-bit boards) forever.
try:
    from micropython import const
except ImportError:  # CPython

    def const(value):
        return value


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
