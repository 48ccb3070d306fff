# Fully actuated strategy: green extended by the passage (gap) time, ended by
# gap-out or max-out, stages without demand skipped, recalls and pedestrian
# calls served. Runs on the board; decide() allocates nothing. Units: ms.
#
# A stage is left when another stage has demand and every vehicle group of
# the stage is done: its min green held and either its gap since the last
# actuation reached the passage time (gap-out) or the max timer reached its
# max green (max-out). The max timer runs from the moment another stage has
# demand, as in NEMA practice. Next stage: in fixed-sequence mode the next one
# in the order with demand; in free mode the one holding the longest-waiting
# call (so nobody starves), preferring the stage that serves most calls.
from controller.events import codes as ev
from controller.safety.signal_states import GREEN
from controller.strategies.registry import log_green_end
from controller.timing import CLOCK_MASK, TIMER_MAX_MS


def next_stage_with_demand(ix, states, demand, current):
    # Stage to serve after `current`, or -1 when no other stage has demand.
    # Shared by the demand-responsive strategies.
    calls = demand.call
    if ix.free_sequence:
        clock = demand.clock_ms
        call_at = demand.call_at
        oldest = -1
        best = -1
        best_served = 0
        for s in range(ix.n_stages):
            if s == current:
                continue
            age = -1
            served = 0
            for g in ix.stage_groups[s]:
                if calls[g] and states[g] != GREEN:
                    served += 1
                    a = (clock - call_at[g]) & CLOCK_MASK
                    if a > age:
                        age = a
            if served and (age > oldest or (age == oldest and served > best_served)):
                oldest = age
                best = s
                best_served = served
        return best
    k = len(ix.sequence)
    pos = ix.sequence_position[current]
    for step in range(1, k):
        p = pos + step
        if p >= k:
            p -= k
        s = ix.sequence[p]
        for g in ix.stage_groups[s]:
            if calls[g] and states[g] != GREEN:
                return s
    return -1


class ActuatedStrategy:
    name = "actuated"

    def __init__(self, ix):
        self.ix = ix
        self.max_timer_ms = 0

    def start(self, ctl):
        self.max_timer_ms = 0

    def decide(self, ctl, elapsed_ms):
        ix = self.ix
        kernel = ctl.kernel
        s = kernel.stage
        if not kernel.established:
            self.max_timer_ms = 0
            return s
        demand = ctl.demand
        nxt = next_stage_with_demand(ix, kernel.state, demand, s)
        if nxt < 0:
            self.max_timer_ms = 0  # rest in green: nobody else is waiting
            return s
        t = self.max_timer_ms + elapsed_ms
        self.max_timer_ms = t if t < TIMER_MAX_MS else TIMER_MAX_MS
        maxed = False
        for g in ix.stage_groups[s]:
            if ix.is_pedestrian[g] or kernel.state[g] != GREEN:
                continue
            if kernel.state_ms(g) < ix.min_green_ms[g]:
                return s
            if self.max_timer_ms >= ix.max_green_ms[g]:
                maxed = True
            elif demand.gap_ms(g) < ix.passage_ms[g]:
                return s  # still extending
        # every vehicle group is done: terminate and say why
        log_green_end(ctl, s, nxt, ev.PHASE_MAX_OUT if maxed else ev.PHASE_GAP_OUT)
        self.max_timer_ms = 0
        return nxt
