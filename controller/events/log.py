# Fixed-size ring buffer of high-resolution controller events (Indiana format).
# Runs on the board. Allocated once; `add()` writes in place and never allocates.
# Time is kept as whole seconds plus milliseconds so that a board running for
# years stays in small-int range. When the ring is full the oldest event is
# overwritten and `dropped` counts it, so a reader can tell that data was lost.
from array import array

from controller.compat import SMALL_INT_MAX


class EventLog:
    def __init__(self, capacity=1024):
        if capacity < 1:
            raise ValueError("event log capacity=%d must be at least 1" % capacity)
        self.capacity = capacity
        self.seconds = array("i", [0] * capacity)
        self.millis = array("H", [0] * capacity)
        self.codes = bytearray(capacity)
        self.params = array("H", [0] * capacity)
        self.head = 0  # index of the next write
        self.size = 0
        self.total = 0  # events ever added (saturating)
        self.dropped = 0  # events overwritten before anyone read them (saturating)
        self.now_s = 0
        self.now_ms = 0

    def advance(self, elapsed_ms):
        # Move the log's clock; called once per tick by the controller.
        ms = self.now_ms + elapsed_ms
        while ms >= 1000:
            ms -= 1000
            self.now_s += 1
        self.now_ms = ms

    def add(self, code, param):
        i = self.head
        self.seconds[i] = self.now_s
        self.millis[i] = self.now_ms
        self.codes[i] = code
        self.params[i] = param
        i += 1
        if i >= self.capacity:
            i = 0
        self.head = i
        if self.size < self.capacity:
            self.size += 1
        elif self.dropped < SMALL_INT_MAX:
            self.dropped += 1
        if self.total < SMALL_INT_MAX:
            self.total += 1

    def clear(self):
        self.head = 0
        self.size = 0

    # ---- read-out by age, without allocating (a codec copies events into a frame) ----
    # k counts from the oldest event still held (k = 0) to the newest (k = size - 1).
    def _slot(self, k):
        i = self.head - self.size + k
        if i < 0:
            i += self.capacity
        return i

    def event_time_ms(self, k):
        i = self._slot(k)
        return self.seconds[i] * 1000 + self.millis[i]

    def event_code(self, k):
        return self.codes[self._slot(k)]

    def event_param(self, k):
        return self.params[self._slot(k)]

    def discard_oldest(self, n):
        # Forget the n oldest events (0 <= n <= size), once they were copied out.
        self.size -= n

    # ---- read-out (not on the tick path; may allocate) ----
    def items(self):
        # Oldest first: list of (time_ms, code, param).
        out = []
        for k in range(self.size):
            out.append((self.event_time_ms(k), self.event_code(k), self.event_param(k)))
        return out

    def drain(self):
        # Return all events oldest first and empty the ring.
        out = self.items()
        self.clear()
        return out


def format_csv_row(time_ms, code, param):
    from controller.events.names import NAMES

    return "%d,%d,%d,%s" % (time_ms, code, param, NAMES.get(code, ""))


CSV_HEADER = "time_ms,event_code,event_param,event_name"
