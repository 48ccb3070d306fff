# Compat shim: what differs between MicroPython and CPython. Runs on the board.
# `const` is MicroPython's compile-time constant marker (identity on CPython).
# The core's time limits are timing.py's.
try:
    from micropython import const
except ImportError:  # CPython

    def const(value):
        return value


# The largest small int of a 32-bit MicroPython port (31-bit signed: 2**30 - 1);
# past it an int is a long int, allocated on the heap at every change.
# Counters that run for ever (versions, edge counts, frame and fault tallies)
# wrap with `& SMALL_INT_MAX` or saturate at it, so they never allocate. The
# core keeps to it on CPython too, so both count alike.
SMALL_INT_MAX = const(0x3FFFFFFF)
