# Demand per signal group: calls (locking while not green), pedestrian calls,
# the gap since the last actuation on the group's extension loops (gap_ms(),
# worked out when a strategy asks), how long the oldest unserved call has
# waited, and the recall in force (configured, or imposed by a failed
# detector). Runs on the board; update() allocates nothing.
#
# A failed detector's response (docs/core.md, "Detector diagnostics"): its
# fault_recall, except that a max recall becomes a call (min recall: served
# every cycle for at least min green, extended by the group's working loops)
# when the loop is only idle past its role's limit (FAULT_IDLE: nothing says
# traffic reaches it), or when another working extension loop of its group
# measures its lane. A max recall stays for a loop found dead on a lane whose
# traffic nothing else measures.
#
# A call's wait is a time stamp on demand's wrapping clock (stamp_clock.py:
# the wait is (clock_ms - call_at[g]) & CLOCK_MASK, read inline by the
# strategies). Calls change only when a loop changed, a detector fault came
# or went, or the kernel changed a signal state, so a tick without any of
# those skips the per-group pass.
from array import array

from controller.events import codes as ev
from controller.detection.diagnostics import FAULT_IDLE, FAULT_NONE
from controller.intersection import RECALL_MAX, RECALL_MIN, RECALL_NONE
from controller.detection.loop_groups import LoopGroups
from controller.safety.signal_states import GREEN
from controller.stamp_clock import StampClock


class Demand:
    def __init__(self, ix, detectors, diagnostics, events):
        n = ix.n_groups
        self.n = n
        self.ix = ix
        self.det = detectors
        self.diag = diagnostics
        self.events = events
        self.calling = LoopGroups(ix, detectors, diagnostics, ix.detector_call)
        self.extending = LoopGroups(ix, detectors, diagnostics, ix.detector_extend)
        self.call = bytearray(n)  # 1 = the group wants green (vehicle call or pedestrian call)
        self.recall = bytearray(ix.recall)  # recall in force
        self.clock_ms = 0
        self.call_at = array("i", [0] * n)  # when the current call was registered
        self.clock = StampClock((self.call_at,))
        self.failed_detectors = bytearray(n)  # faulted loops per group
        self.fault_version = -1
        self.states_version = -1  # the kernel's state version the calls were last updated with

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
                    r = ix.detector_fault_recall[d]
                    if r == RECALL_MAX and (fault[d] == FAULT_IDLE or self._lane_measured(g, d)):
                        r = RECALL_MIN
                    if r > recall:
                        recall = r
            self.recall[g] = recall
            self.failed_detectors[g] = failed
        self.fault_version = self.diag.version

    def _lane_measured(self, g, d):
        # another working extension loop of group g on failed loop d's lane
        ix = self.ix
        lanes = self.det.lane
        lane = lanes[d]
        if lane < 0:
            return False
        fault = self.diag.fault
        for e in ix.group_detectors[g]:
            if e != d and lanes[e] == lane and fault[e] == FAULT_NONE and ix.detector_extend[e]:
                return True
        return False

    def gap_ms(self, g):
        # since the last actuation on the group's extension loops; 0 on max recall
        return 0 if self.recall[g] == RECALL_MAX else self.extending.gap_ms(g)

    def update(self, elapsed_ms, states, states_version):
        # states: the kernel's signal states; states_version: its counter of
        # state changes (SafetyKernel.version)
        now = self.clock.advance(elapsed_ms)
        self.clock_ms = now
        edges = self.det.n_changed
        if self.fault_version != self.diag.version:
            self._faults_changed()
            edges = -1  # every loop summary is rebuilt
        if edges:
            # the loop summaries move only with an edge or a fault (they track the same fault version)
            self.calling.update()
            self.extending.update()
        elif states_version == self.states_version:
            return
        self.states_version = states_version
        ix = self.ix
        for g in range(self.n):
            if states[g] == GREEN:
                self.call[g] = 0
            elif not self.call[g] and (self.calling.occupied[g] or self.recall[g] != RECALL_NONE):
                self.call[g] = 1
                self.call_at[g] = now
                self.events.add(ev.PED_CALL_REGISTERED if ix.is_pedestrian[g] else ev.PHASE_CALL_REGISTERED, g + 1)
