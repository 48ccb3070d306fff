# Random loop traffic for the heap-locked MicroPython checks, allocation-free:
# a linear congruential generator toggles about one loop in three ticks.
# Runs under MicroPython and CPython.


def next_presence(seed, pres, n_detectors):
    # Toggle at most one loop of `pres` in place; returns the next seed.
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    i = seed % (3 * n_detectors + 1)
    if i < n_detectors:
        pres[i] ^= 1
    return seed
