# Adaptive strategy: serves stages by estimated queues from loop detectors
# (queue_estimation.py) instead of by calls alone. Runs on the board;
# decide() allocates nothing and uses integer arithmetic only. Units: ms,
# vehicles. Parameters: the config's "adaptive" block (config_schema.ADAPTIVE).
#
# Every tick, once the current stage is established and its min greens held:
#  - the competing stage is chosen (fixed sequence: the next one in order with
#    demand, skipping the others; free sequence: the one with the highest
#    value); a stage's value is the vehicles estimated waiting in its groups
#    that are not green yet, plus one per call, plus one vehicle-equivalent for
#    each age_weight_ms its oldest call has waited;
#  - a leaving group whose counted queue (vehicles between the loops that are
#    not just travelling to the stop line) has not cleared keeps its full
#    passage time: a discharging queue is served to the end, since cutting it
#    costs a second intergreen and a cycle of waiting for those left behind;
#  - once its queue has cleared, the group only serves arrivals (the gap is
#    taken on its advance loops, where they work), and its passage time shrinks by gap_reduction_ms_per_veh for every
#    vehicle-equivalent of the competing stage, down to min_gap_ms
#    (volume-density gap reduction driven by estimated queues);
#  - green ends on gap-out (event 4), max-out (event 5; the max timer runs
#    from the moment another stage has demand), or when a wait bound forces it
#    (event 6): no group with demand waits longer than its max_wait_ms.
#  - protected/permissive turns (a group a stage shows permissive, yielding to
#    a conflicting movement of that stage, that another stage protects): while
#    it waits on its loop for a gap (on for permissive_wait_ms) it does not hold the
#    permissive stage, and its queue counts for its protected stages; when the
#    permissive stage ends, the next stage is chosen with its whole queue
#    counted for them. So a protected turn runs when its queue is worth it, not
#    only when the permissive stage has not been chosen.
#  - blocked turns in a pocket (such a group whose extension loops all lie in a
#    turn pocket): once it has waited permissive_wait_ms it is blocked until a
#    green serves it (protected, or permissive with its queue cleared);
#    meanwhile its wait ages on from its loop's on-time, through green and red,
#    for the age weight and for max_wait_ms (whose force-off goes to a stage
#    that protects it), it counts for no stage that shows it permissive, still
#    queued as its permissive stage ends (blocked an age_weight_ms) it gets its
#    protected stage next, and its protected green holds its stage though the
#    next shows it permissive.
#    Not on a shared lane: a protected-turn stage cannot move a through vehicle
#    at its head (docs/adaptive.md, rule 5).
#  - blocked exits: a lane whose exit loops (loops just past the junction on
#    the lanes it leads onto, named in its loops' "exits") are all working and
#    occupied for exit_blocked_ms is blocked: its vehicles cannot leave. Its
#    loops extend no green, and a waiting group whose lanes are all blocked
#    has its estimate counted for no stage (its call and its wait's age still
#    count, so it is served in time) (docs/adaptive.md, rule 6).
# Cycle and splits follow from these rules: a stage's green grows with its
# queue and shrinks when others' queues grow, so the cycle stretches under
# heavy demand and shortens under light demand.
from array import array

from controller import event_codes as ev
from controller.exit_blocking import ExitBlocking
from controller.intersection import RECALL_MAX
from controller.queue_estimation import QueueEstimator
from controller.signal_states import GREEN
from controller.strategies import log_green_end
from controller.timing import CLOCK_MASK, TIMER_MAX_MS


def _param(raw, name):
    # the config's "adaptive" block, defaults filled in at load (config_defaults)
    return raw["adaptive"][name]


