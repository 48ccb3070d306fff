# The horizon: how long a controller can be stepped in one step, with the
# presence of its last tick held, and come out exactly as if stepped tick by
# tick: no decision, signal change or event falls inside that time. Units: ms;
# 0: step one tick; TIMER_MAX_MS: nothing due.
#
# Host use only: the SUMO runner (sim/loop_presence.py) asks
# Controller.horizon_ms() so that it can skip quiet ticks. Not on the board:
# nothing on the tick path imports this module and the firmware bundle leaves
# it out (firmware/host_build.py). It stays portable code all the same, since
# the core's unit tests run under MicroPython too.
#
# It is a second model of the rules, kept apart so that the rules read alone
# (safety/kernel.py, the detectors, the diagnostics, the strategies): it reads
# their public state and predicts when each would next act. The exact-stepping
# tests (tests/test_core_horizon.py, tests/sim/test_run_exact_stepping.py) are
# the contract between the two: a rule changed without its prediction here
# fails them.
from controller.detection.diagnostics import CHECK_PERIOD_MS, MINUTE_MS
from controller.intersection import RECALL_MAX
from controller.detection.queue_estimation import CROSSING_RING
from controller.safety.kernel import MODE_RUN
from controller.safety.signal_states import FLASHING_GREEN, GREEN, RED, RED_AMBER, YELLOW
from controller.strategies.actuated import ActuatedStrategy, next_stage_with_demand
from controller.strategies.adaptive import AdaptiveStrategy
from controller.strategies.fixed import FixedTimeStrategy
from controller.timing import CLOCK_MASK, TIMER_MAX_MS


def controller_horizon_ms(ctl):
    # The whole controller (Controller.horizon_ms): the least of its rooms'
    # horizons. A strategy without one (strategy_horizon) is always stepped
    # tick by tick.
    horizon = strategy_horizon(ctl.strategy)
    if horizon is None or not ctl.strategy_running or ctl.monitor.latched:
        return 0
    if ctl.priority is not None and ctl.priority.busy():
        return 0  # a priority request counted or served: tick by tick
    if ctl.demand.states_version != ctl.kernel.version:
        return 0  # a signal changed last tick: demand answers it in the next one (calls of groups leaving green)
    h = kernel_horizon_ms(ctl.kernel, ctl.demand.call)
    if h:
        for x in (detectors_horizon_ms(ctl.detectors), diagnostics_horizon_ms(ctl.diagnostics),
                  horizon(ctl.strategy, ctl)):
            if x < h:
                h = x
    return h if h > 0 else 0


# --- the safety kernel (safety/kernel.py) ---

def kernel_horizon_ms(kernel, calls):
    # How long the kernel can be stepped in one step without a state change
    # or an event falling inside it. On the way to a stage, the next change
    # of the transition; in a stage established for a tick or more, an
    # end-of-red-clearance event still due, and the walk of a pedestrian
    # group of the stage whose call (demand.call) waits for its intergreens
    # to run out.
    if kernel.mode != MODE_RUN:
        return 0
    if not kernel.established:
        return _transition_horizon_ms(kernel, calls)
    if kernel.stage_ms == 0:
        return 0
    ix = kernel.ix
    target = ix.stage_mask[kernel.stage]
    h = TIMER_MAX_MS
    for g in range(kernel.n):
        if kernel.red_clearance_open[g]:
            left = kernel.red_clearance_left_ms(g)
            if left < h:
                h = left if left > 0 else 0
        if target[g] and kernel.state[g] == RED and calls[g] and kernel.allow_late_start:
            entry = _entry_ms(kernel, g, target, False)
            if entry < h:
                h = entry
    return h


