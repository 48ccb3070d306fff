# Blocked exits, from exit loops: loops just past the junction on outgoing
# lanes (detectors of kind "exit"), named by the approach loops whose lanes
# lead onto them (a loop's "exits"). A lane is blocked while every exit loop
# it leads onto is working and has been occupied for exit_blocked_ms: the
# queue of the next junction reaches back to this one and the lane's vehicles
# cannot leave, so a green shown to them stands unused. Read by the adaptive
# strategy (docs/adaptive.md, rule 6). Runs on the board; allocates nothing.
# Units: ms.
from controller.timing import TIMER_MAX_MS


class ExitBlocking:
    def __init__(self, ix, blocked_ms):
        self.ix = ix
        self.blocked_ms = blocked_ms
        self.exits = ix.detector_exits  # per loop: the exit loops its lane leads onto
        self.exit_loops = tuple(sorted(set(e for es in self.exits for e in es)))

    def lane_blocked(self, d, ctl):
        # every exit loop that loop d's lane leads onto working and occupied blocked_ms
        exits = self.exits[d]
        if not exits:
            return False
        det = ctl.detectors
        fault = ctl.diagnostics.fault
        for e in exits:
            if fault[e] or det.on_ms(e) < self.blocked_ms:
                return False
        return True

    def any_blocked(self, g, loops, ctl):
        # one of g's loops in the summary `loops` (loop_groups.LoopGroups) lies on a blocked lane
        for e in loops.loops[g]:
            if self.lane_blocked(e, ctl):
                return True
        return False

    def queue_blocked(self, g, ctl):
        # every loop of g whose lane leads onto exit loops blocked (and one does): its queue cannot leave
        n = 0
        for e in self.ix.group_detectors[g]:
            if self.exits[e]:
                if not self.lane_blocked(e, ctl):
                    return False
                n += 1
        return n > 0

    def open_gap_ms(self, g, loops, ctl):
        # g's gap over the working loops of `loops` on lanes that are not blocked (TIMER_MAX_MS: none)
        det = ctl.detectors
        fault = ctl.diagnostics.fault
        gap = TIMER_MAX_MS
        for e in loops.loops[g]:
            if not fault[e] and not self.lane_blocked(e, ctl):
                x = det.off_ms(e)
                if x < gap:
                    gap = x
        return gap

    def quiet_ms(self, det):
        # until an occupied exit loop reaches blocked_ms, the presence held (a lane
        # turns blocked then; it turns free only with a loop edge or a fault)
        quiet = TIMER_MAX_MS
        for e in self.exit_loops:
            left = self.blocked_ms - det.on_ms(e)
            if det.presence[e] and 0 < left < quiet:
                quiet = left
        return quiet