class AdaptiveStrategy:
    name = "adaptive"

    def __init__(self, ix):
        self.ix = ix
        raw = ix.raw
        self.min_gap_ms = _param(raw, "min_gap_ms")
        self.gap_reduction_ms_per_veh = _param(raw, "gap_reduction_ms_per_veh")
        self.age_weight_ms = _param(raw, "age_weight_ms")
        self.spill_ms = _param(raw, "spill_ms")
        self.saturation_headway_ms = _param(raw, "saturation_headway_ms")
        self.permissive_wait_ms = _param(raw, "permissive_wait_ms")
        # blocked exits (None: no loop names exit loops)
        self.exits = ExitBlocking(ix, _param(raw, "exit_blocked_ms")) if ix.detector_exits is not None else None
        default_wait = _param(raw, "max_wait_ms")
        self.max_wait_ms = array("i", [ix.max_wait_ms[g] or default_wait for g in range(ix.n_groups)])
        self.queues = None
        self.max_timer_ms = 0
        self.value = array("i", [0] * ix.n_stages)
        self.weight = array("i", [-1] * ix.n_groups)  # -1: not yet weighed, so the first tick sums
        self.urgent_group = -1
        self.next_stage = -1  # as chosen by the last pass over the values
        # what the values were last summed from (see _stage_values)
        self.seen_edges = -1
        self.seen_states = -1
        self.seen_estimates = -1
        self.seen_faults = -1
        self.seen_stage = -1
        self.seen_ms = 0
        self.quiet_ms = 0
        # protected/permissive turns: guarded[g] = 1 where a stage shows g permissive and another protects it;
        # live[s] = 1 where stage s shows a guarded group permissive (ix.stage_permissive; None: none anywhere)
        self.perm = None
        self.wide = False  # the values were last summed with permissive queues counted whole
        self.held = None  # per group: the queue a waiting permissive green holds for its protected stages
        # blocked[g] = 1 from the moment guarded g's permissive green is seen waiting for a gap
        # until a green serves it; blocked_at[g]: its loop's on-time then (a stamp on demand's clock)
        self.blocked = None
        self.blocked_at = None
        perm = ix.stage_permissive
        if perm is not None:
            ns = ix.n_stages
            guarded = bytearray(ix.n_groups)
            for g in range(ix.n_groups):
                if any(perm[t][g] for t in range(ns)) and any(ix.stage_mask[t][g] and not perm[t][g] for t in range(ns)):
                    guarded[g] = 1
            live = bytearray(1 if any(perm[t][g] and guarded[g] for g in range(ix.n_groups)) else 0 for t in range(ns))
            if any(live):
                self.perm = perm
                self.guarded = guarded
                self.live = live
                self.held = array("i", [0] * ix.n_groups)
                self.blocked = bytearray(ix.n_groups)
                self.blocked_at = array("i", [0] * ix.n_groups)
                # only turn pockets: a protected green clears a lane of turners, but not a shared
                # lane whose head vehicle goes straight on (cologne3: such lanes' protected-left
                # stages, run for their wait, held towards max green by the through queue)
                self.guarded_groups = tuple(g for g in range(ix.n_groups) if guarded[g] and self._pocket(g))
                self.pocket = bytearray(1 if g in self.guarded_groups else 0 for g in range(ix.n_groups))

    def _pocket(self, g):
        # every loop that extends g lies in a turn pocket (config: the detector's turn_pocket)
        dets = self.ix.raw["detectors"]
        loops = [i for i in self.ix.group_detectors[g] if self.ix.detector_extend[i]]
        return bool(loops) and all(dets[i].get("turn_pocket") for i in loops)

    def start(self, ctl):
        # (Re)start: nothing counted before a flash, a reset or a safe ending is
        # kept, since the loops went on changing while no decision was made.
        if self.queues is None:
            self.queues = QueueEstimator(self.ix, ctl.detectors, ctl.diagnostics, self.spill_ms, self.saturation_headway_ms)
            if self.blocked_at is not None:
                # its stamps age (and saturate) on demand's clock, like the calls'
                clock = ctl.demand.clock
                clock.stamp_arrays = clock.stamp_arrays + (self.blocked_at,)
        else:
            self.queues.reset()
        self.max_timer_ms = 0
        self.urgent_group = -1
        self.next_stage = -1
        self.seen_edges = -1  # the first decision sums the values
        self.wide = False
        for g in range(self.ix.n_groups):
            self.weight[g] = -1
            if self.held is not None:
                self.held[g] = 0
                self.blocked[g] = 0

    def _gap_ms(self, g, loops, ctl):
        # the gap that extends green g: on `loops` (None: its extension loops, 0 on max
        # recall); where loops name exits, those on blocked lanes do not count
        if loops is None:
            d = ctl.demand
            if d.recall[g] == RECALL_MAX:
                return 0
            loops = d.extending
        if self.exits is not None and self.exits.blocked_loops(g, loops, ctl):
            return self.exits.open_gap_ms(g, loops, ctl)
        return loops.gap_ms(g)

    def demoted(self, s, nxt, g):
        # s protects pocket turn g, which nxt shows only permissive: its queue still holds s
        return self.perm is not None and self.pocket[g] and self.perm[nxt][g] and not self.perm[s][g]

    def _left_blocked(self, s, clock):
        # -> a pocket turn that stage s shows permissive, blocked for an age_weight_ms or
        # more and still queued as s ends, or -1: its protected stage comes next (it stays
        # green into it, no intergreen lost; served later its vehicles wait a whole cycle
        # more). Blocked for less, it waits its turn (gen03 at 1.3x: +1.7 % against +2.0 %).
        for g in self.guarded_groups:
            if (self.perm[s][g] and self.blocked[g] and self.queues.queued(g) > 0
                    and (clock - self.blocked_at[g]) & CLOCK_MASK >= self.age_weight_ms):
                return g
        return -1

    def permissive_wait_left_ms(self, g, d):
        # until permissive green g waits for a gap (its loop on for
        # permissive_wait_ms: blocked behind the traffic it yields to); 0: it
        # waits now, TIMER_MAX_MS: its loops are free
        f = d.extending.first_on[g]
        if f < 0:
            return TIMER_MAX_MS
        left = self.permissive_wait_ms - d.extending.longest_on_ms(g)
        return left if left > 0 else 0

    def _stage_values(self, ctl, perm, wide=False):
        # Weight of every group that is not green (vehicle-equivalents waiting),
        # the group that has waited too long if any, and from the weights the
        # value of every stage (-1 = no demand), summed again only when a
        # weight moved. Also what they were worked out from, and how long
        # they can stand with nothing else moving (quiet_ms from seen_ms):
        # until a call's age reaches its next age_weight_ms or its wait
        # bound, or a permissive green's loop its permissive_wait_ms; decide()
        # skips the pass until then, unless a loop edge, a fault, a signal
        # change, a change of stage or an estimate moves. Locals: attribute
        # lookups are what a tick costs on MicroPython.
        k = ctl.kernel
        d = ctl.demand
        clock = d.clock_ms
        cur = k.stage
        self.seen_edges = ctl.detectors.edges
        self.seen_states = k.version
        self.seen_estimates = self.queues.version
        self.seen_faults = ctl.diagnostics.version
        self.seen_stage = cur
        self.seen_ms = clock
        state = k.state
        est = self.queues.estimate
        call = d.call
        call_at = d.call_at
        wait = self.max_wait_ms
        weight = self.weight
        age_weight = self.age_weight_ms
        urgent = -1
        oldest = -1
        quiet = TIMER_MAX_MS
        changed = wide != self.wide  # after a wide sum, sum again
        held = self.held
        blocked = self.blocked
        if blocked is not None and self._track_blocked(k, d):
            changed = True  # the stages that show a blocked group permissive count it no more
        exits = self.exits
        if exits is not None:
            quiet = exits.quiet_ms(ctl.detectors)
        for g in range(self.ix.n_groups):
            w = h = 0
            a = -1  # the age of the wait that weighs for g, if any
            holds = False  # g a permissive green that waits: its queue (h) is held for its protected stages
            if state[g] != GREEN:
                if exits is None or not exits.queue_blocked(g, ctl):
                    w = est[g]
                if call[g]:
                    a = (clock - call_at[g]) & CLOCK_MASK
                    if blocked is not None and blocked[g]:
                        b = (clock - self.blocked_at[g]) & CLOCK_MASK
                        if b > a:
                            a = b  # its wait began in its last permissive green
            elif perm is not None and perm[g] and self.guarded[g]:
                holds = True
                if wide:
                    h = est[g] if self.queues.queued(g) > 0 else 0
                else:
                    left = self.permissive_wait_left_ms(g, d)
                    h = 0 if left else est[g]
                    if 0 < left < quiet:
                        quiet = left
                if h and blocked[g]:
                    # and its wait, which goes on ageing while it is blocked
                    a = (clock - self.blocked_at[g]) & CLOCK_MASK
            if a >= 0:
                q = a // age_weight
                left = (q + 1) * age_weight - a
                if left < quiet:
                    quiet = left
                left = wait[g] - a
                if left > 0:
                    if left < quiet:
                        quiet = left
                elif a > oldest:
                    oldest = a
                    urgent = g
                if holds:
                    h += 1 + q
                else:
                    w += 1 + q
            if holds and h != held[g]:
                held[g] = h
                changed = True
            if w != weight[g]:
                weight[g] = w
                changed = True
        self.urgent_group = urgent
        self.quiet_ms = quiet
        if not changed:
            return  # no weight moved: every stage keeps its value
        self.wide = wide
        value = self.value
        stage_groups = self.ix.stage_groups
        for s in range(self.ix.n_stages):
            v = -1
            for g in stage_groups[s]:
                w = weight[g]
                if perm is not None and perm[g] and state[g] == GREEN and s != cur and not self.perm[s][g]:
                    w = held[g]  # s protects g
                elif blocked is not None and blocked[g] and self.perm[s][g]:
                    continue  # s shows g permissive, and that green left it blocked: s would not serve it
                if w > 0:
                    v = w if v < 0 else v + w
            value[s] = v

    def _track_blocked(self, k, d):
        # A guarded group whose permissive green has had its loop on for permissive_wait_ms
        # waits for a gap that may not come: from then on it is blocked, its wait counted
        # from its loop's on-time, until a green serves it: a protected one, or a permissive
        # one in which its queue clears. Moves only with a loop edge, an estimate, a signal
        # state or a permissive wait reached, each of which makes _stage_values run.
        state = k.state
        perm = self.perm[k.stage]
        blocked = self.blocked
        loops = d.extending
        moved = False
        for g in self.guarded_groups:
            if state[g] != GREEN:
                continue
            b = blocked[g]
            if not perm[g]:
                b = 0  # protected
            elif not b:
                on = loops.longest_on_ms(g)
                if on >= self.permissive_wait_ms:
                    b = 1
                    self.blocked_at[g] = (d.clock_ms - on) & CLOCK_MASK
            elif self.queues.queued(g) <= 0 and loops.longest_on_ms(g) < self.permissive_wait_ms:
                b = 0  # its queue cleared in a permissive green
            if b != blocked[g]:
                blocked[g] = b
                moved = True
        return moved

    def _choose(self, current):
        # -> the stage to serve next or -1 (a group that has waited too long,
        # urgent_group, decides where it is served). Two small helpers: few
        # locals keep MicroPython's frames off the heap (see StampClock.advance).
        if self.ix.free_sequence or self.urgent_group >= 0:
            return self._highest_value(current)
        return self._next_in_sequence(current)

    def _highest_value(self, current):
        # the stage of highest value (the first of equals), not the current
        # one, serving the urgent group if there is one; -1: none has demand
        value = self.value
        urgent = self.urgent_group
        best = -1
        for s in range(len(value)):
            if (s != current and value[s] > (value[best] if best >= 0 else -1)
                    and (urgent < 0 or self.ix.stage_mask[s][urgent]) and not self._shows_blocked(s, urgent)):
                best = s
        return best

    def _shows_blocked(self, s, g):
        # stage s shows g permissive, and g is blocked: s would not serve it
        return g >= 0 and self.blocked is not None and self.blocked[g] and self.perm[s][g]

    def _next_in_sequence(self, current):
        # the next stage after current in the sequence with demand, or -1
        sequence = self.ix.sequence
        p = self.ix.sequence_position[current]
        for _ in range(len(sequence) - 1):
            p = p + 1 if p + 1 < len(sequence) else 0
            if self.value[sequence[p]] >= 0:
                return sequence[p]
        return -1

    def decide(self, ctl, elapsed_ms):
        ix = self.ix
        k = ctl.kernel
        queues = self.queues
        queues.update(elapsed_ms, k.state)
        s = k.stage
        if not k.established:
            self.max_timer_ms = 0
            return s
        # the current stage's permissive groups, if it shows a guarded one (else None)
        perm = self.perm[s] if self.perm is not None and self.live[s] else None
        d = ctl.demand
        if (self.wide or ctl.detectors.edges != self.seen_edges or k.version != self.seen_states
                or queues.version != self.seen_estimates or ctl.diagnostics.version != self.seen_faults
                or s != self.seen_stage or (d.clock_ms - self.seen_ms) & CLOCK_MASK >= self.quiet_ms):
            # something the values depend on may have moved (else they stand, see _stage_values)
            self._stage_values(ctl, perm)
            self.next_stage = self._choose(s)
        nxt = self.next_stage
        if nxt < 0:
            self.max_timer_ms = 0  # nobody else waits: rest in green
            return s
        t = self.max_timer_ms + elapsed_ms
        self.max_timer_ms = t if t < TIMER_MAX_MS else TIMER_MAX_MS
        state = k.state
        urgent = self.urgent_group >= 0
        cut = self.value[nxt] * self.gap_reduction_ms_per_veh
        extending = False
        maxed = True
        for g in ix.stage_groups[s]:
            if ix.is_pedestrian[g] or state[g] != GREEN:
                continue
            if (k.clock_ms - k.state_at[g]) & CLOCK_MASK < ix.min_green_ms[g]:  # k.state_ms(g)
                return s
            if ix.stage_mask[nxt][g] and not self.demoted(s, nxt, g):
                continue  # stays green in the next stage
            if perm is not None and perm[g] and self.guarded[g] and not self.permissive_wait_left_ms(g, d):
                continue  # waiting for a gap: does not hold the stage
            if self.max_timer_ms < ix.max_green_ms[g]:
                maxed = False
            if not extending:  # (one group extending is enough)
                passage = ix.passage_ms[g]
                loops = None  # its extension loops
                if queues.estimate[g] <= 0 or queues.queued(g) <= 0:
                    # queue cleared: only arrivals over the advance loops extend
                    reduced = passage - cut
                    passage = reduced if reduced > self.min_gap_ms else self.min_gap_ms
                    if queues.advance.usable[g]:
                        loops = queues.advance
                gap = self._gap_ms(g, loops, ctl)
                if gap < passage:
                    extending = True
            if extending and not maxed and not urgent:
                return s  # holds the stage, whatever the other groups
        if urgent:
            code = ev.PHASE_FORCE_OFF
        elif maxed:
            code = ev.PHASE_MAX_OUT
        elif not extending:
            code = ev.PHASE_GAP_OUT
        else:
            return s
        if perm is not None:  # choose again with the permissive queues counted whole
            self._stage_values(ctl, perm, True)
            if self.urgent_group < 0:
                self.urgent_group = self._left_blocked(s, d.clock_ms)
            alt = self._choose(s)
            if alt >= 0:
                nxt = alt
        log_green_end(ctl, s, nxt, code)
        self.max_timer_ms = 0
        return nxt
