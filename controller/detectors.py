# Detector processing: per-tick presence bits -> counts, occupancy, gaps and
# headways, per loop. Runs on the board; update() allocates nothing.
# Units: ms; occupancy in per mille of the last full occupancy window.
# The presence of a detector is all that a real loop amplifier reports, and it
# is all that enters the core.
from array import array

from controller import event_codes as ev
from controller.compat import TIMER_MAX_MS
from controller.intersection import DETECTOR_PEDESTRIAN

COUNT_WRAP = 0x20000000  # counts wrap here; readers take differences modulo this


class Detectors:
    def __init__(self, ix, events):
        m = ix.n_detectors
        self.n = m
        self.ix = ix
        self.events = events
        self.is_pedestrian = bytearray(1 if ix.detector_kind[i] == DETECTOR_PEDESTRIAN else 0 for i in range(m))
        self.presence = bytearray(m)
        self.rising = bytearray(m)  # 1 in the tick a vehicle (or button press) arrived
        self.count = array("i", [0] * m)  # rising edges since start, wrapping at COUNT_WRAP
        self.on_ms = array("i", [0] * m)  # how long presence has been on (0 while off)
        self.off_ms = array("i", [TIMER_MAX_MS] * m)  # gap: how long presence has been off
        self.since_on_ms = array("i", [0] * m)  # time since the last rising edge
        self.headway_ms = array("i", [0] * m)  # between the last two rising edges (0 = none yet)
        self.window_ms = 0
        self.window_occupied_ms = array("i", [0] * m)
        self.window_count = array("H", [0] * m)
        self.occupancy_permille = array("H", [0] * m)  # last full window
        self.flow_count = array("H", [0] * m)  # vehicles in the last full window

    def update(self, elapsed_ms, presence):
        e = elapsed_ms
        events = self.events
        for i in range(self.n):
            p = 1 if presence[i] else 0
            was = self.presence[i]
            t = self.since_on_ms[i] + e
            self.since_on_ms[i] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
            if was:
                t = self.on_ms[i] + e
                self.on_ms[i] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
                self.window_occupied_ms[i] += e
            else:
                t = self.off_ms[i] + e
                self.off_ms[i] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
            self.rising[i] = 0
            if p and not was:
                self.rising[i] = 1
                c = self.count[i] + 1
                self.count[i] = c if c < COUNT_WRAP else 0
                if self.window_count[i] < 65535:
                    self.window_count[i] += 1
                self.headway_ms[i] = self.since_on_ms[i]
                self.since_on_ms[i] = 0
                self.on_ms[i] = 0
                events.add(ev.PED_DETECTOR_ON if self.is_pedestrian[i] else ev.DETECTOR_ON, i + 1)
            elif was and not p:
                self.off_ms[i] = 0
                events.add(ev.PED_DETECTOR_OFF if self.is_pedestrian[i] else ev.DETECTOR_OFF, i + 1)
            self.presence[i] = p
        w = self.window_ms + e
        window = self.ix.occupancy_window_ms
        if w >= window:
            # close the window: occupancy and flow of the window just ended
            w -= window
            for i in range(self.n):
                occ = self.window_occupied_ms[i]
                self.occupancy_permille[i] = 1000 if occ >= window else occ * 1000 // window
                self.flow_count[i] = self.window_count[i]
                self.window_occupied_ms[i] = 0
                self.window_count[i] = 0
        self.window_ms = w
