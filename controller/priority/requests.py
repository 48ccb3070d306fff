# Priority requests: how many of each class are waiting, from check-in /
# check-out loops, the serial wire and the coordinator. Runs on the board;
# update() allocates nothing. Units: ms.
#
# A check-in's rising edge (or a request "on") counts one up, a check-out's
# rising edge (or "off") one down; request_timeout_ms after the class's last
# check-in or check-out, whatever is still counted is cleared (a check-out
# that never came). Each is logged with the class number (1-based) as the
# parameter: on: 102 (railroad or emergency: preempt call input on), 112
# (transit: TSP check in); off: 104 (preempt call input off), 115 (TSP
# check out).
from array import array

from controller.events import priority_codes as ev
from controller.priority.classes import KIND_TRANSIT, NO_CLASS, NO_STAGE
from controller.timing import TIMER_MAX_MS

MAX_COUNT = 250


class PriorityRequests:
    def __init__(self, classes, events):
        k = classes.n
        self.classes = classes
        self.events = events
        self.count = bytearray(k)
        self.age_ms = array("i", [0] * k)  # since the class's last check-in or check-out
        self.stage = array("i", [classes.stage[c] for c in range(k)])  # asked for by the last check-in
        self.timeouts = 0  # requests cleared by their timeout (for tests and reports)
        self.active = 0  # classes with a request counted
        self.fresh = bytearray(k)  # 1: a new request since transit priority last looked

    def update(self, elapsed_ms, detectors):
        # time passes; the loops' rising edges of this tick count
        if self.active:
            self._age(elapsed_ms)
        if detectors.n_changed:
            classes = self.classes
            for k in range(detectors.n_changed):
                d = detectors.changed[k]
                c = classes.detector_class[d]
                if c == NO_CLASS or not detectors.rising[d]:
                    continue
                if classes.detector_checks_in[d]:
                    self.add(c, classes.detector_stage[d])
                else:
                    self.remove(c)

    def _age(self, elapsed_ms):
        timeout = self.classes.request_timeout_ms
        for c in range(self.classes.n):
            if not self.count[c]:
                continue
            t = self.age_ms[c] + elapsed_ms
            self.age_ms[c] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
            if t >= timeout[c]:
                self.timeouts += 1
                self.clear(c)

    def add(self, c, stage=NO_STAGE):
        # one more request of class c (stage: the one it asks for; NO_STAGE: the class's)
        if self.count[c] < MAX_COUNT:
            if not self.count[c]:
                self.active += 1
            self.count[c] += 1
        self.age_ms[c] = 0
        self.fresh[c] = 1
        self.stage[c] = stage if stage != NO_STAGE else self.classes.stage[c]
        # Indiana 102 (preempt call input on) for railroad and emergency alike: 103
        # (gate down input received) is a railroad gate's own input, not a request
        self.events.add(ev.TSP_CHECK_IN if self.classes.kind[c] == KIND_TRANSIT else ev.PREEMPT_CALL_INPUT_ON, c + 1)

    def remove(self, c):
        # one request of class c served (a check-out); nothing counted: ignored
        self.age_ms[c] = 0
        if not self.count[c]:
            return
        self.count[c] -= 1
        if not self.count[c]:
            self.active -= 1
        self._log_off(c)

    def clear(self, c):
        # every request of class c gone (timeout, or a request "off" for all)
        if self.count[c]:
            self.count[c] = 0
            self.active -= 1
            self._log_off(c)

    def _log_off(self, c):
        preempt = self.classes.kind[c] != KIND_TRANSIT
        self.events.add(ev.PREEMPT_CALL_INPUT_OFF if preempt else ev.TSP_CHECK_OUT, c + 1)
