# Adaptive strategy: serves stages by estimated queues from loop detectors
# (detection/queue_estimation.py) instead of by calls alone. Runs on the board;
# decide() allocates nothing and uses integer arithmetic only. Units: ms,
# vehicles. Parameters: the config's "adaptive" block (config_schema.ADAPTIVE).
#
# Every tick, once the current stage is established and its min greens held
# (the rules numbered as in docs/adaptive.md, "How it decides"; the code
# marks where each is applied with "rule N"):
#  - rule 1: the competing stage is chosen (fixed sequence: the next one in order with
#    demand, skipping the others; free sequence: the one with the highest
#    value); a stage's value is the vehicles estimated waiting in its groups
#    that are not green yet, plus one per call, plus one vehicle-equivalent for
#    each age_weight_ms its oldest call has waited;
#  - rule 2: a leaving group whose counted queue (vehicles between the loops that are
#    not just travelling to the stop line) has not cleared keeps its full
#    passage time: a discharging queue is served to the end, since cutting it
#    costs a second intergreen and a cycle of waiting for those left behind;
#  - once its queue has cleared, the group only serves arrivals (the gap is
#    taken on its advance loops, where they work), and its passage time
#    shrinks by gap_reduction_ms_per_veh for every vehicle-equivalent of the
#    competing stage, down to min_gap_ms
#    (volume-density gap reduction driven by estimated queues);
#  - rule 3: green ends on gap-out (event 4), max-out (event 5; the max timer runs
#    from the moment another stage has demand), or when a wait bound forces it
#    (event 6): no group with demand waits longer than its max_wait_ms.
#  - rule 4, protected/permissive turns (a group a stage shows permissive, yielding to
#    a conflicting movement of that stage, that another stage protects): while
#    it waits on its loop for a gap (on for permissive_wait_ms) it does not
#    hold the permissive stage, and its queue counts for its protected stages; when the
#    permissive stage ends, the next stage is chosen with its whole queue
#    counted for them. So a protected turn runs when its queue is worth it, not
#    only when the permissive stage has not been chosen.
#  - rule 5, blocked turns in a pocket (such a group whose extension loops all lie in a
#    turn pocket): once it has waited permissive_wait_ms it is blocked until a
#    green serves it (protected, or permissive with its queue cleared);
#    meanwhile its wait ages on from its loop's on-time, through green and red,
#    for the age weight and for max_wait_ms (whose force-off goes to a stage
#    that protects it), it counts for no stage that shows it permissive, still
#    queued as its permissive stage ends (blocked an age_weight_ms) it gets its
#    protected stage next, and its protected green holds its stage though the
#    next shows it permissive.
#    Not on a shared lane: a protected-turn stage cannot move a through vehicle
#    at its head.
#  - rule 6, blocked exits: a lane whose exit loops (loops just past the junction on
#    the lanes it leads onto, named in its loops' "exits") are all working and
#    occupied for exit_blocked_ms is blocked: its vehicles cannot leave. Its
#    loops extend no green, and a waiting group whose lanes are all blocked
#    has its estimate counted for no stage (its call and its wait's age still
#    count, so it is served in time).
# Cycle and splits follow from these rules: a stage's green grows with its
# queue and shrinks when others' queues grow, so the cycle stretches under
# heavy demand and shortens under light demand.
from array import array

from controller.events import codes as ev
from controller.detection.exit_blocking import ExitBlocking
from controller.intersection import RECALL_MAX
from controller.detection.queue_estimation import QueueEstimator
from controller.safety.signal_states import GREEN
from controller.strategies.registry import log_green_end
from controller.timing import CLOCK_MASK, TIMER_MAX_MS


