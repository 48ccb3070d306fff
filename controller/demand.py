# Demand per signal group: calls (locking while not green), pedestrian calls,
# the gap since the last actuation on the group's extension loops (gap_ms(),
# worked out when a strategy asks), how long the oldest unserved call has
# waited, and the recall in force (configured, or imposed by a failed
# detector). Runs on the board; update() allocates nothing.
from array import array

from controller import event_codes as ev
from controller.compat import TIMER_MAX_MS
from controller.detector_diagnostics import FAULT_NONE
from controller.intersection import RECALL_MAX, RECALL_NONE
from controller.loop_groups import LoopGroups
from controller.signal_states import GREEN


class Demand:
    def __init__(self, ix, detectors, diagnostics, events):
        n = ix.n_groups
        self.n = n
        self.ix = ix
        self.diag = diagnostics
        self.events = events
        self.calling = LoopGroups(ix, detectors, diagnostics, ix.detector_call)
        self.extending = LoopGroups(ix, detectors, diagnostics, ix.detector_extend)
        self.call = bytearray(n)  # 1 = the group wants green (vehicle call or pedestrian call)
        self.recall = bytearray(ix.recall)  # recall in force
        self.call_age_ms = array("i", [0] * n)  # how long the current call has waited
        self.failed_detectors = bytearray(n)  # faulted loops per group
        self.fault_version = -1

    def _faults_changed(self):
        # recall in force and failed loops per group, from the detector faults
        ix = self.ix
        fault = self.diag.fault
        for g in range(self.n):
            recall = ix.recall[g]
            failed = 0
            for d in ix.group_detectors[g]:
                if fault[d] != FAULT_NONE:
                    failed += 1
                    if ix.detector_fault_recall[d] > recall:
                        recall = ix.detector_fault_recall[d]
            self.recall[g] = recall
            self.failed_detectors[g] = failed
        self.fault_version = self.diag.version

    def gap_ms(self, g):
        # since the last actuation on the group's extension loops; 0 on max recall
        return 0 if self.recall[g] == RECALL_MAX else self.extending.gap_ms(g)

    def update(self, elapsed_ms, states):
        ix = self.ix
        if self.fault_version != self.diag.version:
            self._faults_changed()
        self.calling.update()
        self.extending.update()
        for g in range(self.n):
            if states[g] == GREEN:
                self.call[g] = 0
                self.call_age_ms[g] = 0
            elif self.call[g]:
                t = self.call_age_ms[g] + elapsed_ms
                self.call_age_ms[g] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
            elif self.calling.occupied[g] or self.recall[g] != RECALL_NONE:
                self.call[g] = 1
                self.call_age_ms[g] = 0
                self.events.add(ev.PED_CALL_REGISTERED if ix.is_pedestrian[g] else ev.PHASE_CALL_REGISTERED, g + 1)
