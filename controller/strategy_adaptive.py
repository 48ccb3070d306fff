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
# Cycle and splits follow from these rules: a stage's green grows with its
# queue and shrinks when others' queues grow, so the cycle stretches under
# heavy demand and shortens under light demand.
from array import array

from controller import event_codes as ev
from controller.compat import CLOCK_MASK, TIMER_MAX_MS
from controller.queue_estimation import QueueEstimator
from controller.signal_states import GREEN
from controller.strategies import log_green_end


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
        default_wait = _param(raw, "max_wait_ms")
        self.max_wait_ms = array("i", [ix.max_wait_ms[g] or default_wait for g in range(ix.n_groups)])
        self.queues = None
        self.max_timer_ms = 0
        self.urgent = False
        self.value = array("i", [0] * ix.n_stages)
        self.weight = array("i", [-1] * ix.n_groups)  # -1: not yet weighed, so the first tick sums
        self.urgent_group = -1
        # protected/permissive turns: guarded[g] = 1 where a stage shows g permissive and another protects it;
        # live[s] = 1 where stage s shows a guarded group permissive (ix.stage_permissive; None: none anywhere)
        self.perm = None
        self.wide = False  # the values were last summed with permissive queues counted whole
        self.held = None  # per group: the queue a waiting permissive green holds for its protected stages
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

    def start(self, ctl):
        # (Re)start: nothing counted before a flash, a reset or a safe ending is
        # kept, since the loops went on changing while no decision was made.
        if self.queues is None:
            self.queues = QueueEstimator(self.ix, ctl.detectors, ctl.diagnostics, self.spill_ms, self.saturation_headway_ms)
        else:
            self.queues.reset()
        self.max_timer_ms = 0
        self.urgent = False
        self.urgent_group = -1
        self.wide = False
        for g in range(self.ix.n_groups):
            self.weight[g] = -1
            if self.held is not None:
                self.held[g] = 0

    def _waiting_permissive(self, g, d, wide):
        # a permissive green g still waits: its loop on for permissive_wait_ms (blocked,
        # waiting for a gap); wide: any vehicle of it queued
        if wide:
            return self.queues.queued(g) > 0
        return d.extending.longest_on_ms(g) >= self.permissive_wait_ms

    def _stage_values(self, k, d, perm, wide=False):
        # Weight of every group that is not green (vehicle-equivalents waiting),
        # the group that has waited too long if any, and from the weights the
        # value of every stage (-1 = no demand), summed again only when a
        # weight moved. Locals: attribute lookups are
        # what a tick costs on MicroPython.
        state = k.state
        est = self.queues.estimate
        call = d.call
        clock = d.clock_ms
        call_at = d.call_at
        wait = self.max_wait_ms
        weight = self.weight
        age_weight = self.age_weight_ms
        urgent = -1
        oldest = -1
        changed = wide != self.wide  # after a wide sum, sum again
        cur = k.stage
        held = self.held
        for g in range(self.ix.n_groups):
            w = 0
            if state[g] != GREEN:
                w = est[g]
                if call[g]:
                    a = (clock - call_at[g]) & CLOCK_MASK
                    w += 1 + a // age_weight
                    if a >= wait[g] and a > oldest:
                        oldest = a
                        urgent = g
            elif perm is not None and perm[g] and self.guarded[g]:
                # a permissive green that waits: its queue, for its protected stages
                h = est[g] if self._waiting_permissive(g, d, wide) else 0
                if h != held[g]:
                    held[g] = h
                    changed = True
            if w != weight[g]:
                weight[g] = w
                changed = True
        self.urgent_group = urgent
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
                if w > 0:
                    v = w if v < 0 else v + w
            value[s] = v

    def _choose(self, k, d, current):
        # -> the stage to serve next or -1; sets self.urgent when a wait bound decides
        ix = self.ix
        self.urgent = False
        urgent = self.urgent_group  # a group that has waited too long decides
        best = -1
        if ix.free_sequence or urgent >= 0:
            top = -1
            for s in range(ix.n_stages):
                if s == current or self.value[s] < 0:
                    continue
                if urgent >= 0 and not ix.stage_mask[s][urgent]:
                    continue
                if self.value[s] > top:
                    top = self.value[s]
                    best = s
            self.urgent = urgent >= 0
            return best
        pos = ix.sequence_position[current]
        k_len = len(ix.sequence)
        for step in range(1, k_len):
            p = pos + step
            if p >= k_len:
                p -= k_len
            s = ix.sequence[p]
            if self.value[s] >= 0:
                return s
        return -1

    def decide(self, ctl, elapsed_ms):
        ix = self.ix
        k = ctl.kernel
        d = ctl.demand
        self.queues.update(elapsed_ms, k.state)
        s = k.stage
        if not k.established:
            self.max_timer_ms = 0
            return s
        # the current stage's permissive groups, if it shows a guarded one (else None)
        perm = self.perm[s] if self.perm is not None and self.live[s] else None
        self._stage_values(k, d, perm)
        nxt = self._choose(k, d, s)
        if nxt < 0:
            self.max_timer_ms = 0  # nobody else waits: rest in green
            return s
        t = self.max_timer_ms + elapsed_ms
        self.max_timer_ms = t if t < TIMER_MAX_MS else TIMER_MAX_MS
        queues = self.queues
        arrival_gap = queues.arrival_gap_ms
        cut = self.value[nxt] * self.gap_reduction_ms_per_veh
        extending = False
        maxed = True
        for g in ix.stage_groups[s]:
            if ix.is_pedestrian[g] or k.state[g] != GREEN:
                continue
            if k.state_ms(g) < ix.min_green_ms[g]:
                return s
            if ix.stage_mask[nxt][g]:
                continue  # stays green in the next stage
            if perm is not None and perm[g] and self.guarded[g] and self._waiting_permissive(g, d, False):
                continue  # waiting for a gap: does not hold the stage
            passage = ix.passage_ms[g]
            gap = d.gap_ms(g)
            if queues.queued(g) <= 0:
                # queue cleared: only arrivals over the advance loops extend
                reduced = passage - cut
                passage = reduced if reduced > self.min_gap_ms else self.min_gap_ms
                if arrival_gap[g] >= 0:
                    gap = arrival_gap[g]
            if gap < passage:
                extending = True
            if self.max_timer_ms < ix.max_green_ms[g]:
                maxed = False
        if self.urgent:
            code = ev.PHASE_FORCE_OFF
        elif maxed:
            code = ev.PHASE_MAX_OUT
        elif not extending:
            code = ev.PHASE_GAP_OUT
        else:
            return s
        if perm is not None:  # choose again with the permissive queues counted whole
            self._stage_values(k, d, perm, True)
            alt = self._choose(k, d, s)
            if alt >= 0:
                nxt = alt
        log_green_end(ctl, s, nxt, code)
        self.max_timer_ms = 0
        return nxt
