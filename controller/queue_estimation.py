# Queue estimation per vehicle signal group from loop detectors only.
# Runs on the board; update() allocates nothing. Units: vehicles, ms.
#
# Between the advance loop and the stop line the estimate counts vehicles in
# and out: +1 for each vehicle over an advance loop, -1 for each vehicle over
# a stop-bar loop. The count is corrected when the loops show the queue has
# cleared (green, no vehicle over the stop bar for a passage time and none
# over the advance loop for the travel time between the loops), and bounded
# by the storage between the loops. When an advance loop stays occupied the
# queue has spilled back past it; the estimate then grows with the time it
# stays occupied, as vehicles keep joining out of sight.
# Failed loops (detector_diagnostics) fall back:
#  - no usable stop-bar loop: departures are assumed at the saturation
#    headway while the group is green;
#  - no usable advance loop: an occupied stop-bar loop during red means a
#    queue of at least one vehicle, growing with the arrival rate the stop
#    bar measured in the last window.
from array import array

from controller.compat import CLOCK_MASK, TIMER_MAX_MS
from controller.detector_diagnostics import FAULT_NONE
from controller.intersection import DETECTOR_ADVANCE, DETECTOR_STOP_BAR
from controller.loop_groups import LoopGroups
from controller.signal_states import GREEN

_VEHICLE_SPACING_M = 7  # one queued car per 7 m of lane
_TRAVEL_SPEED_M_PER_S = 10  # approach speed used for the advance -> stop-bar travel time
_RING = 8  # recent advance-loop crossings remembered per group (for vehicles in transit)


