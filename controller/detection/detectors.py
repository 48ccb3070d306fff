# Detector processing: per-tick presence bits -> counts, occupancy, gaps and
# headways, per loop, and vehicles per lane (for the no-activity
# diagnostics' witnesses). Runs on the board; update() allocates nothing.
# Units: ms; occupancy in per mille of the last full occupancy window.
# The presence of a detector is all that a real loop amplifier reports, and it
# is all that enters the core.
#
# Durations are kept as time stamps on a wrapping clock (stamp_clock.py) and
# derived when read (on_ms(), off_ms(), since_on_ms()), so a tick in which no
# loop changed costs one comparison of the presence bytes.
from array import array

from controller.events import codes as ev
from controller.compat import SMALL_INT_MAX, const
from controller.intersection import DETECTOR_PEDESTRIAN
from controller.stamp_clock import StampClock
from controller.timing import AGE_MAX_MS, CLOCK_MASK, TIMER_MAX_MS

COUNT_WRAP = const(0x20000000)  # counts wrap here; readers take differences modulo this


class Detectors:
    def __init__(self, ix, events):
        m = ix.n_detectors
        self.n = m
        self.ix = ix
        self.events = events
        self.is_pedestrian = bytearray(1 if ix.detector_kind[i] == DETECTOR_PEDESTRIAN else 0 for i in range(m))
        self.presence = bytearray(m)
        self.count = array("i", [0] * m)  # rising edges since start, wrapping at COUNT_WRAP
        self.headway_ms = array("i", [0] * m)  # between the last two rising edges (0 = none yet)
        self.clock_ms = 0
        self.changed_at = array("i", [(-AGE_MAX_MS) & CLOCK_MASK] * m)  # last edge (old: never)
        self.rose_at = array("i", [0] * m)  # last rising edge (power-up counts)
        self.rises = 0  # rising edges on all loops together, wrapping at 2**30
        self.edges = 0  # edges (rising and falling) on all loops together, wrapping at 2**30
        # loops that changed this tick: indices in changed[0:n_changed]; rising[i] = 1
        # for those a vehicle arrived on (cleared again at the next tick)
        self.changed = bytearray(m)
        self.n_changed = 0
        self.rising = bytearray(m)
        self.clock = StampClock((self.changed_at, self.rose_at))
        self.window_ms = 0
        self.window_opened_at = 0  # clock when the current occupancy window began
        self.window_occupied_ms = array("i", [0] * m)  # completed occupied time in this window
        self.window_count = array("H", [0] * m)
        self.occupancy_permille = array("H", [0] * m)  # last full window
        self.flow_count = array("H", [0] * m)  # vehicles in the last full window
        self._placement(ix.raw)
        # vehicles per lane (wrapping at 2**30) and each loop's lane count at
        # its own last rise: what the other loops on its lane counted since is
        # the no-activity diagnostics' evidence (None: no loop on an approach)
        self.lane_rises = None
        self.lane_rises_at_rise = None
        if any(self.witness_need):
            self.lane_rises = array("i", [0] * self.n_lanes)
            self.lane_rises_at_rise = array("i", [0] * m)

    def _placement(self, raw):
        # Where the loops sit, for the diagnostics (docs/core.md): the lane a
        # loop measures (an index of its approach and lane; -1: not given),
        # the vehicles its lane's other loops must count before its silence
        # makes it dead (0: on no approach, the classic no-activity check)
        # and its idle limit (0: none) by role: turn pocket, advance, stop
        # bar. Read from the filled-in config when the controller is built,
        # not kept in the model: a board builds the model with the validator
        # in memory, and that load peak is what sets the heap it needs.
        m = self.n
        diag = raw["detector_diagnostics"]
        self.lane = array("h", [-1] * m)
        self.witness_need = array("H", [0] * m)
        self.idle_ms = array("i", [0] * m)
        lanes = {}
        for i, d in enumerate(raw["detectors"]):
            approach = d.get("approach")
            lane = d.get("lane")
            if lane is not None:
                self.lane[i] = lanes.setdefault((approach, lane), len(lanes))
            idle = 0
            if approach is not None:
                self.witness_need[i] = diag["witness_count"]
                if d["turn_pocket"]:
                    idle = diag["idle_turn_pocket_ms"]
                elif d["kind"] == "advance":
                    idle = diag["idle_advance_ms"]
                else:
                    idle = diag["idle_stop_bar_ms"]
            self.idle_ms[i] = d.get("idle_ms", idle)
        self.n_lanes = len(lanes)

    def age(self, stamp):
        return (self.clock_ms - stamp) & CLOCK_MASK

    def on_ms(self, i):
        # how long detector i has been occupied (0 while free); the age inlined, as in off_ms
        return (self.clock_ms - self.changed_at[i]) & CLOCK_MASK if self.presence[i] else 0

    def off_ms(self, i):
        # how long detector i has been free: the gap (0 while occupied); the
        # age inlined: strategies ask for gaps every tick
        return 0 if self.presence[i] else (self.clock_ms - self.changed_at[i]) & CLOCK_MASK

    def since_on_ms(self, i):
        # time since the last vehicle arrived on detector i (or since power-up)
        return self.age(self.rose_at[i])

    def _in_window_ms(self, i, opened_ms):
        # the part of loop i's current occupation inside the window opened
        # opened_ms ago (its age saturates after days; the window's never does)
        on = self.age(self.changed_at[i])
        return on if on < opened_ms else opened_ms

    def update(self, elapsed_ms, presence):
        # (few locals, and the rarer work in calls of their own: MicroPython
        # keeps small frames off the heap, see StampClock.advance)
        now = self.clock.advance(elapsed_ms)
        self.clock_ms = now
        if self.n_changed:
            self._clear_changes()
        if presence != self.presence:
            self._edges(presence, now)
        w = self.window_ms + elapsed_ms
        if w >= self.ix.occupancy_window_ms:
            w -= self.ix.occupancy_window_ms
            self._close_window(now)
        self.window_ms = w

    def _clear_changes(self):
        # the last tick's changes are over
        for k in range(self.n_changed):
            self.rising[self.changed[k]] = 0
        self.n_changed = 0

    def _close_window(self, now):
        # occupancy and flow of the window just ended
        window = self.ix.occupancy_window_ms
        opened = self.age(self.window_opened_at)
        self.window_opened_at = now
        for i in range(self.n):
            occ = self.window_occupied_ms[i]
            if self.presence[i]:
                occ += self._in_window_ms(i, opened)
            self.occupancy_permille[i] = 1000 if occ >= window else occ * 1000 // window
            self.flow_count[i] = self.window_count[i]
            self.window_occupied_ms[i] = 0
            self.window_count[i] = 0

    def _edges(self, presence, now):
        events = self.events
        old = self.presence
        changed_at = self.changed_at
        lane_rises = self.lane_rises
        lane = self.lane
        k = 0
        for i in range(self.n):
            p = 1 if presence[i] else 0
            if p == old[i]:
                continue
            self.changed[k] = i
            k += 1
            if p:
                self.rising[i] = 1
                self.rises = (self.rises + 1) & SMALL_INT_MAX
                c = self.count[i] + 1
                self.count[i] = c if c < COUNT_WRAP else 0
                if self.window_count[i] < 65535:
                    self.window_count[i] += 1
                self.headway_ms[i] = (now - self.rose_at[i]) & CLOCK_MASK
                self.rose_at[i] = now
                if lane_rises is not None and lane[i] >= 0:
                    c = (lane_rises[lane[i]] + 1) & SMALL_INT_MAX
                    lane_rises[lane[i]] = c
                    self.lane_rises_at_rise[i] = c
                events.add(ev.PED_DETECTOR_ON if self.is_pedestrian[i] else ev.DETECTOR_ON, i + 1)
            else:
                t = self.window_occupied_ms[i] + self._in_window_ms(i, self.age(self.window_opened_at))
                self.window_occupied_ms[i] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
                events.add(ev.PED_DETECTOR_OFF if self.is_pedestrian[i] else ev.DETECTOR_OFF, i + 1)
            changed_at[i] = now
            old[i] = p
        self.n_changed = k
        self.edges = (self.edges + k) & SMALL_INT_MAX