def _transition_horizon_ms(kernel, calls):
    # On the way to a stage: the time until the kernel's _run() next changes
    # a state, ends a red clearance or establishes the stage (0 when it may
    # do so at the next tick), whichever comes first.
    ix = kernel.ix
    target = ix.stage_mask[kernel.stage]
    state = kernel.state
    h = TIMER_MAX_MS
    waiting = False  # something still holds the stage from being established
    for g in range(kernel.n):
        st = state[g]
        if st == GREEN:
            if kernel.leaving(g, target):
                waiting = True
                left = ix.min_green_ms[g] - kernel.state_ms(g)
                if left <= 0 and _waits_for_partner(kernel, g, target):
                    continue  # ends with a partner, whose min green counts
                if left < h:
                    h = left
        elif st == YELLOW:
            waiting = True
            left = ix.clearance_ms[g] - kernel.state_ms(g)
            if left < h:
                h = left
        elif st == FLASHING_GREEN:
            # the full flashing green, then yellow (kernel rule 12)
            waiting = True
            left = ix.red_amber_ms[kernel.n + g] - kernel.state_ms(g)
            if left < h:
                h = left
        elif st == RED_AMBER:
            # the full red-amber, and its partners' clearances over (kernel rule 11);
            # its own red clearance may still end meanwhile (red revert < red clearance)
            waiting = True
            left = _partners_left_ms(kernel, g, target, ix.red_amber_ms[g] - kernel.state_ms(g))
            if left < h:
                h = left
            if kernel.red_clearance_open[g]:
                left = kernel.red_clearance_left_ms(g)
                if left < h:
                    h = left
        else:
            if kernel.red_clearance_open[g]:
                left = kernel.red_clearance_left_ms(g)
                if left < h:
                    h = left
            if target[g] and (calls[g] or not ix.is_pedestrian[g]):
                waiting = True
                entry = _entry_ms(kernel, g, target, True)
                if entry < h:
                    h = entry
    if not waiting:
        return 0
    return h if h > 0 else 0


def _waits_for_partner(kernel, g, target):
    # green group g, leaving with its min green held, still waits (rule 5)
    # for a yielding partner that leaves too but holds its own min green
    for x in kernel.ix.partners[g]:
        if kernel.state[x] == GREEN and kernel.leaving(x, target) and kernel.state_ms(x) < kernel.ix.min_green_ms[x]:
            return True
    return False


def _entry_ms(kernel, g, target, transition):
    # until red group g may enter (the kernel's _clear_to_enter): its red
    # revert, the conflicting groups' intergreens (less its red-amber, rule
    # 11) and red clearances, its
    # partners' red clearances; on the way to a stage (transition),
    # TIMER_MAX_MS while one is not red yet: its own change comes first
    ix = kernel.ix
    n = kernel.n
    entry = _partners_left_ms(kernel, g, target, ix.red_revert_ms[g] - kernel.state_ms(g))
    if entry == TIMER_MAX_MS:
        return entry
    for c in ix.conflicts[g]:
        if transition and kernel.state[c] != RED:
            return TIMER_MAX_MS
        left = ix.intergreen_ms[c * n + g] - ix.red_amber_ms[g] - kernel.since_green_end_ms(c)
        if left > entry:
            entry = left
        left = ix.red_clearance_ms[c] - kernel.state_ms(c)
        if left > entry:
            entry = left
    return entry if entry > 0 else 0


def _partners_left_ms(kernel, g, target, left):
    # the later of left and the end of the red clearances of g's partners
    # (the kernel's _partners_clear); TIMER_MAX_MS while one is in its
    # clearance or leaving green: its own change comes first
    ix = kernel.ix
    for x in ix.partners[g]:
        st = kernel.state[x]
        if st == RED:
            x_left = ix.red_clearance_ms[x] - kernel.state_ms(x)
            if x_left > left:
                left = x_left
        elif st == YELLOW or st == FLASHING_GREEN or (st == GREEN and kernel.leaving(x, target)):
            return TIMER_MAX_MS
    return left if left > 0 else 0


# --- detectors and their diagnostics (detection/detectors.py, detection/diagnostics.py) ---

