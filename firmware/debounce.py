# Debounced detector inputs: an integrating filter per input. Runs on the
# board. A raw input must hold for debounce_ms before the debounced presence
# follows it; chatter shorter than that is ignored. update() allocates nothing.
from array import array


class Debouncer:
    def __init__(self, n, debounce_ms):
        self.n = n
        self.limit_ms = debounce_ms
        self.level_ms = array("i", [0] * n)  # 0 .. limit_ms
        self.presence = bytearray(n)

    def update(self, elapsed_ms, raw):
        # raw: one 0/1 per input. Updates and returns self.presence.
        lim = self.limit_ms
        for i in range(self.n):
            v = self.level_ms[i]
            if raw[i]:
                v += elapsed_ms
                if v >= lim:
                    v = lim
                    self.presence[i] = 1
            else:
                v -= elapsed_ms
                if v <= 0:
                    v = 0
                    self.presence[i] = 0
            self.level_ms[i] = v
        return self.presence
