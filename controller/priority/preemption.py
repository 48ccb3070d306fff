# Preemption: railroad and emergency vehicles. Runs on the board; step()
# allocates nothing. Units: ms. Method and sequence: docs/core.md "Priority".
#
# On a request of a preemption class the controller moves to the class's
# stage as fast as the safety rules allow: the kernel takes the new target
# even on the way to another stage, and greens leaving it end after the
# class's preempt_min_green_ms instead of their min green (walk); yellow,
# pedestrian clearance, red clearance, intergreen, red revert and rule 5 are
# held in full (safety/kernel.py). A railroad class with a track clearance
# stage serves it first for track_clearance_ms. Then it dwells in its stage
# while a request is counted (at most max_dwell_ms: event 110, and the class
# is locked out until its requests are all gone), and returns through its
# exit_stage, if any, to the strategy, which restarts from where the signals
# are. A class of higher rank interrupts a lower one at any moment; a lower
# or equal one waits. Events (param: the class number, 1-based): 105 entry,
# 106 track clearance, 107 dwell, 110 max presence, 111 exit.
from controller.compat import const
from controller.events import priority_codes as ev
from controller.priority.classes import KIND_RAILROAD, KIND_TRANSIT, NO_STAGE
from controller.timing import TIMER_MAX_MS

IDLE = const(0)
ENTRY = const(1)  # on the way to the track clearance or the dwell stage
TRACK = const(2)  # track clearance stage established, timing
DWELL = const(3)
EXIT = const(4)  # on the way to the exit stage


class Preemption:
    def __init__(self, classes, requests, events):
        self.classes = classes
        self.requests = requests
        self.events = events
        self.phase = IDLE
        self.cls = 0
        self.target = 0
        self.timer_ms = 0
        self.tracking = False  # the track clearance stage is still to be served
        self.locked = bytearray(classes.n)  # 1: dwelt max_dwell_ms; waits for its requests to clear
        self.entries = 0  # preemptions entered (for tests and reports)

    def best(self):
        # the waiting preemption class of highest rank, or -1
        classes = self.classes
        count = self.requests.count
        best = -1
        for c in range(classes.n):
            if classes.kind[c] == KIND_TRANSIT:
                continue
            if not count[c]:
                self.locked[c] = 0
            elif not self.locked[c] and (best < 0 or classes.rank[c] > classes.rank[best]):
                best = c
        return best

    def step(self, ctl, elapsed_ms):
        # True while a preemption drives the kernel (the strategy is not asked)
        best = self.best()
        if self.phase == IDLE:
            if best < 0:
                return False
            self._enter(ctl, best)
        elif best >= 0 and (self.phase == EXIT or (best != self.cls and self.classes.rank[best]
                                                    > self.classes.rank[self.cls])):
            self._enter(ctl, best)  # a higher class interrupts; any request ends an exit
        kernel = ctl.kernel
        classes = self.classes
        c = self.cls
        phase = self.phase
        if phase == TRACK or phase == DWELL:
            t = self.timer_ms + elapsed_ms
            self.timer_ms = t if t < TIMER_MAX_MS else TIMER_MAX_MS
        waiting = self.requests.count[c]
        if phase == ENTRY:
            if not waiting:
                self._begin_exit(kernel)
            else:
                kernel.request(self.target)
                if kernel.stage == self.target and kernel.established:
                    self.timer_ms = 0
                    if self.tracking:
                        self.phase = TRACK
                        self.events.add(ev.PREEMPT_BEGIN_TRACK_CLEARANCE, c + 1)
                    else:
                        self.phase = DWELL
                        self.events.add(ev.PREEMPT_BEGIN_DWELL, c + 1)
        elif phase == TRACK:
            if self.timer_ms >= classes.track_clearance_ms[c]:
                self.tracking = False
                if waiting:
                    self.phase = ENTRY
                    self.target = self.requests.stage[c]
                    kernel.request(self.target)
                else:
                    self._begin_exit(kernel)
        elif phase == DWELL:
            if not waiting:
                self._begin_exit(kernel)
            elif classes.max_dwell_ms[c] and self.timer_ms >= classes.max_dwell_ms[c]:
                self.events.add(ev.PREEMPT_MAX_PRESENCE_EXCEEDED, c + 1)
                self.locked[c] = 1
                self._begin_exit(kernel)
        if self.phase == EXIT:
            x = classes.exit_stage[c]
            if x == NO_STAGE:
                self.phase = IDLE
                return False
            kernel.request(x)
            if kernel.stage == x and kernel.established:
                self.phase = IDLE
                return False
        return True

    def _enter(self, ctl, c):
        classes = self.classes
        self.cls = c
        self.phase = ENTRY
        self.timer_ms = 0
        self.entries += 1
        track = classes.track_stage[c]
        self.tracking = track != NO_STAGE and classes.kind[c] == KIND_RAILROAD
        self.target = track if self.tracking else self.requests.stage[c]
        ctl.kernel.preempt_min_green_ms = classes.preempt_min_green_ms[c]
        self.events.add(ev.PREEMPT_ENTRY_STARTED, c + 1)

    def _begin_exit(self, kernel):
        self.phase = EXIT
        kernel.preempt_min_green_ms = -1  # the exit and what follows: every min green in full
        self.events.add(ev.PREEMPT_BEGIN_EXIT, self.cls + 1)

    def halt(self, kernel):
        # the kernel left normal operation (flash, a safe ending): the
        # preemption is dropped; a request still counted enters it again
        self.phase = IDLE
        kernel.preempt_min_green_ms = -1
