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
# Clocks of time stamps wrap here; an age is (now - stamp) & CLOCK_MASK, and
# stamps older than AGE_MAX_MS (about 3.1 days) are moved up to it once a
# minute, so ages saturate there (give or take that minute: every threshold
# of the core is far shorter) and a wrap never makes an old stamp look new.
CLOCK_MASK = const(0x1FFFFFFF)
AGE_MAX_MS = const(0x10000000)
CLAMP_EVERY_MS = const(60000)


def clamp_ages(stamps, now):
    # Move every stamp older than AGE_MAX_MS up to it (called once a minute).
    oldest = (now - AGE_MAX_MS) & CLOCK_MASK
    for i in range(len(stamps)):
        if (now - stamps[i]) & CLOCK_MASK > AGE_MAX_MS:
            stamps[i] = oldest
