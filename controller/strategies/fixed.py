# Fixed-time strategy: a cycle with a split per stage and an offset, in the
# sequence order, without regard to demand (pedestrian groups still walk only
# on a call). Runs on the board; decide() allocates nothing. Units: ms.
#
# A split runs from the start of a stage's green to the start of the next
# stage's green, so the request to leave a stage is made one transition time
# (the longest intergreen to the next stage) before the next split begins.
# The cycle position counts from the controller's power-up, shifted by the
# offset: the first stage's green starts offset_ms into each cycle.
from array import array

from controller.events import codes as ev


class FixedTimeStrategy:
    name = "fixed"

    def __init__(self, ix):
        self.ix = ix
        k = len(ix.sequence)
        self.cycle_ms = ix.cycle_ms
        # request_at[p]: cycle position at which the stage at sequence position p is requested
        self.request_at = array("i", [0] * k)
        # last moment a pedestrian walk may still start in the stage at position p
        self.late_walk_until = array("i", [0] * k)
        green_start = 0
        for p in range(k):
            s = ix.sequence[p]
            prev = ix.sequence[p - 1]
            nxt = ix.sequence[(p + 1) % k]
            at = green_start - ix.transition_ms(prev, s)
            self.request_at[p] = at % self.cycle_ms if self.cycle_ms else 0
            leave = green_start + ix.split_ms[s] - ix.transition_ms(s, nxt)
            self.late_walk_until[p] = leave - self._longest_walk(s)
            green_start += ix.split_ms[s]
        self.cycle_pos_ms = 0

    def _longest_walk(self, s):
        worst = 0
        for g in self.ix.stage_groups[s]:
            if self.ix.is_pedestrian[g] and self.ix.min_green_ms[g] > worst:
                worst = self.ix.min_green_ms[g]
        return worst

    def start(self, ctl):
        ix = self.ix
        if not self.cycle_ms:
            return
        self.cycle_pos_ms = (ctl.uptime_ms() - ix.offset_ms) % self.cycle_ms
        ctl.events.add(ev.CYCLE_LENGTH_CHANGE, self.cycle_ms // 1000)
        ctl.events.add(ev.OFFSET_LENGTH_CHANGE, ix.offset_ms // 1000)

    def decide(self, ctl, elapsed_ms):
        if not self.cycle_ms:
            return ctl.kernel.stage
        c = self.cycle_pos_ms + elapsed_ms
        while c >= self.cycle_ms:
            c -= self.cycle_ms
        self.cycle_pos_ms = c
        # the position whose request window contains c: the last request_at <= c,
        # cyclically (positions are in cycle order, possibly wrapping once)
        k = len(self.request_at)
        p = k - 1
        best = -1
        for q in range(k):
            at = self.request_at[q]
            if at <= c and at >= best:
                best = at
                p = q
        if best < 0:
            # before every request point of this cycle: the latest one of the previous cycle
            for q in range(k):
                if self.request_at[q] >= best:
                    best = self.request_at[q]
                    p = q
        ctl.kernel.allow_late_start = c <= self.late_walk_until[p]
        return self.ix.sequence[p]
