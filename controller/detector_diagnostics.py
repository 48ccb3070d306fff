# Detector diagnostics: no activity, max presence (stuck on) and erratic
# counts, with thresholds per detector (0 disables a check). Runs on the board;
# check() allocates nothing. A faulted detector is reported to demand.py, which
# puts its signal group on the detector's configured fault recall; a detector
# is restored when it behaves again (an actuation, presence dropping, or a quiet
# minute). Events: Indiana 84/85/88 and 83 (pedestrian buttons: 91/92).
from array import array

from controller import event_codes as ev

FAULT_NONE = 0
FAULT_NO_ACTIVITY = 1
FAULT_MAX_PRESENCE = 2
FAULT_ERRATIC = 3
FAULT_NAMES = ("ok", "no-activity", "max-presence", "erratic")

_MINUTE_MS = 60000


class DetectorDiagnostics:
    def __init__(self, ix, detectors, events):
        m = ix.n_detectors
        self.n = m
        self.ix = ix
        self.det = detectors
        self.events = events
        self.fault = bytearray(m)
        self.minute_ms = 0
        self.minute_count = array("H", [0] * m)
        self.faults_total = 0

    def check(self, elapsed_ms):
        ix = self.ix
        det = self.det
        m = self.minute_ms + elapsed_ms
        minute_closed = m >= _MINUTE_MS
        if minute_closed:
            m -= _MINUTE_MS
        self.minute_ms = m
        for i in range(self.n):
            if det.rising[i] and self.minute_count[i] < 65535:
                self.minute_count[i] += 1
            f = self.fault[i]
            if f == FAULT_NONE:
                limit = ix.no_activity_ms[i]
                if limit and det.since_on_ms[i] >= limit:
                    self._set(i, FAULT_NO_ACTIVITY)
                else:
                    limit = ix.max_presence_ms[i]
                    if limit and det.presence[i] and det.on_ms[i] >= limit:
                        self._set(i, FAULT_MAX_PRESENCE)
                    else:
                        limit = ix.erratic_counts_per_min[i]
                        if limit and self.minute_count[i] > limit:
                            self._set(i, FAULT_ERRATIC)
            elif f == FAULT_NO_ACTIVITY:
                if det.rising[i]:
                    self._set(i, FAULT_NONE)
            elif f == FAULT_MAX_PRESENCE:
                if not det.presence[i]:
                    self._set(i, FAULT_NONE)
            elif minute_closed and self.minute_count[i] <= ix.erratic_counts_per_min[i]:
                self._set(i, FAULT_NONE)
            if minute_closed:
                self.minute_count[i] = 0

    def _set(self, i, fault):
        self.fault[i] = fault
        ped = self.det.is_pedestrian[i]
        if fault == FAULT_NONE:
            code = ev.PED_DETECTOR_RESTORED if ped else ev.DETECTOR_RESTORED
        else:
            if self.faults_total < 0x3FFFFFFF:
                self.faults_total += 1
            if ped:
                code = ev.PED_DETECTOR_FAILED
            elif fault == FAULT_NO_ACTIVITY:
                code = ev.DETECTOR_FAULT_WATCHDOG
            elif fault == FAULT_MAX_PRESENCE:
                code = ev.DETECTOR_FAULT_OTHER
            else:
                code = ev.DETECTOR_FAULT_EXCESSIVE_CHANGE
        self.events.add(code, i + 1)
