# Coordinated strategy: coordinated-actuated operation under a corridor plan
# (cycle, splits in sequence order starting with the coordinated stage,
# offset), free adaptive operation when no plan is in force. Runs on the
# board; decide() allocates nothing and uses integer arithmetic only. Units:
# ms. Method, timing diagram, transition rule: docs/coordinated-strategy.md.
#
# Two cycle positions run on the elapsed time (the core never reads a clock):
#  - plan_pos_ms: where the plan says the cycle is, (wall - ref - offset) mod
#    cycle, computed once when the plan is set and advanced from then on;
#  - pos_ms: where the signals run, the position every decision uses.
# In step they are equal. Position 0 is the planned start of the coordinated
# stage's green; its yield point is its split end minus the transition to the
# next stage. The coordinated stage holds (no gap-out) until the yield point;
# side stages are then served in sequence when they have demand and their
# window is still open (their min green fits before their force-off point),
# end on gap-out or at their force-off point (event 6), and unused time goes
# back to the coordinated stage (early return), which is then held until the
# next yield point. A new plan is reached over at most three cycles by the
# shorter way: lengthening (pos_ms stands still at the yield point while the
# coordinated stage dwells) or shortening (pos_ms jumps ahead while the
# coordinated stage is green, never below its min green). The safety kernel
# holds min green, clearance and intergreen whatever is asked here: a late
# green only shortens what follows, the positions run on regardless.
from array import array

from controller.events import codes as ev
from controller.compat import const
from controller.coordination.messages import MODE_COORDINATED, MODE_FREE, MODE_TRANSITION
from controller.safety.signal_states import GREEN
from controller.strategies.registry import log_green_end
from controller.strategies.adaptive import AdaptiveStrategy

_NONE = const(0)
_ADD = const(1)  # lengthen: dwell in the coordinated stage at its yield point
_SUBTRACT = const(2)  # shorten: cut the coordinated stage's green
TRANSITION_CYCLES = const(3)
FALLBACK_CYCLES = const(2)  # consecutive cycles with a side queue spilled back at force-off: run free (0: never)
FALLBACK_HOLD_MS = const(300000)  # for this long, then back to the plan (docs/experiments/oversaturation-arterial4x4.md)
_MAX_GAP_S = const(100000)  # time not seen by decide() is counted up to this (longer than any plan's validity)