class QueueEstimator:
    def __init__(self, ix, detectors, diagnostics, spill_ms=3000, saturation_headway_ms=2000):
        n = ix.n_groups
        self.n = n
        self.ix = ix
        self.det = detectors
        self.diag = diagnostics
        self.fault = diagnostics.fault
        self.spill_ms = spill_ms
        self.saturation_headway_ms = saturation_headway_ms
        self.stop_loops = []
        self.capacity = array("i", [0] * n)
        self.travel_ms = array("i", [0] * n)
        for g in range(n):
            stops = []
            advs = []
            far = 0
            for d in ix.group_detectors[g]:
                if ix.detector_kind[d] == DETECTOR_STOP_BAR:
                    stops.append(d)
                elif ix.detector_kind[d] == DETECTOR_ADVANCE:
                    advs.append(d)
                    if ix.detector_distance_m[d] > far:
                        far = ix.detector_distance_m[d]
            self.stop_loops.append(tuple(stops))
            lanes = len(advs) if advs else (len(stops) if stops else 1)
            self.capacity[g] = lanes * (far // _VEHICLE_SPACING_M + 1) if far else lanes * 6
            self.travel_ms[g] = far * 1000 // _TRAVEL_SPEED_M_PER_S
        self.between = array("i", [0] * n)  # counted between the loops
        self.estimate = array("i", [0] * n)  # vehicles waiting or arriving: what strategies read
        self.discharge_ms = array("i", [0] * n)  # fallback discharge clock
        self.red_ms = array("i", [0] * n)  # time since the group was last green
        self.arrival_gap_ms = array("i", [TIMER_MAX_MS] * n)  # since the last vehicle over an advance loop
        self.clock_ms = 0
        self.crossed_at = array("i", [0] * (n * _RING))  # clock of recent advance crossings, ring per group
        self.crossed_next = bytearray(n)
        self.crossed_count = bytearray(n)
        kinds = ix.detector_kind
        self.advance = LoopGroups(ix, detectors, diagnostics,
                                  bytearray(1 if kinds[d] == DETECTOR_ADVANCE else 0 for d in range(ix.n_detectors)))
        self.stop = LoopGroups(ix, detectors, diagnostics,
                               bytearray(1 if kinds[d] == DETECTOR_STOP_BAR else 0 for d in range(ix.n_detectors)))
        self.dirty = bytearray(n)  # a loop of the group changed this tick
        self.arrivals = bytearray(n)  # this tick, over usable advance loops
        self.departures = bytearray(n)  # this tick, over usable stop-bar loops

    def reset(self):
        # Forget every estimate (after a flash, a reset or a safe ending, when the
        # strategy starts again): the counts start from the loops as they are now,
        # and the loop summaries are rebuilt at the next update.
        for g in range(self.n):
            self.between[g] = 0
            self.estimate[g] = 0
            self.discharge_ms[g] = 0
            self.red_ms[g] = 0
            self.arrival_gap_ms[g] = TIMER_MAX_MS
            self.crossed_next[g] = 0
            self.crossed_count[g] = 0
            self.dirty[g] = 1
            self.arrivals[g] = 0
            self.departures[g] = 0
        self.advance.fault_version = -1
        self.stop.fault_version = -1

    def in_transit(self, g):
        # Vehicles that crossed an advance loop less than the travel time ago:
        # moving toward the stop line, not queued (yet).
        n = 0
        base = g * _RING
        for k in range(self.crossed_count[g]):
            if (self.clock_ms - self.crossed_at[base + k]) & CLOCK_MASK < self.travel_ms[g]:
                n += 1
        return n

    def queued(self, g):
        # Vehicles estimated standing or creeping in the queue (estimate minus those in transit).
        q = self.estimate[g] - self.in_transit(g)
        return q if q > 0 else 0

    def update(self, elapsed_ms, states):
        ix = self.ix
        det = self.det
        fault = self.fault
        self.clock_ms = (self.clock_ms + elapsed_ms) & CLOCK_MASK
        rebuilt = self.advance.fault_version != self.diag.version
        self.advance.update()
        self.stop.update()
        for k in range(det.n_changed):
            d = det.changed[k]
            g = ix.detector_group[d]
            self.dirty[g] = 1
            if not det.rising[d] or fault[d] != FAULT_NONE:
                continue
            kind = ix.detector_kind[d]
            if kind == DETECTOR_ADVANCE:
                if self.arrivals[g] < 255:
                    self.arrivals[g] += 1
                r = self.crossed_next[g]
                self.crossed_at[g * _RING + r] = self.clock_ms
                self.crossed_next[g] = r + 1 if r + 1 < _RING else 0
                if self.crossed_count[g] < _RING:
                    self.crossed_count[g] += 1
            elif kind == DETECTOR_STOP_BAR and self.departures[g] < 255:
                self.departures[g] += 1
        # locals: attribute lookups are what a tick costs on MicroPython
        adv = self.advance
        stop = self.stop
        red_ms = self.red_ms
        dirty = self.dirty
        between = self.between
        is_pedestrian = ix.is_pedestrian
        for g in range(self.n):
            if is_pedestrian[g]:
                continue
            green = states[g] == GREEN
            if green:
                red_ms[g] = 0
            else:
                t = red_ms[g] + elapsed_ms
                red_ms[g] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
                # red and quiet: nothing moved, so the estimate stands (spillback
                # and the no-advance fallback grow with time and are recomputed)
                if not (dirty[g] or rebuilt or adv.occupied[g] or (not adv.usable[g] and stop.occupied[g])):
                    continue
            dirty[g] = 0
            adv_ok = adv.usable[g]
            stop_ok = stop.usable[g]
            stop_occupied = stop.occupied[g]  # vehicles standing on stop-bar loops (counted out already)
            b = between[g] + self.arrivals[g]
            if stop_ok:
                b -= self.departures[g]
            elif green:
                # no stop-bar loop: assume saturation discharge while green
                t = self.discharge_ms[g] + elapsed_ms
                while t >= self.saturation_headway_ms and b > 0:
                    t -= self.saturation_headway_ms
                    b -= 1
                self.discharge_ms[g] = t if b > 0 else 0
            self.arrivals[g] = 0
            self.departures[g] = 0
            if b < 0:
                b = 0
            cap = self.capacity[g]
            if b > cap:
                b = cap
            if green:
                # the gaps matter only while green: has the queue cleared, and
                # (for the strategy) how long since the last arrival
                arrival_gap = adv.gap_ms(g)
                if (not adv.occupied[g] and arrival_gap >= self.travel_ms[g]
                        and stop.gap_ms(g) >= ix.passage_ms[g]):
                    b = 0  # the loops show the queue has cleared
                # -1: no usable advance loop, strategies fall back to the group's gap
                self.arrival_gap_ms[g] = arrival_gap if adv_ok else -1
            between[g] = b
            est = b + stop_occupied
            if adv_ok == 0 and stop_ok and stop_occupied and not green:
                # no advance loop: a standing queue of at least one, growing with arrivals
                est = stop_occupied
                for d in self.stop_loops[g]:
                    est += det.flow_count[d] * red_ms[g] // ix.occupancy_window_ms
            spill = 0
            d = adv.first_on[g]
            if d >= 0:  # adv.longest_on_ms(g), inlined: this is the hot path of a busy approach
                spill = (det.clock_ms - det.changed_at[d]) & CLOCK_MASK
            if spill >= self.spill_ms:
                # spilled back past the advance loop: more are waiting out of sight
                est += cap // 2 + spill // self.saturation_headway_ms
            self.estimate[g] = est
