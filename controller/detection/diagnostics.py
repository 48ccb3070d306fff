# Detector diagnostics: no activity, max presence (stuck on) and erratic
# counts, with thresholds per detector (0 disables a check). Runs on the board;
# check() allocates nothing. The thresholds are 10 s and more, so the checks
# run once per second of controller time (a fault or a restoration is seen
# within a second), not every tick. A faulted detector is reported to detection/demand.py, which
# puts its signal group on the detector's configured fault recall; a detector
# is restored when it behaves again (an actuation, presence dropping, or a quiet
# minute). Events: Indiana 84/85/88 and 83 (pedestrian buttons: 91/92).
#
# No activity tells an idle lane from a dead loop (docs/core.md, "Detector
# diagnostics"). A loop on an approach is dead (FAULT_NO_ACTIVITY) only when
# it saw no vehicle for no_activity_ms while the other loops on its lane
# (its witnesses) counted witness_count vehicles since its last one; without
# that evidence it is only idle, and past its role's idle limit it is
# suspect (FAULT_IDLE, also event 85), which detection/demand.py answers with a call,
# never a max recall. A loop on no approach keeps the classic check (no
# activity for no_activity_ms). Witnessed vehicles: detection/detectors.py counts the
# vehicles of each lane and keeps each loop's lane count at its own last
# actuation (evidence = the difference).
#
# A check skips its pass over the loops when none can have failed or been
# restored since the last pass: the time since is shorter than the first
# no-activity, idle or max-presence limit any working loop could reach, no
# minute closed, fewer vehicles arrived (on all loops together) than the
# smallest margin of any working loop below its erratic-count limit or below
# the witnessed vehicles it lacks (a loop past no_activity_ms), and, if a loop
# is faulted, no loop changed at all (a faulted loop is restored only by an
# actuation, by presence dropping, or at a minute's close; an idle one turns
# dead only when its witnesses count). The outcome is
# the one a full pass would give; only the pass is saved. The checks keep
# their one-second beat whatever the ticks (a long tick carries the rest of
# the second over), so a run of quiet ticks stepped as one meets the same
# checks as when stepped tick by tick.
from array import array

from controller.events import codes as ev
from controller.compat import SMALL_INT_MAX, const
from controller.detection.detectors import COUNT_WRAP
from controller.timing import CLOCK_MASK

FAULT_NONE = const(0)
FAULT_NO_ACTIVITY = const(1)
FAULT_MAX_PRESENCE = const(2)
FAULT_ERRATIC = const(3)
FAULT_IDLE = const(4)  # no activity past the role's idle limit, not witnessed: suspect, not known dead

