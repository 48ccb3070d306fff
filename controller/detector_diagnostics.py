# Detector diagnostics: no activity, max presence (stuck on) and erratic
# counts, with thresholds per detector (0 disables a check). Runs on the board;
# check() allocates nothing. The thresholds are 10 s and more, so the checks
# run once per second of controller time (a fault or a restoration is seen
# within a second), not every tick. A faulted detector is reported to demand.py, which
# puts its signal group on the detector's configured fault recall; a detector
# is restored when it behaves again (an actuation, presence dropping, or a quiet
# minute). Events: Indiana 84/85/88 and 83 (pedestrian buttons: 91/92).
from array import array

from controller import event_codes as ev
from controller.detectors import COUNT_WRAP

FAULT_NONE = 0
FAULT_NO_ACTIVITY = 1
FAULT_MAX_PRESENCE = 2
FAULT_ERRATIC = 3

_MINUTE_MS = 60000
_PERIOD_MS = 1000


class DetectorDiagnostics:
    def __init__(self, ix, detectors, events):
        m = ix.n_detectors
        self.n = m
        self.ix = ix
        self.det = detectors
        self.events = events
        self.fault = bytearray(m)
        self.version = 0  # moves on every fault or restoration (readers rebuild what depends on faults)
        self.minute_ms = 0
        self.since_check_ms = 0
        self.minute_start_count = array("i", [0] * m)  # detector count when the minute began

    def minute_count(self, i):
        # actuations of detector i in the current minute
        c = self.det.count[i] - self.minute_start_count[i]
        return c if c >= 0 else c + COUNT_WRAP

    def horizon_ms(self):
        # time until just before the next check (once a second, and at every
        # minute's end): the check's own tick is stepped alone, since a fault
        # found there puts a group on recall, and a timer that starts with it
        # must not be credited a whole merged step
        a = _PERIOD_MS - self.since_check_ms
        b = _MINUTE_MS - self.minute_ms
        return (a if a < b else b) - 1

    def check(self, elapsed_ms):
        m = self.minute_ms + elapsed_ms
        t = self.since_check_ms + elapsed_ms
        if t < _PERIOD_MS and m < _MINUTE_MS:
            self.minute_ms = m
            self.since_check_ms = t
            return
        self.since_check_ms = 0
        minute_closed = m >= _MINUTE_MS
        if minute_closed:
            m -= _MINUTE_MS
        self.minute_ms = m
        ix = self.ix
        det = self.det
        for i in range(self.n):
            f = self.fault[i]
            if f == FAULT_NONE:
                limit = ix.no_activity_ms[i]
                if limit and det.since_on_ms(i) >= limit:
                    self._set(i, FAULT_NO_ACTIVITY)
                else:
                    limit = ix.max_presence_ms[i]
                    if limit and det.presence[i] and det.on_ms(i) >= limit:
                        self._set(i, FAULT_MAX_PRESENCE)
                    else:
                        limit = ix.erratic_counts_per_min[i]
                        if limit and self.minute_count(i) > limit:
                            self._set(i, FAULT_ERRATIC)
            elif f == FAULT_NO_ACTIVITY:
                if det.since_on_ms(i) < ix.no_activity_ms[i]:
                    self._set(i, FAULT_NONE)  # an actuation since the last check
            elif f == FAULT_MAX_PRESENCE:
                if not det.presence[i] or det.on_ms(i) < ix.max_presence_ms[i]:
                    self._set(i, FAULT_NONE)  # presence dropped since the last check
            elif minute_closed and self.minute_count(i) <= ix.erratic_counts_per_min[i]:
                self._set(i, FAULT_NONE)
            if minute_closed:
                self.minute_start_count[i] = det.count[i]

    def _set(self, i, fault):
        self.fault[i] = fault
        self.version = (self.version + 1) & 0x3FFFFFFF
        ped = self.det.is_pedestrian[i]
        if fault == FAULT_NONE:
            code = ev.PED_DETECTOR_RESTORED if ped else ev.DETECTOR_RESTORED
        else:
            if ped:
                code = ev.PED_DETECTOR_FAILED
            elif fault == FAULT_NO_ACTIVITY:
                code = ev.DETECTOR_FAULT_WATCHDOG
            elif fault == FAULT_MAX_PRESENCE:
                code = ev.DETECTOR_FAULT_OTHER
            else:
                code = ev.DETECTOR_FAULT_EXCESSIVE_CHANGE
        self.events.add(code, i + 1)
