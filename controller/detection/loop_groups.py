# Per signal group, a chosen subset of its loops (extension loops, calling
# loops, advance loops, stop-bar loops) summed up for the strategies: how many
# of the working ones are occupied, the gap since the last of them went free,
# and how long the longest-occupied one has been on. Runs on the board.
#
# update() works from the detectors' list of loops that changed this tick,
# so a quiet tick costs next to nothing; when a detector fault appears or
# clears (the diagnostics' version moves) everything is rebuilt, as a
# faulted loop no longer counts. Allocates nothing per tick. Units: ms.
from array import array

from controller.detection.diagnostics import FAULT_NONE
from controller.timing import TIMER_MAX_MS


class LoopGroups:
    def __init__(self, ix, detectors, diagnostics, member):
        # member: one 0/1 per detector, 1 for the loops this summary covers
        n = ix.n_groups
        self.n = n
        self.ix = ix
        self.det = detectors
        self.diag = diagnostics
        self.member = member
        self.loops = []
        for g in range(n):
            self.loops.append(tuple(d for d in ix.group_detectors[g] if member[d]))
        self.usable = bytearray(n)  # member loops without a fault
        self.occupied = bytearray(n)  # usable loops occupied now
        self.latest_off = array("h", [-1] * n)  # usable loop that went free last (-1: none)
        self.first_on = array("h", [-1] * n)  # occupied usable loop that has been on longest (-1: none)
        self.fault_version = -1

    def gap_ms(self, g):
        # 0 while a usable loop is occupied; else the time since the last one went free
        if self.occupied[g]:
            return 0
        d = self.latest_off[g]
        return self.det.off_ms(d) if d >= 0 else TIMER_MAX_MS

    def longest_on_ms(self, g):
        d = self.first_on[g]
        return self.det.on_ms(d) if d >= 0 else 0

    def update(self):
        if self.diag.version != self.fault_version:
            self.rebuild()
            return
        # few locals, so that MicroPython keeps the frame off the heap (see
        # StampClock.advance): a tick changes few loops
        det = self.det
        for k in range(det.n_changed):
            d = det.changed[k]
            if not self.member[d] or self.diag.fault[d] != FAULT_NONE:
                continue
            g = self.ix.detector_group[d]
            if det.presence[d]:
                self.occupied[g] += 1
                if self.first_on[g] < 0:
                    self.first_on[g] = d
            else:
                self.occupied[g] -= 1
                self.latest_off[g] = d
                if self.first_on[g] == d:
                    self.first_on[g] = self._longest_on(g)

    def _longest_on(self, g):
        det = self.det
        fault = self.diag.fault
        best = -1
        best_ms = -1
        for d in self.loops[g]:
            if fault[d] == FAULT_NONE and det.presence[d] and det.on_ms(d) > best_ms:
                best_ms = det.on_ms(d)
                best = d
        return best

    def rebuild(self):
        det = self.det
        fault = self.diag.fault
        for g in range(self.n):
            usable = 0
            occupied = 0
            latest = -1
            latest_ms = TIMER_MAX_MS
            for d in self.loops[g]:
                if fault[d] != FAULT_NONE:
                    continue
                usable += 1
                if det.presence[d]:
                    occupied += 1
                elif det.off_ms(d) < latest_ms:
                    latest_ms = det.off_ms(d)
                    latest = d
            self.usable[g] = usable
            self.occupied[g] = occupied
            self.latest_off[g] = latest
            self.first_on[g] = self._longest_on(g)
        self.fault_version = self.diag.version