class CoordinatedStrategy:
    name = "coordinated"

    def __init__(self, ix):
        self.ix = ix
        self.free = AdaptiveStrategy(ix)  # free operation: no plan in force
        n_st = ix.n_stages
        k = len(ix.sequence)
        self.n_places = k
        # per place in the plan's cycle (0 = coordinated stage)
        self.order = bytearray(k)
        self.green_start_ms = array("i", [0] * k)
        self.force_off_ms = array("i", [0] * k)  # when the stage at this place must be left
        self.place = bytearray(n_st)  # place of each stage in the plan
        # per stage, fixed by the intersection
        self.min_green_ms = array("i", [ix.stage_min_green_ms(s) for s in range(n_st)])
        self.walk_ms = array("i", [0] * n_st)  # longest pedestrian walk
        for s in range(n_st):
            for g in ix.stage_groups[s]:
                if ix.is_pedestrian[g] and ix.min_green_ms[g] > self.walk_ms[s]:
                    self.walk_ms[s] = ix.min_green_ms[g]
        self.transition = array("i", [0] * (n_st * n_st))
        for a in range(n_st):
            for b in range(n_st):
                self.transition[a * n_st + b] = ix.transition_ms(a, b)
        self.plan = None
        self.mode = MODE_FREE
        self.cycle_ms = 0
        self.yield_ms = 0
        self.coordinated_stage = 0
        self.plan_pos_ms = 0
        self.pos_ms = 0
        self.valid_left_ms = 0
        self.correction = _NONE
        self.budget_ms = 0  # correction still allowed in this local cycle
        self.cycles_left = 0  # local cycles (this one included) to finish the transition in
        self.returned = False  # back in the coordinated stage before the cycle's end: held until the next yield
        self.resync = False  # a new plan: find where the signals are at the next decision
        self.pattern_param = 0
        self.cycle_param = 0
        self.offset_param = 0
        self.ctl = None
        self.seen_s = 0
        self.seen_ms = 0
        self.stamped = False
        self.force_offs = 0  # side stages ended at their force-off point (for tests and reports)
        self.fallback_cycles = FALLBACK_CYCLES
        self.fallback_hold_ms = FALLBACK_HOLD_MS
        self.starved = False  # this cycle, a side stage was forced off with its queue spilled back
        self.starved_cycles = 0  # consecutive such cycles
        self.fallback_left_ms = 0  # running free because the side streets are oversaturated
        self.fallbacks = 0  # times it went free so (for tests and reports)

    # ---- between ticks (may allocate) ----

    def bind(self, ctl):
        # Called by the coordination agent when it is built: from then on a
        # plan set before the kernel runs (startup) is timed on the
        # controller's clock too.
        if self.ctl is None:
            self.ctl = ctl
        if not self.stamped:
            self._stamp(ctl.events)

    def start(self, ctl):
        self.ctl = ctl
        self.free.start(ctl)
        if not self.stamped:
            self._stamp(ctl.events)
        if self.plan is not None:
            self.resync = True  # the kernel (re)started from its first stage
        ctl.kernel.allow_late_start = True

    def set_plan(self, plan, wall_ms):
        # A plan that passed plan_validation.PlanGate. A refreshed plan with the
        # same timing only extends the validity.
        unseen = 0
        if self.ctl is not None and self.stamped:
            unseen = self._since_stamp(self.ctl.events)  # time since decide() last ran
        if plan.same_timing(self.plan):
            self.plan = plan
            self.valid_left_ms = plan.valid_until_ms - wall_ms + unseen
            return
        ix = self.ix
        k = self.n_places
        cycle = plan.cycle_ms
        for p in range(k):
            s = ix.stage_ids.index(plan.stage_ids[p])
            self.order[p] = s
            self.place[s] = p
        start = 0
        for p in range(k):
            s = self.order[p]
            nxt = self.order[(p + 1) % k]
            self.green_start_ms[p] = start
            start += plan.split_ms[p]
            self.force_off_ms[p] = start - self.transition[s * ix.n_stages + nxt]
        self.coordinated_stage = self.order[0]
        self.yield_ms = self.force_off_ms[0]
        # the last side stage (and any returning early) must leave in time for position 0
        for p in range(1, k):
            latest = cycle - self.transition[self.order[p] * ix.n_stages + self.coordinated_stage]
            if self.force_off_ms[p] > latest:
                self.force_off_ms[p] = latest
        self.cycle_ms = cycle
        self.plan_pos_ms = (wall_ms - plan.ref_ms - plan.offset_ms) % cycle
        if self.ctl is not None:
            self._stamp(self.ctl.events)  # plan_pos_ms is for now
        self.valid_left_ms = plan.valid_until_ms - wall_ms
        self.pattern_param = plan.seq & 0xFFFF
        self.cycle_param = cycle // 1000
        self.offset_param = plan.offset_ms // 1000
        self.plan = plan
        self.mode = MODE_TRANSITION
        self.resync = True

    def clear_plan(self):
        # Back to free operation at the next decision.
        self.plan = None

    # ---- the tick path (allocates nothing) ----

    def _stamp(self, events):
        self.seen_s = events.now_s
        self.seen_ms = events.now_ms
        self.stamped = True

    def _since_stamp(self, events):
        ds = events.now_s - self.seen_s
        if ds > _MAX_GAP_S:
            ds = _MAX_GAP_S
        elif ds < 0:
            ds = 0
        return ds * 1000 + events.now_ms - self.seen_ms

    def decide(self, ctl, elapsed_ms):
        kernel = ctl.kernel
        # time since the last decision, counted on the controller's clock, so
        # startup, flash and a plan set before the kernel ran all count
        e = elapsed_ms
        if self.stamped:
            e = self._since_stamp(ctl.events)
        self._stamp(ctl.events)
        if self.plan is not None:
            self.valid_left_ms -= e
            if self.valid_left_ms <= 0:
                self.plan = None  # validity ran out on the local clock
        if self.plan is None:
            if self.mode != MODE_FREE:
                self._go_free(ctl)
            return self.free.decide(ctl, elapsed_ms)
        cycle = self.cycle_ms
        t = self.plan_pos_ms + e
        self.plan_pos_ms = t % cycle if t >= cycle else t
        if self.fallback_left_ms > 0:
            # oversaturated side streets: free operation for a while, the plan kept in step on paper
            self.fallback_left_ms -= e
            if self.fallback_left_ms > 0:
                return self.free.decide(ctl, elapsed_ms)
            self.fallback_left_ms = 0
            self.starved_cycles = 0
            self.resync = True
            self.mode = MODE_TRANSITION
        self.free.queues.update(elapsed_ms, kernel.state)  # keeps free operation's estimates current
        if self.resync:
            self._resync(ctl)
        else:
            self._advance(ctl, e)
            if self.fallback_left_ms > 0:
                return kernel.stage  # gone free: the adaptive strategy decides from the next tick
        return self._serve(ctl)

    def _go_free(self, ctl):
        self.mode = MODE_FREE
        self.correction = _NONE
        self.resync = False
        ctl.kernel.allow_late_start = True
        self.free.start(ctl)
        ctl.events.add(ev.COORD_CYCLE_STATE_CHANGE, ev.COORD_STATE_FREE)

    def _remaining(self):
        # correction still to make, ms
        cycle = self.cycle_ms
        if self.correction == _ADD:
            return (self.pos_ms - self.plan_pos_ms) % cycle
        return (self.plan_pos_ms - self.pos_ms) % cycle

    def _budget(self):
        left = self.cycles_left
        r = self._remaining()
        self.budget_ms = (r + left - 1) // left

    def _resync(self, ctl):
        # A new plan (or a restart): where in the new cycle are the signals?
        # The position that fits the current stage and how long it has been
        # green; if the plan's position fits it too, the signals are in step.
        self.resync = False
        kernel = ctl.kernel
        s = kernel.stage
        t = kernel.stage_ms if kernel.established else 0
        plan_pos = self.plan_pos_ms
        y = self.yield_ms
        self.returned = False
        if s == self.coordinated_stage:
            # a green that has run at least to the plan's position (resting, no side demand) fits it
            pos = plan_pos if t >= plan_pos else t
        else:
            p = self.place[s]
            fo = self.force_off_ms[p]
            if plan_pos - t >= y and plan_pos < fo:
                pos = plan_pos
            else:
                pos = self.green_start_ms[p] + t
                if pos > fo:
                    pos = fo
        if pos >= self.cycle_ms:
            pos = self.cycle_ms - 1
        self.pos_ms = pos
        events = ctl.events
        events.add(ev.COORD_PATTERN_CHANGE, self.pattern_param)
        events.add(ev.CYCLE_LENGTH_CHANGE, self.cycle_param)
        events.add(ev.OFFSET_LENGTH_CHANGE, self.offset_param)
        cycle = self.cycle_ms
        behind = (plan_pos - pos) % cycle
        if behind == 0:
            self._in_step(ctl)
            return
        ahead = cycle - behind
        # shortening: this cycle's coordinated green (if still to come) and two more, each down to min green
        cut = y - self.min_green_ms[self.coordinated_stage]
        if cut < 0:
            cut = 0
        first = 0
        if s == self.coordinated_stage and pos < y:
            need = self.min_green_ms[s] - t
            first = y - pos - (need if need > 0 else 0)
            if first < 0:
                first = 0
        # (else this cycle's coordinated green is over: two more cycles to cut in)
        self.cycles_left = TRANSITION_CYCLES
        if behind <= ahead and behind <= first + (TRANSITION_CYCLES - 1) * cut:
            self.correction = _SUBTRACT
            param = ev.COORD_STATE_TRANSITION_SUBTRACT
        else:
            self.correction = _ADD
            param = ev.COORD_STATE_TRANSITION_ADD
        self._budget()
        self.mode = MODE_TRANSITION
        events.add(ev.COORD_CYCLE_STATE_CHANGE, param)

    def _in_step(self, ctl):
        self.correction = _NONE
        self.mode = MODE_COORDINATED
        ctl.events.add(ev.COORD_CYCLE_STATE_CHANGE, ev.COORD_STATE_IN_STEP)

    def _advance(self, ctl, e):
        # Move the signals' position by e, making this cycle's correction.
        kernel = ctl.kernel
        cycle = self.cycle_ms
        y = self.yield_ms
        pos = self.pos_ms
        new = pos + e
        corr = self.correction
        if corr != _NONE and kernel.stage == self.coordinated_stage and not self.returned:
            if corr == _ADD:
                if pos <= y < new:
                    d = new - y  # the time past the yield point is dwelt instead
                    if d > self.budget_ms:
                        d = self.budget_ms
                    r = (new - self.plan_pos_ms) % cycle  # lengthening still to do
                    if d > r:
                        d = r
                    new -= d
                    self.budget_ms -= d
            elif kernel.established and new < y:
                need = self.min_green_ms[self.coordinated_stage] - kernel.stage_ms
                j = y - new - (need if need > 0 else 0)
                if j > self.budget_ms:
                    j = self.budget_ms
                r = (self.plan_pos_ms - new) % cycle  # shortening still to do
                if j > r:
                    j = r
                if j > 0:
                    new += j
                    self.budget_ms -= j
        wrapped = new >= cycle
        if wrapped:
            new %= cycle
            self.returned = False
            self.starved_cycles = self.starved_cycles + 1 if self.starved else 0
            self.starved = False
            if corr != _NONE and self.cycles_left > 1:
                self.cycles_left -= 1
        self.pos_ms = new
        if self.fallback_cycles and self.starved_cycles >= self.fallback_cycles:
            self.fallback_left_ms = self.fallback_hold_ms
            self.fallbacks += 1
            self.starved_cycles = 0
            self._go_free(ctl)
            return
        if corr != _NONE:
            if self._remaining() == 0:
                self._in_step(ctl)
            elif wrapped:  # a new local cycle: its share of what is left
                self._budget()

    def _dwelling(self):
        # the coordinated stage is held at its yield point to lengthen the cycle
        return (self.correction == _ADD and self.pos_ms == self.yield_ms and self.budget_ms > 0
                and self._remaining() > 0)

    def _window_open(self, cur, p, pos):
        # may the stage at place p still be entered from stage cur at position pos?
        s = self.order[p]
        green_at = pos + self.transition[cur * self.ix.n_stages + s]
        return green_at + self.min_green_ms[s] <= self.force_off_ms[p]

    def _next_side(self, ctl, first, cur, pos):
        # the first place from `first` on whose stage has demand and an open window, or -1
        ix = self.ix
        state = ctl.kernel.state
        call = ctl.demand.call
        for p in range(first, self.n_places):
            s = self.order[p]
            if not self._window_open(cur, p, pos):
                continue
            for g in ix.stage_groups[s]:
                if call[g] and state[g] != GREEN:
                    return p
        return -1

    def _spilled(self, ctl, s):
        # a group of side stage s (not green in the coordinated stage) whose
        # queue has spilled back over its advance loop and is still
        # discharging (no gap), or -1
        ix = self.ix
        kernel = ctl.kernel
        coord = self.coordinated_stage
        q = self.free.queues
        demand = ctl.demand
        state = kernel.state
        for g in ix.stage_groups[s]:
            if ix.is_pedestrian[g] or state[g] != GREEN or ix.stage_mask[coord][g]:
                continue
            if q.estimate[g] > q.capacity[g] and demand.gap_ms(g) < ix.passage_ms[g]:
                return g
        return -1

    def _serve(self, ctl):
        ix = self.ix
        kernel = ctl.kernel
        s = kernel.stage
        coord = self.coordinated_stage
        pos = self.pos_ms
        y = self.yield_ms
        if not kernel.established:
            return s
        if s == coord:
            if self.returned:
                left = self.cycle_ms - pos + y
            else:
                left = y - pos
            kernel.allow_late_start = left >= self.walk_ms[s]
            if self.returned or pos < y or self._dwelling():
                return s
            p = self._next_side(ctl, 1, s, pos)
            if p < 0:
                return s  # no side demand in an open window: rest in the coordinated stage
            nxt = self.order[p]
            log_green_end(ctl, s, nxt, ev.PHASE_FORCE_OFF)
            return nxt
        p = self.place[s]
        fo = self.force_off_ms[p]
        kernel.allow_late_start = pos >= y and pos + self.walk_ms[s] <= fo
        q = -1
        if pos >= y:
            q = self._next_side(ctl, p + 1, s, pos)
        nxt = coord if q < 0 else self.order[q]
        if pos >= fo or pos < y:
            if self._spilled(ctl, s) >= 0:
                self.starved = True
            code = ev.PHASE_FORCE_OFF  # at its force-off point (or past the cycle's end)
            self.force_offs += 1
        else:
            state = kernel.state
            demand = ctl.demand
            for g in ix.stage_groups[s]:
                if ix.is_pedestrian[g] or state[g] != GREEN or ix.stage_mask[nxt][g]:
                    continue
                if kernel.state_ms(g) < ix.min_green_ms[g] or demand.gap_ms(g) < ix.passage_ms[g]:
                    return s  # min green or still extending
            code = ev.PHASE_GAP_OUT
        log_green_end(ctl, s, nxt, code)
        if nxt == coord and pos >= y:
            self.returned = True  # early return: held until the next yield point
        return nxt