def detectors_horizon_ms(det):
    # time until the current occupancy window closes
    return det.ix.occupancy_window_ms - det.window_ms


def diagnostics_horizon_ms(diag):
    # Time until just before the next check that passes over the loops
    # (with the presence of the last tick held): the check's own tick is
    # stepped alone, since a fault found there puts a group on recall,
    # and a timer that starts with it must not be credited a whole merged
    # step. Checks that skip their pass change nothing and are stepped
    # through (the presence held, no loop changes): those before the
    # quiet margin runs out, and never past a minute's end.
    a = CHECK_PERIOD_MS - diag.since_check_ms
    b = MINUTE_MS - diag.minute_ms
    if b <= a:
        return b - 1
    left = diag.quiet_left_ms()
    if left > a:
        return (left if left < b else b) - 1
    return a - 1


# --- loop summaries, blocked exits and queue estimates (detection/loop_groups.py,
# detection/exit_blocking.py, detection/queue_estimation.py) ---

def gap_left_ms(loops, g, limit):
    # until loops.gap_ms(g) (a LoopGroups) reaches limit with the presence
    # held: 0 if it has, TIMER_MAX_MS if it cannot (a loop occupied, or none
    # has gone free yet, so the gap does not grow)
    left = limit - loops.gap_ms(g)
    if left <= 0:
        return 0
    return TIMER_MAX_MS if loops.occupied[g] or loops.latest_off[g] < 0 else left


def open_gap_left_ms(exits, g, loops, passage, ctl):
    # until exits.open_gap_ms (an ExitBlocking, detection/exit_blocking.py: g's gap over
    # the loops on lanes that are not blocked) reaches passage, the presence
    # held: TIMER_MAX_MS while an open loop is occupied (the gap stays 0)
    gap = exits.open_gap_ms(g, loops, ctl)
    if gap >= passage:
        return 0
    return TIMER_MAX_MS if gap == 0 else passage - gap


def transit_left_ms(queues, g):
    # until the next vehicle in transit reaches the queue (the oldest crossing
    # still under the travel time), TIMER_MAX_MS if none
    n = queues.in_transit(g)
    if not n:
        return TIMER_MAX_MS
    r = queues.crossed_next[g] - n
    if r < 0:
        r += CROSSING_RING
    return queues.travel_ms[g] - ((queues.clock_ms - queues.crossed_at[g * CROSSING_RING + r]) & CLOCK_MASK)


