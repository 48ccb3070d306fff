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
# Failed loops (detection/diagnostics.py) fall back:
#  - no usable stop-bar loop: departures are assumed at the saturation
#    headway while the group is green;
#  - no usable advance loop: an occupied stop-bar loop during red means a
#    queue of at least one vehicle, growing with the arrival rate the stop
#    bar measured in the last window.
from array import array

from controller.compat import SMALL_INT_MAX, const
from controller.detection.diagnostics import FAULT_NONE
from controller.intersection import DETECTOR_ADVANCE, DETECTOR_STOP_BAR, NO_GROUP
from controller.detection.loop_groups import LoopGroups
from controller.safety.signal_states import GREEN
from controller.timing import CLOCK_MASK, TIMER_MAX_MS

_VEHICLE_SPACING_M = const(7)  # one queued car per 7 m of lane
_TRAVEL_SPEED_M_PER_S = const(10)  # approach speed used for the advance -> stop-bar travel time
# Storage per lane where no advance loop gives the distance (none, or one at
# 0 m): that of an advance loop at the usual 40 m (the example configs' and
# the SUMO importer's layout), 40 // 7 + 1 = 6 vehicles.
_USUAL_ADVANCE_M = const(40)
_LANE_STORAGE_WITHOUT_DISTANCE = const(_USUAL_ADVANCE_M // _VEHICLE_SPACING_M + 1)
# An advance loop occupied spill_ms: the queue has spilled back past it, and
# vehicles wait out of sight beyond it. They are taken as half the storage
# between the loops (capacity // 2), more than none and less than a second
# full storage length, plus one for every saturation headway the loop has
# been occupied.
_UNSEEN_QUEUE_DIVISOR = const(2)
CROSSING_RING = const(8)  # recent advance-loop crossings remembered per group (for vehicles in transit)


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
        self.vehicle_groups = tuple(g for g in range(n) if not ix.is_pedestrian[g])
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
            self.capacity[g] = lanes * (far // _VEHICLE_SPACING_M + 1) if far else lanes * _LANE_STORAGE_WITHOUT_DISTANCE
            self.travel_ms[g] = far * 1000 // _TRAVEL_SPEED_M_PER_S
        self.between = array("i", [0] * n)  # counted between the loops
        self.estimate = array("i", [0] * n)  # vehicles waiting or arriving: what strategies read
        self.version = 0  # moves whenever an estimate changes (readers redo what depends on them)
        self.discharge_ms = array("i", [0] * n)  # fallback discharge clock
        self.red_ms = array("i", [0] * n)  # time since the group was last green
        self.clock_ms = 0
        self.crossed_at = array("i", [0] * (n * CROSSING_RING))  # clock of recent advance crossings, ring per group
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
            self.crossed_next[g] = 0
            self.crossed_count[g] = 0
            self.dirty[g] = 1
            self.arrivals[g] = 0
            self.departures[g] = 0
        self.advance.fault_version = -1
        self.stop.fault_version = -1
        self.version = (self.version + 1) & SMALL_INT_MAX

    def in_transit(self, g):
        # Vehicles that crossed an advance loop less than the travel time ago:
        # moving toward the stop line, not queued (yet). The ring holds the
        # crossings in time order, so these are the newest ones: counted from
        # the newest back to the first that has arrived. (Few locals: see
        # StampClock.advance.)
        n = 0
        r = self.crossed_next[g]
        while n < self.crossed_count[g]:
            r = r - 1 if r else CROSSING_RING - 1
            if (self.clock_ms - self.crossed_at[g * CROSSING_RING + r]) & CLOCK_MASK >= self.travel_ms[g]:
                break
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
        if rebuilt or det.n_changed:
            # the loop summaries move only with an edge or a fault
            self.advance.update()
            self.stop.update()
        # locals: attribute lookups are what a tick costs on MicroPython
        dirty = self.dirty
        arrivals = self.arrivals
        departures = self.departures
        for k in range(det.n_changed):
            d = det.changed[k]
            g = ix.detector_group[d]
            if g == NO_GROUP:
                continue  # an exit loop
            dirty[g] = 1
            if not det.rising[d] or fault[d] != FAULT_NONE:
                continue
            kind = ix.detector_kind[d]
            if kind == DETECTOR_ADVANCE:
                if arrivals[g] < 255:
                    arrivals[g] += 1
                r = self.crossed_next[g]
                self.crossed_at[g * CROSSING_RING + r] = self.clock_ms
                self.crossed_next[g] = r + 1 if r + 1 < CROSSING_RING else 0
                if self.crossed_count[g] < CROSSING_RING:
                    self.crossed_count[g] += 1
            elif kind == DETECTOR_STOP_BAR and departures[g] < 255:
                departures[g] += 1
        adv = self.advance
        stop = self.stop
        usable = adv.usable
        stop_occupied = stop.occupied
        first_on = adv.first_on
        red_ms = self.red_ms
        between = self.between
        discharge = self.discharge_ms
        capacity = self.capacity
        estimate = self.estimate
        changed_at = det.changed_at
        clock = det.clock_ms
        spill_ms = self.spill_ms
        headway = self.saturation_headway_ms
        for g in self.vehicle_groups:
            green = states[g] == GREEN
            if green:
                # recomputed when it has just turned green (its red time is
                # cleared now) and while a counted queue may discharge or be
                # seen cleared
                quiet = not (red_ms[g] or between[g] or discharge[g])
                red_ms[g] = 0
            else:
                t = red_ms[g] + elapsed_ms
                red_ms[g] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
                # the no-advance fallback grows with the red time
                quiet = usable[g] or not stop_occupied[g]
            if quiet and not (dirty[g] or rebuilt):
                # no loop of the group changed: the estimate stands, unless a
                # spillback grows with time (the estimate below, in short)
                d = first_on[g]
                if d < 0:
                    continue
                spill = (clock - changed_at[d]) & CLOCK_MASK
                if spill < spill_ms:
                    continue
                est = between[g] + stop_occupied[g] + capacity[g] // _UNSEEN_QUEUE_DIVISOR + spill // headway
                if est != estimate[g]:
                    estimate[g] = est
                    self.version = (self.version + 1) & SMALL_INT_MAX
                continue
            dirty[g] = 0
            adv_ok = usable[g]
            stop_ok = stop.usable[g]
            occupied = stop_occupied[g]  # vehicles standing on stop-bar loops (counted out already)
            b = between[g] + arrivals[g]
            if stop_ok:
                b -= departures[g]
            elif green:
                # no stop-bar loop: assume saturation discharge while green
                t = discharge[g] + elapsed_ms
                while t >= headway and b > 0:
                    t -= headway
                    b -= 1
                discharge[g] = t if b > 0 else 0
            arrivals[g] = 0
            departures[g] = 0
            if b < 0:
                b = 0
            cap = capacity[g]
            if b > cap:
                b = cap
            # green: have the loops shown the queue has cleared?
            if (green and b and not adv.occupied[g] and adv.gap_ms(g) >= self.travel_ms[g]
                    and stop.gap_ms(g) >= ix.passage_ms[g]):
                b = 0
            between[g] = b
            est = b + occupied
            if adv_ok == 0 and stop_ok and occupied and not green:
                # no advance loop: a standing queue of at least one, growing with arrivals
                est = occupied
                for d in self.stop_loops[g]:
                    est += det.flow_count[d] * red_ms[g] // ix.occupancy_window_ms
            d = first_on[g]
            if d >= 0:  # adv.longest_on_ms(g), inlined: this is the hot path of a busy approach
                spill = (clock - changed_at[d]) & CLOCK_MASK
                if spill >= spill_ms:
                    # spilled back past the advance loop: more are waiting out of sight
                    est += cap // _UNSEEN_QUEUE_DIVISOR + spill // headway
            if est != estimate[g]:
                estimate[g] = est
                self.version = (self.version + 1) & SMALL_INT_MAX
