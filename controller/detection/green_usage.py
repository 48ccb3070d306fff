# Green time used per signal group, SCATS-style, from the counting loops
# only: the degree of saturation of a group is the part of its green that
# traffic used. Runs on the board; update() allocates nothing and uses
# integer arithmetic only. Units: ms.
#
# While a group is green, every stretch with its loop free (a gap) longer
# than the space one vehicle needs at saturation flow (space_ms) counts as
# unused green beyond space_ms; a gap still open when the green ends counts
# the same. Used green = green - unused, per loop; a group reports its
# busiest loop (the lane that needs the green most). A queue that never
# clears keeps the loop busy to the end of green: used green = green
# (degree of saturation 1) whatever the saturation flow of that lane; a lane
# with few vehicles leaves long gaps: used green far below green. The
# coordinator turns these into flow ratios (docs/coordination.md).
from array import array

from controller.compat import const
from controller.safety.signal_states import GREEN
from controller.timing import TIMER_MAX_MS

SPACE_MS = const(1500)  # free loop time one vehicle needs at saturation flow (about 2 s headway minus its occupancy)


class GreenUsage:
    def __init__(self, ix, detectors, group_loops, space_ms=SPACE_MS):
        # group_loops: per group, the tuple of loop indices that count it
        self.ix = ix
        self.det = detectors
        self.space_ms = space_ms
        n = ix.n_groups
        self.n = n
        flat = []
        self.first = array("i", [0] * (n + 1))  # loops of group g: loop[first[g]:first[g + 1]]
        for g in range(n):
            self.first[g] = len(flat)
            flat.extend(group_loops[g])
        self.first[n] = len(flat)
        self.loop = array("i", flat)
        m = len(flat)
        self.free_ms = array("i", [0] * m)  # current gap on each counting loop, while green
        self.unused_ms = array("i", [0] * m)  # unused green since the last take
        self.green_ms = array("i", [0] * n)  # green since the last take
        self.was_green = bytearray(n)

    def update(self, elapsed_ms, states):
        presence = self.det.presence
        space = self.space_ms
        first = self.first
        loop = self.loop
        free = self.free_ms
        unused = self.unused_ms
        for g in range(self.n):
            a = first[g]
            b = first[g + 1]
            if a == b:
                continue
            if states[g] == GREEN:
                t = self.green_ms[g] + elapsed_ms
                self.green_ms[g] = t if t < TIMER_MAX_MS else TIMER_MAX_MS  # no report for weeks: saturate
                self.was_green[g] = 1
                for k in range(a, b):
                    if presence[loop[k]]:
                        if free[k] > space:
                            unused[k] += free[k] - space
                        free[k] = 0
                    elif free[k] < TIMER_MAX_MS:
                        free[k] += elapsed_ms
            elif self.was_green[g]:
                # green ended: a gap still open counts like one closed by a vehicle
                self.was_green[g] = 0
                for k in range(a, b):
                    if free[k] > space:
                        unused[k] += free[k] - space
                    free[k] = 0

    def take(self, g):
        # (green, used green) of group g since the last take, ms; starts the next period.
        # A gap still open moves its unused part into this period.
        a = self.first[g]
        b = self.first[g + 1]
        green = self.green_ms[g]
        least = green
        for k in range(a, b):
            u = self.unused_ms[k]
            if self.free_ms[k] > self.space_ms:
                u += self.free_ms[k] - self.space_ms
                self.free_ms[k] = self.space_ms
            if u < least:
                least = u
            self.unused_ms[k] = 0
        self.green_ms[g] = 0
        used = green - least
        return green, used if used > 0 else 0