def _param(raw, name):
    # the config's "adaptive" block, defaults filled in at load (config/defaults.py)
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
        # rule 4, protected/permissive turns: protected_permissive[g] = 1 where a stage
        # shows g permissive and another protects it; shows_permissive_turn[s] = 1
        # where stage s shows such a group permissive; stage_permissive: the
        # intersection's (ix.stage_permissive), None where no stage shows one
        self.stage_permissive = None
        self.permissive_counted_whole = False  # the values were last summed with permissive queues counted whole
        self.held_queue = None  # per group: the queue a waiting permissive green holds for its protected stages
        # rule 5: blocked[g] = 1 from the moment pocket turn g's permissive green is seen waiting
        # for a gap until a green serves it; blocked_at[g]: its loop's on-time then (a stamp on
        # demand's clock)
        self.blocked = None
        self.blocked_at = None
        stage_permissive = ix.stage_permissive
        if stage_permissive is not None:
            n_stages = ix.n_stages
            protected_permissive = bytearray(ix.n_groups)
            for g in range(ix.n_groups):
                if (any(stage_permissive[t][g] for t in range(n_stages))
                        and any(ix.stage_mask[t][g] and not stage_permissive[t][g] for t in range(n_stages))):
                    protected_permissive[g] = 1
            shows_permissive_turn = bytearray(
                1 if any(stage_permissive[t][g] and protected_permissive[g] for g in range(ix.n_groups)) else 0
                for t in range(n_stages))
            if any(shows_permissive_turn):
                self.stage_permissive = stage_permissive
                self.protected_permissive = protected_permissive
                self.shows_permissive_turn = shows_permissive_turn
                self.held_queue = array("i", [0] * ix.n_groups)
                self.blocked = bytearray(ix.n_groups)
                self.blocked_at = array("i", [0] * ix.n_groups)
                # only turn pockets: a protected green clears a lane of turners, but not a shared
                # lane whose head vehicle goes straight on (cologne3: such lanes' protected-left
                # stages, run for their wait, held towards max green by the through queue)
                self.pocket_turns = tuple(
                    g for g in range(ix.n_groups) if protected_permissive[g] and self._in_turn_pocket(g))
                self.is_pocket_turn = bytearray(1 if g in self.pocket_turns else 0 for g in range(ix.n_groups))

    def _in_turn_pocket(self, g):
        # every loop that extends g lies in a turn pocket (config: the detector's turn_pocket)
        dets = self.ix.raw["detectors"]
        loops = [i for i in self.ix.group_detectors[g] if self.ix.detector_extend[i]]
        return bool(loops) and all(dets[i].get("turn_pocket") for i in loops)

    def start(self, ctl):
        # (Re)start: nothing counted before a flash, a reset or a safe ending is
        # kept, since the loops went on changing while no decision was made.
        if self.queues is None:
            self.queues = QueueEstimator(
                self.ix, ctl.detectors, ctl.diagnostics, self.spill_ms, self.saturation_headway_ms)
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
        self.permissive_counted_whole = False
        for g in range(self.ix.n_groups):
            self.weight[g] = -1
            if self.held_queue is not None:
                self.held_queue[g] = 0
                self.blocked[g] = 0

    def _gap_ms(self, g, loops, ctl):
        # rules 2 and 6: the gap that extends green g: on `loops` (None: its extension loops, 0 on max
        # recall); where loops name exits, those on blocked lanes do not count
        if loops is None:
            demand = ctl.demand
            if demand.recall[g] == RECALL_MAX:
                return 0
            loops = demand.extending
        if self.exits is not None and self.exits.any_blocked(g, loops, ctl):
            return self.exits.open_gap_ms(g, loops, ctl)
        return loops.gap_ms(g)

    def demoted(self, s, nxt, g):
        # rule 5: s protects pocket turn g, which nxt shows only permissive: its queue still holds s
        return (self.stage_permissive is not None and self.is_pocket_turn[g]
                and self.stage_permissive[nxt][g] and not self.stage_permissive[s][g])

    def _left_blocked(self, s, clock):
        # rule 5 -> a pocket turn that stage s shows permissive, blocked for an age_weight_ms or
        # more and still queued as s ends, or -1: its protected stage comes next (it stays
        # green into it, no intergreen lost; served later its vehicles wait a whole cycle
        # more). Blocked for less, it waits its turn (gen03 at 1.3x: +1.7 % against +2.0 %).
        for g in self.pocket_turns:
            if (self.stage_permissive[s][g] and self.blocked[g] and self.queues.queued(g) > 0
                    and (clock - self.blocked_at[g]) & CLOCK_MASK >= self.age_weight_ms):
                return g
        return -1

    def permissive_wait_left_ms(self, g, demand):
        # rule 4: until permissive green g waits for a gap (its loop on for
        # permissive_wait_ms: blocked behind the traffic it yields to); 0: it
        # waits now, TIMER_MAX_MS: its loops are free
        if demand.extending.first_on[g] < 0:
            return TIMER_MAX_MS
        left = self.permissive_wait_ms - demand.extending.longest_on_ms(g)
        return left if left > 0 else 0

    def _stage_values(self, ctl, permissive_now, counted_whole=False):
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
        kernel = ctl.kernel
        demand = ctl.demand
        clock = demand.clock_ms
        current = kernel.stage
        self.seen_edges = ctl.detectors.edges
        self.seen_states = kernel.version
        self.seen_estimates = self.queues.version
        self.seen_faults = ctl.diagnostics.version
        self.seen_stage = current
        self.seen_ms = clock
        state = kernel.state
        estimate = self.queues.estimate
        call = demand.call
        call_at = demand.call_at
        wait = self.max_wait_ms
        weight = self.weight
        age_weight = self.age_weight_ms
        urgent = -1
        oldest = -1
        quiet = TIMER_MAX_MS
        changed = counted_whole != self.permissive_counted_whole  # after a sum counted whole, sum again
        held_queue = self.held_queue
        blocked = self.blocked
        if blocked is not None and self._track_blocked(kernel, demand):
            changed = True  # the stages that show a blocked group permissive count it no more
        exits = self.exits
        if exits is not None:
            quiet = exits.quiet_ms(ctl.detectors)
        for g in range(self.ix.n_groups):
            waiting = holding = 0
            age = -1  # the age of the wait that weighs for g, if any
            holds = False  # g a permissive green that waits: its queue (holding) is held for its protected stages
            if state[g] != GREEN:
                if exits is None or not exits.queue_blocked(g, ctl):  # rule 6: a queue that cannot leave counts not
                    waiting = estimate[g]
                if call[g]:
                    age = (clock - call_at[g]) & CLOCK_MASK
                    if blocked is not None and blocked[g]:
                        blocked_age = (clock - self.blocked_at[g]) & CLOCK_MASK
                        if blocked_age > age:
                            age = blocked_age  # its wait began in its last permissive green
            elif permissive_now is not None and permissive_now[g] and self.protected_permissive[g]:
                # rule 4: a permissive green waiting for a gap holds its queue for its protected stages
                holds = True
                if counted_whole:
                    holding = estimate[g] if self.queues.queued(g) > 0 else 0
                else:
                    left = self.permissive_wait_left_ms(g, demand)
                    holding = 0 if left else estimate[g]
                    if 0 < left < quiet:
                        quiet = left
                if holding and blocked[g]:
                    # and its wait, which goes on ageing while it is blocked
                    age = (clock - self.blocked_at[g]) & CLOCK_MASK
            if age >= 0:
                # rule 1: one vehicle-equivalent per call and per age_weight_ms waited; a wait
                # past max_wait_ms makes g urgent (the oldest such decides)
                age_steps = age // age_weight
                left = (age_steps + 1) * age_weight - age
                if left < quiet:
                    quiet = left
                left = wait[g] - age
                if left > 0:
                    if left < quiet:
                        quiet = left
                elif age > oldest:
                    oldest = age
                    urgent = g
                if holds:
                    holding += 1 + age_steps
                else:
                    waiting += 1 + age_steps
            if holds and holding != held_queue[g]:
                held_queue[g] = holding
                changed = True
            if waiting != weight[g]:
                weight[g] = waiting
                changed = True
        self.urgent_group = urgent
        self.quiet_ms = quiet
        if not changed:
            return  # no weight moved: every stage keeps its value
        self.permissive_counted_whole = counted_whole
        value = self.value
        stage_groups = self.ix.stage_groups
        for s in range(self.ix.n_stages):
            stage_value = -1
            for g in stage_groups[s]:
                group_weight = weight[g]
                if (permissive_now is not None and permissive_now[g] and state[g] == GREEN and s != current
                        and not self.stage_permissive[s][g]):
                    group_weight = held_queue[g]  # rule 4: s protects g
                elif blocked is not None and blocked[g] and self.stage_permissive[s][g]:
                    continue  # rule 5: s shows g permissive, and that green left it blocked: s would not serve it
                if group_weight > 0:
                    stage_value = group_weight if stage_value < 0 else stage_value + group_weight
            value[s] = stage_value

    def _track_blocked(self, kernel, demand):
        # Rule 5: a pocket turn whose permissive green has had its loop on for permissive_wait_ms
        # waits for a gap that may not come: from then on it is blocked, its wait counted
        # from its loop's on-time, until a green serves it: a protected one, or a permissive
        # one in which its queue clears. Moves only with a loop edge, an estimate, a signal
        # state or a permissive wait reached, each of which makes _stage_values run.
        state = kernel.state
        permissive_now = self.stage_permissive[kernel.stage]
        blocked = self.blocked
        loops = demand.extending
        moved = False
        for g in self.pocket_turns:
            if state[g] != GREEN:
                continue
            is_blocked = blocked[g]
            if not permissive_now[g]:
                is_blocked = 0  # protected
            elif not is_blocked:
                on = loops.longest_on_ms(g)
                if on >= self.permissive_wait_ms:
                    is_blocked = 1
                    self.blocked_at[g] = (demand.clock_ms - on) & CLOCK_MASK
            elif self.queues.queued(g) <= 0 and loops.longest_on_ms(g) < self.permissive_wait_ms:
                is_blocked = 0  # its queue cleared in a permissive green
            if is_blocked != blocked[g]:
                blocked[g] = is_blocked
                moved = True
        return moved

    def _choose(self, current):
        # rule 1 -> the stage to serve next or -1 (a group that has waited too long,
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
        return g >= 0 and self.blocked is not None and self.blocked[g] and self.stage_permissive[s][g]

    def _next_in_sequence(self, current):
        # the next stage after current in the sequence with demand, or -1
        sequence = self.ix.sequence
        position = self.ix.sequence_position[current]
        for _ in range(len(sequence) - 1):
            position = position + 1 if position + 1 < len(sequence) else 0
            if self.value[sequence[position]] >= 0:
                return sequence[position]
        return -1

    def decide(self, ctl, elapsed_ms):
        ix = self.ix
        kernel = ctl.kernel
        queues = self.queues
        queues.update(elapsed_ms, kernel.state)
        s = kernel.stage
        if not kernel.established:
            self.max_timer_ms = 0
            return s
        # the current stage's permissive groups, if it shows a protected/permissive turn (else None)
        permissive_now = None
        if self.stage_permissive is not None and self.shows_permissive_turn[s]:
            permissive_now = self.stage_permissive[s]
        demand = ctl.demand
        if (self.permissive_counted_whole or ctl.detectors.edges != self.seen_edges
                or kernel.version != self.seen_states or queues.version != self.seen_estimates
                or ctl.diagnostics.version != self.seen_faults
                or s != self.seen_stage or (demand.clock_ms - self.seen_ms) & CLOCK_MASK >= self.quiet_ms):
            # something the values depend on may have moved (else they stand, see _stage_values)
            self._stage_values(ctl, permissive_now)
            self.next_stage = self._choose(s)
        nxt = self.next_stage
        if nxt < 0:
            self.max_timer_ms = 0  # nobody else waits: rest in green
            return s
        max_timer = self.max_timer_ms + elapsed_ms  # rule 3: runs from the moment another stage has demand
        self.max_timer_ms = max_timer if max_timer < TIMER_MAX_MS else TIMER_MAX_MS
        state = kernel.state
        urgent = self.urgent_group >= 0
        cut = self.value[nxt] * self.gap_reduction_ms_per_veh
        extending = False
        maxed = True
        for g in ix.stage_groups[s]:
            if ix.is_pedestrian[g] or state[g] != GREEN:
                continue
            if (kernel.clock_ms - kernel.state_at[g]) & CLOCK_MASK < ix.min_green_ms[g]:  # kernel.state_ms(g)
                return s
            if ix.stage_mask[nxt][g] and not self.demoted(s, nxt, g):
                continue  # stays green in the next stage
            if (permissive_now is not None and permissive_now[g] and self.protected_permissive[g]
                    and not self.permissive_wait_left_ms(g, demand)):
                continue  # rule 4: waiting for a gap, it does not hold the stage
            if self.max_timer_ms < ix.max_green_ms[g]:
                maxed = False
            if not extending:  # rule 2 (one group extending is enough)
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
        # rule 3: green ends on a wait bound, max-out or gap-out
        if urgent:
            code = ev.PHASE_FORCE_OFF
        elif maxed:
            code = ev.PHASE_MAX_OUT
        elif not extending:
            code = ev.PHASE_GAP_OUT
        else:
            return s
        if permissive_now is not None:  # rule 4: choose again with the permissive queues counted whole
            self._stage_values(ctl, permissive_now, True)
            if self.urgent_group < 0:  # rule 5
                self.urgent_group = self._left_blocked(s, demand.clock_ms)
            alt = self._choose(s)
            if alt >= 0:
                nxt = alt
        log_green_end(ctl, s, nxt, code)
        self.max_timer_ms = 0
        return nxt