def queue_horizon_ms(queues, states, reds=True, greens=True, keep=None):
    # How long QueueEstimator.update() can be stepped in one step, with every
    # loop's presence and the signal states as in the last update, and leave
    # the counts and estimates as tick by tick would, none of them changing
    # inside that time: the next departure assumed at the saturation headway,
    # the loops showing that a green's queue has cleared, a spillback's
    # estimate growing, and the no-advance fallback counting one more
    # arrival. A step that ends exactly there is exact too (what falls due
    # happens at its end, as on that tick). TIMER_MAX_MS: nothing due.
    # reds, greens: does the caller read the estimates of groups that are
    # not green, of green groups, before the horizon ends? Those it does
    # not read may change inside it: update() works them out from the
    # loops and the time alone, so one step comes to the same estimates.
    # Groups in keep (0/1 per group, or None) count whatever the flags, and
    # so does a green group without a usable stop-bar loop: a queue seen
    # cleared while its assumed departures run leaves their clock behind,
    # which only the next tick clears.
    ix = queues.ix
    det = queues.det
    adv = queues.advance
    stop = queues.stop
    headway = queues.saturation_headway_ms
    h = TIMER_MAX_MS
    for g in queues.vehicle_groups:
        green = states[g] == GREEN
        if keep is None or not keep[g]:
            if green:
                if not greens and stop.usable[g]:
                    continue
            elif not reds:
                continue
        if green and queues.between[g] > 0:
            if not stop.usable[g]:
                left = headway - queues.discharge_ms[g]  # the next assumed departure
                if left < h:
                    h = left
            if not adv.occupied[g]:
                # cleared once both gaps reach their limits (each grows while its loops stay free)
                left = gap_left_ms(adv, g, queues.travel_ms[g])
                x = gap_left_ms(stop, g, ix.passage_ms[g])
                if x > left:
                    left = x
                if left < h:
                    h = left
        elif not green and not adv.usable[g] and stop.usable[g] and stop.occupied[g]:
            # no advance loop: the standing queue grows with the arrival rate per window
            r = queues.red_ms[g]
            window = ix.occupancy_window_ms
            for d in queues.stop_loops[g]:
                c = det.flow_count[d]
                if c:
                    left = ((c * r // window + 1) * window + c - 1) // c - r
                    if left < h:
                        h = left
        d = adv.first_on[g]
        if d >= 0:
            # spilled back: the estimate grows at spill_ms and every saturation headway after
            spill = (det.clock_ms - det.changed_at[d]) & CLOCK_MASK
            left = queues.spill_ms - spill if spill < queues.spill_ms else headway - spill % headway
            if left < h:
                h = left
    return h


# --- the strategies: one horizon function each, by strategy class ---

def fixed_horizon_ms(strategy, ctl):
    # Time until the cycle position reaches the next point where the fixed-time
    # decide() may answer differently (a request point, the end of a late-walk
    # window, or the cycle's end, where a window that wraps allows late walk
    # again).
    cycle = strategy.cycle_ms
    if not cycle:
        return TIMER_MAX_MS
    c = strategy.cycle_pos_ms
    h = cycle - c if c else cycle
    for q in range(len(strategy.request_at)):
        for at in (strategy.request_at[q], strategy.late_walk_until[q] + 1):
            left = (at - c) % cycle
            if 0 < left < h:
                h = left
    return h


def actuated_horizon_ms(strategy, ctl):
    # How long the actuated decide() keeps the current stage if presence stays
    # as it is: the time until every vehicle group of the stage is done (min
    # green held, and maxed out or gapped out), exactly.
    ix = strategy.ix
    kernel = ctl.kernel
    if not kernel.established:
        return TIMER_MAX_MS  # decide() only waits for the kernel; its horizon bounds this
    demand = ctl.demand
    s = kernel.stage
    if next_stage_with_demand(ix, kernel.state, demand, s) < 0:
        return TIMER_MAX_MS  # rests in green until a call, which only a loop edge brings
    done = 0
    for g in ix.stage_groups[s]:
        if ix.is_pedestrian[g] or kernel.state[g] != GREEN:
            continue
        left = ix.max_green_ms[g] - strategy.max_timer_ms
        gap_left = ix.passage_ms[g] - demand.gap_ms(g)
        # gapped out already (a passage time of 0 even on max recall), or
        # the gap grows while its loops stay free
        if gap_left <= 0 or (demand.recall[g] != RECALL_MAX and not demand.extending.occupied[g]):
            if gap_left < left:
                left = gap_left
        min_left = ix.min_green_ms[g] - kernel.state_ms(g)
        if min_left > left:
            left = min_left
        if left > done:
            done = left
    return done


def adaptive_horizon_ms(strategy, ctl):
    # How long the adaptive decide() keeps the current stage and every queue
    # estimate stays as it is, with the loops' presence held, so that one
    # step of that length leaves the strategy as tick by tick would. Bounded
    # by the queue estimator's next change and, in an established stage, by
    # the next change of a stage's value (a call's age reaching its next
    # age_weight_ms or its wait bound, a permissive green starting to wait
    # for a gap) and by the moment the green would end: every min green
    # held, and then all groups that hold the stage maxed out, or none
    # extending any more. The decision reads the values and the next stage
    # of the last tick (decide() ran at this same time, the stage established).
    kernel = ctl.kernel
    queues = strategy.queues
    state = kernel.state
    keep = None
    if strategy.stage_permissive is not None:
        keep = strategy.protected_permissive  # their queues count for protected stages
    if not kernel.established:
        # decide() only waits for the kernel (its horizon bounds this) and
        # reads no estimate: the first decision in the stage works all out
        return queue_horizon_ms(queues, state, False, False, keep)
    ix = strategy.ix
    demand = ctl.demand
    s = kernel.stage
    permissive_now = None
    if strategy.stage_permissive is not None and strategy.shows_permissive_turn[s]:
        permissive_now = strategy.stage_permissive[s]
    # the values: decide() summed them, or found that nothing had moved, at this same time
    h = strategy.quiet_ms - ((demand.clock_ms - strategy.seen_ms) & CLOCK_MASK)
    nxt = strategy.next_stage
    if nxt < 0:
        # rests in green: only a change of the values moves it, which the
        # estimates of green groups (weight 0) do not make. One ms short
        # of that change: the max timer starts in the decision that sees
        # demand, with that step's elapsed time, so the step in which it
        # appears must be the tick it appears in, not the whole rest.
        left = queue_horizon_ms(queues, state, True, False, keep)
        return (h if h < left else left) - 1
    done = 0
    for g in ix.stage_groups[s]:
        if not ix.is_pedestrian[g] and state[g] == GREEN:
            left = ix.min_green_ms[g] - kernel.state_ms(g)
            if left > done:
                done = left
    if done > 0:
        # held by min green: the values are worked out again when it ends,
        # and until then they only grow (the estimates of groups that are
        # not green grow with time alone), so another stage keeps demand
        left = queue_horizon_ms(queues, state, False, False, keep)
        if left < h:
            h = left
        return h if h < done else done
    left = queue_horizon_ms(queues, state)
    if left < h:
        h = left
    # every min green held and the stage kept: no wait bound reached, and
    # some group that holds it neither maxed out nor done extending
    cut = strategy.value[nxt] * strategy.gap_reduction_ms_per_veh
    maxed = 0
    exits = strategy.exits
    for g in ix.stage_groups[s]:
        if ix.is_pedestrian[g] or state[g] != GREEN or (ix.stage_mask[nxt][g] and not strategy.demoted(s, nxt, g)):
            continue
        if (permissive_now is not None and permissive_now[g] and strategy.protected_permissive[g]
                and not strategy.permissive_wait_left_ms(g, demand)):
            continue
        left = ix.max_green_ms[g] - strategy.max_timer_ms
        if left > maxed:
            maxed = left
        passage = ix.passage_ms[g]
        loops = demand.extending
        if demand.recall[g] == RECALL_MAX:
            loops = None  # its gap stays 0
        if queues.queued(g) <= 0:
            reduced = passage - cut
            passage = reduced if reduced > strategy.min_gap_ms else strategy.min_gap_ms
            if queues.advance.usable[g]:
                loops = queues.advance
            if queues.estimate[g] > 0:
                left = transit_left_ms(queues, g)  # a vehicle in transit joins the queue
                if left < h:
                    h = left
        if loops is None:
            left = TIMER_MAX_MS if passage > 0 else 0
        elif exits is not None and exits.any_blocked(g, loops, ctl):
            left = open_gap_left_ms(exits, g, loops, passage, ctl)
        else:
            left = gap_left_ms(loops, g, passage)
        if left > done:
            done = left
    if maxed < done:
        done = maxed
    return h if h < done else done


# The coordinated strategy has none: plans and reports pass between ticks,
# which a runner holding time back would skew. Nor has any other strategy.
_STRATEGY_HORIZONS = {
    FixedTimeStrategy: fixed_horizon_ms,
    ActuatedStrategy: actuated_horizon_ms,
    AdaptiveStrategy: adaptive_horizon_ms,
}


def strategy_horizon(strategy):
    # The horizon function of a strategy, f(strategy, ctl) -> ms, or None:
    # the controller is then stepped tick by tick.
    return _STRATEGY_HORIZONS.get(type(strategy))
