# A wrapping millisecond clock for time stamps. Runs on the board.
# A duration kept as a stamp (when something began) is read as an age,
# (now - stamp) & CLOCK_MASK, so a tick moves one clock instead of every
# timer. Once a minute every stamp of the arrays kept on the clock that is
# older than AGE_MAX_MS is moved up to it: ages saturate there (about 3.1
# days, give or take that minute: every threshold of the core is far
# shorter) and the clock's wrap (2**29 ms, 6.2 days) can never make an old
# stamp look recent. advance() allocates nothing.
from controller.timing import AGE_MAX_MS, CLAMP_EVERY_MS, CLOCK_MASK


class StampClock:
    def __init__(self, stamp_arrays):
        # stamp_arrays: a tuple of array("i") holding stamps on this clock
        self.now_ms = 0
        self.since_clamp_ms = 0
        self.stamp_arrays = stamp_arrays

    def advance(self, elapsed_ms):
        # Move the clock on; returns the new time. A small frame: MicroPython
        # puts a call's locals on the C stack only up to a few words, and
        # allocates larger frames on the heap, on every call.
        now = (self.now_ms + elapsed_ms) & CLOCK_MASK
        self.now_ms = now
        t = self.since_clamp_ms + elapsed_ms
        if t >= CLAMP_EVERY_MS:
            t = 0
            self._clamp(now)
        self.since_clamp_ms = t
        return now

    def _clamp(self, now):
        oldest = (now - AGE_MAX_MS) & CLOCK_MASK
        for stamps in self.stamp_arrays:
            for i in range(len(stamps)):
                if (now - stamps[i]) & CLOCK_MASK > AGE_MAX_MS:
                    stamps[i] = oldest