MINUTE_MS = const(60000)
CHECK_PERIOD_MS = const(1000)


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
        self.n_faulted = 0
        # the last full pass: when (on the detectors' clock), and the margins it found (see above)
        self.pass_at = 0
        self.quiet_ms = 0
        self.rises_at_pass = 0
        self.edges_at_pass = 0
        self.count_margin = 0

    def quiet_left_ms(self):
        # how much longer no loop can fail with the presence held (see the
        # header); <= 0: the next check must pass over the loops
        det = self.det
        if (det.rises - self.rises_at_pass) & SMALL_INT_MAX > self.count_margin or \
                (self.n_faulted and det.edges != self.edges_at_pass):
            return 0
        return self.quiet_ms - ((det.clock_ms - self.pass_at) & CLOCK_MASK)

    def check(self, elapsed_ms):
        m = self.minute_ms + elapsed_ms
        t = self.since_check_ms + elapsed_ms
        if t < CHECK_PERIOD_MS and m < MINUTE_MS:
            self.minute_ms = m
            self.since_check_ms = t
            return
        self.since_check_ms = t % CHECK_PERIOD_MS
        minute_closed = m >= MINUTE_MS
        if minute_closed:
            m -= MINUTE_MS
        self.minute_ms = m
        if not minute_closed and self.quiet_left_ms() > 0:
            return
        det = self.det
        self.pass_at = det.clock_ms
        self.rises_at_pass = det.rises
        self.edges_at_pass = det.edges
        quiet = MINUTE_MS
        margin = COUNT_WRAP
        # the detectors' ages (on_ms, since_on_ms) and minute counts worked
        # out inline: this loop visits every loop
        ix = self.ix
        clock = det.clock_ms
        presence = det.presence
        count = det.count
        rose_at = det.rose_at
        changed_at = det.changed_at
        start = self.minute_start_count
        faults = self.fault
        no_activity = ix.no_activity_ms
        idle = det.idle_ms
        need = det.witness_need
        lane = det.lane
        lane_rises = det.lane_rises
        at_rise = det.lane_rises_at_rise
        max_presence = ix.max_presence_ms
        erratic = ix.erratic_counts_per_min
        for i in range(self.n):
            c = count[i] - start[i]  # actuations of loop i this minute (counts wrap)
            if c < 0:
                c += COUNT_WRAP
            age = (clock - rose_at[i]) & CLOCK_MASK  # since its last actuation
            lack = 0  # witnessed vehicles it lacks for a dead-loop verdict
            if need[i]:
                lack = need[i] - ((lane_rises[lane[i]] - at_rise[i]) & SMALL_INT_MAX)
            f = faults[i]
            if f == FAULT_NONE:
                limit = no_activity[i]
                if limit and age >= limit and lack <= 0:
                    self._set(i, FAULT_NO_ACTIVITY)
                elif idle[i] and age >= idle[i]:
                    self._set(i, FAULT_IDLE)
                else:
                    limit = max_presence[i]
                    if limit and presence[i] and (clock - changed_at[i]) & CLOCK_MASK >= limit:
                        self._set(i, FAULT_MAX_PRESENCE)
                    else:
                        limit = erratic[i]
                        if limit and c > limit:
                            self._set(i, FAULT_ERRATIC)
            elif f == FAULT_NO_ACTIVITY:
                if age < no_activity[i]:
                    self._set(i, FAULT_NONE)  # an actuation since the last check
            elif f == FAULT_IDLE:
                if age < idle[i]:
                    self._set(i, FAULT_NONE)  # an actuation since the last check
                elif no_activity[i] and age >= no_activity[i] and lack <= 0:
                    self._set(i, FAULT_NO_ACTIVITY)  # its lane now brings traffic it misses: dead
            elif f == FAULT_MAX_PRESENCE:
                if not presence[i] or (clock - changed_at[i]) & CLOCK_MASK < max_presence[i]:
                    self._set(i, FAULT_NONE)  # presence dropped since the last check
            elif minute_closed and c <= erratic[i]:
                self._set(i, FAULT_NONE)
            if minute_closed:
                start[i] = count[i]
                c = 0
            if faults[i] == FAULT_NONE:
                # how soon this loop could fail: its margins to the limits
                limit = no_activity[i]
                if limit:
                    if age < limit:
                        left = limit - age
                        if left < quiet:
                            quiet = left
                    elif lack - 1 < margin:
                        margin = lack - 1  # past the limit: fails once its witnesses count `lack` more
                limit = idle[i]
                if limit:
                    left = limit - age
                    if left < quiet:
                        quiet = left
                limit = max_presence[i]
                if limit:
                    left = limit - ((clock - changed_at[i]) & CLOCK_MASK) if presence[i] else limit
                    if left < quiet:
                        quiet = left
                limit = erratic[i]
                if limit and limit - c < margin:
                    margin = limit - c
            elif faults[i] == FAULT_IDLE and age < no_activity[i]:
                # an idle limit below no_activity_ms: it may turn dead when that is reached
                left = no_activity[i] - age
                if left < quiet:
                    quiet = left
        self.quiet_ms = quiet
        self.count_margin = margin

    def _set(self, i, fault):
        if fault == FAULT_NONE:
            self.n_faulted -= 1
        elif self.fault[i] == FAULT_NONE:
            self.n_faulted += 1
        self.fault[i] = fault
        self.version = (self.version + 1) & SMALL_INT_MAX
        ped = self.det.is_pedestrian[i]
        if fault == FAULT_NONE:
            code = ev.PED_DETECTOR_RESTORED if ped else ev.DETECTOR_RESTORED
        else:
            if ped:
                code = ev.PED_DETECTOR_FAILED
            elif fault == FAULT_NO_ACTIVITY or fault == FAULT_IDLE:
                code = ev.DETECTOR_FAULT_NO_ACTIVITY
            elif fault == FAULT_MAX_PRESENCE:
                code = ev.DETECTOR_FAULT_MAX_PRESENCE
            else:
                code = ev.DETECTOR_FAULT_ERRATIC
        self.events.add(code, i + 1)
