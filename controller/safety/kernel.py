# The safety kernel: the only code that changes signal states. Runs on the board.
#
# A strategy only asks for a stage; the kernel moves there group by group.
# The rules, numbered as in docs/core.md ("Safety rules"):
#  1. Conflicting groups are never out of red together: a red group of the
#     target stage gets green only when every conflicting group is red.
#  2. Min green: a green group that is not in the target stage ends green
#     only once its min green (walk for pedestrians) is held.
#  3. Clearance: an ending green shows its clearance (yellow, or flashing
#     don't-walk) for the configured time, and then always red.
#  4. Intergreen and red clearance: a conflicting group gets green only once
#     the intergreen from the other's end of green has elapsed and the other
#     has shown red for its red clearance (intergreen >= clearance + red
#     clearance, checked at load).
#  5. No yellow trap: a group never ends while a group it yields to
#     (yields_to: a permissive turn and the opposing through) stays green.
#     Where a change of stage would do that (the group yielded to is green in
#     both stages), both end together, each with its full clearance, and the
#     group yielded to comes back after its red revert (Intersection.restarts).
#     Two such partners that both leave end together; only a group yielded to
#     may end before a partner that stays green (a protected turn after the
#     permissive one). Nor does a green start beside the clearance of a
#     partner, in either direction.
#  6. Red revert: a group that ended its clearance stays red for at least
#     red_revert_ms before it goes green again; otherwise a group green in
#     both the old and the new stage simply stays green.
#  7. Safe ending: a reset or a new config on a running controller first
#     ends every green through rules 2-6 and holds all red (MODE_ENDING, then
#     MODE_ENDED); flash (fault or startup) is the only abrupt display.
#  8. Startup: flash for startup_flash_ms, all red for the longest
#     intergreen, then the first stage of the sequence. A flash plan of the
#     time-of-day program (hold_flash) is this flash, held: it is entered
#     only through rule 7 or from all red, and left through the rest of
#     the startup sequence.
#  9. Pedestrian groups get walk only on a call (or ped recall).
# 11. Red-amber (a profile's sequence, red_amber_ms > 0): the intergreen
#     counts to the start of green, as RiLSA counts it, and red-amber runs
#     inside it. A group starts red-amber once red_amber_ms before its
#     intergreens run out (rule 4 with intergreen - red_amber_ms), every
#     conflicting group red with its red clearance shown, and rules 5 and 6
#     held; then green after its full red_amber_ms, so never before the
#     intergreen. Red-amber always ends in green (a reset lets it finish and
#     then ends that green under rule 2). While it shows red-amber it counts
#     as out of red: no conflicting group may enter (rule 1), so red-amber
#     never stands beside a conflicting green, yellow or red clearance.
# 12. Flashing green (a profile's sequence, flashing_green_ms > 0): a green
#     that ends (rules 2 and 5 held) first flashes for its full
#     flashing_green_ms, then shows its clearance (rule 3). It is part of the
#     green: out of red for rule 1, and the intergreen counts from its end
#     (green_end_at: the start of the yellow). Never cut: a reset lets it
#     finish.
# (10, step() never raises, is the Controller's and every module's.)
# A new request is taken only once the current stage is established, except
# a preemption's (controller/priority/): it may change the target on the way,
# and while preempt_min_green_ms is set (>= 0) a green leaving the target
# ends after that instead of its min green (walk); every other rule holds.
# Units: ms. step() allocates nothing.
# This file holds the rules alone. The prediction of when the kernel next
# changes a state (host use: the SUMO runner skips quiet ticks up to it) is
# horizon.py's, which reads the kernel's state from outside.
#
# The per-group timers (time in the current state, time since the group left
# green) are time stamps on the kernel's wrapping clock (stamp_clock.py),
# read as ages, so a tick moves one clock instead of every group's timers.
from array import array

from controller.events import codes as ev
from controller.compat import SMALL_INT_MAX, const
from controller.safety.signal_states import FLASHING_GREEN, GREEN, RED, RED_AMBER, YELLOW, write_flash
from controller.stamp_clock import StampClock
from controller.timing import CLOCK_MASK, TIMER_MAX_MS

MODE_STARTUP_FLASH = const(0)
MODE_STARTUP_ALL_RED = const(1)
MODE_RUN = const(2)
MODE_FLASH = const(3)  # fault flash, latched by the controller
MODE_ENDING = const(4)  # a safe ending in progress: every green clears to red (rule 7)
MODE_ENDED = const(5)  # all red after a safe ending: ready to restart or be replaced


class SafetyKernel:
    def __init__(self, ix, events):
        n = ix.n_groups
        self.ix = ix
        self.n = n
        self.events = events
        self.state = bytearray(n)
        self.version = 0  # moves on every change of a signal state (readers redo what depends on them)
        self.clock_ms = 0
        self.state_at = array("i", [0] * n)  # when the group entered its current state
        self.green_end_at = array("i", [0] * n)  # when the group left green
        self.clock = StampClock((self.state_at, self.green_end_at))
        self.red_clearance_open = bytearray(n)  # 1 until the end-of-red-clearance event
        self.open_clearances = 0  # how many groups have red_clearance_open set
        self.outputs = bytearray(n)  # what the signal heads show
        self.stage = ix.sequence[0]
        self.established = False
        self.stage_ms = 0  # time since the stage was established
        self.allow_late_start = True  # may a pedestrian group start walk mid-stage
        self.rejected_requests = 0
        self.preempt_min_green_ms = -1  # >= 0 during a preemption's entry: rule 2's minimum for leaving greens
        self.rejoin = bytearray(n)  # 1: green in both stages, but ends and comes back (rule 5)
        self.ending = bytearray(n)  # scratch of _run: groups that end green this tick
        self.no_stage = bytearray(n)  # the target while ending: no group
        self.mode = MODE_STARTUP_FLASH
        self.mode_ms = 0
        self.hold_flash = False  # a flash plan is in force: stay in the startup flash (rule 8)
        self.restart()

    def restart(self):
        # Power-up (and reset after a fault): flash, then all red, then run.
        now = self.clock_ms
        for g in range(self.n):
            self.state[g] = RED
            self.state_at[g] = now
            self.green_end_at[g] = now
            self.red_clearance_open[g] = 0
            self.rejoin[g] = 0
        self.open_clearances = 0
        self.preempt_min_green_ms = -1
        self._changed()
        self.stage = self.ix.sequence[0]
        self.established = False
        self.stage_ms = 0
        self.mode_ms = 0
        if self.ix.startup_flash_ms > 0 or self.hold_flash:
            self.mode = MODE_STARTUP_FLASH
            self.events.add(ev.UNIT_FLASH_STATUS_CHANGE, 1)
        else:
            self.mode = MODE_STARTUP_ALL_RED
        self._write_outputs()

    def begin_ending(self):
        # Rule 7: end the running program safely, then hold all red (MODE_ENDED).
        # Returns True when the ending has begun or is done, False when there
        # is nothing running to end (startup or flash: restart at once).
        if self.mode == MODE_RUN:
            self.mode = MODE_ENDING
            self.mode_ms = 0
            self.established = False
            return True
        return self.mode == MODE_ENDING or self.mode == MODE_ENDED

    def enter_fault_flash(self):
        self.mode = MODE_FLASH
        self.mode_ms = 0
        now = self.clock_ms
        for g in range(self.n):
            self.state[g] = RED
            self.state_at[g] = now
            self.green_end_at[g] = now
            self.rejoin[g] = 0
        self._changed()
        self._write_outputs()

    def _changed(self):
        self.version = (self.version + 1) & SMALL_INT_MAX

    def state_ms(self, g):
        # how long group g has been in its current state
        return (self.clock_ms - self.state_at[g]) & CLOCK_MASK

    def since_green_end_ms(self, g):
        # how long ago group g left green (since power-up or flash if never)
        return (self.clock_ms - self.green_end_at[g]) & CLOCK_MASK

    def request(self, stage):
        # A strategy asks for `stage`. Taken only in normal operation, once the
        # current stage is established (during a preemption's entry, with
        # preempt_min_green_ms set, also on the way to another); returns True
        # when the target changed.
        if stage < 0 or stage >= self.ix.n_stages:
            if self.rejected_requests < SMALL_INT_MAX:
                self.rejected_requests += 1
            self.events.add(ev.UNIT_ALARM_STATUS_CHANGE, ev.ALARM_STRATEGY_REQUEST)
            return False
        if self.mode != MODE_RUN or stage == self.stage or not (self.established or self.preempt_min_green_ms >= 0):
            return False
        if not self.established:
            # A target changed on the way (preemption): the groups the old
            # target restarted are no guide to what is green now, so rule 5's
            # closure is taken over the greens shown: a green of the new target
            # that a leaving green yields to ends with it and comes back.
            target = self.ix.stage_mask[stage]
            state = self.state
            rejoin = self.rejoin
            more = True
            while more:
                more = False
                for g in range(self.n):
                    if state[g] == GREEN and (not target[g] or rejoin[g]):
                        for c in self.ix.yields_to[g]:
                            if state[c] == GREEN and target[c] and not rejoin[c]:
                                rejoin[c] = 1
                                more = True
        for g in self.ix.restarting(self.stage, stage):
            if self.state[g] == GREEN:
                self.rejoin[g] = 1
        self.stage = stage
        self.established = False
        self.stage_ms = 0
        return True

    def red_clearance_left_ms(self, g):
        # until the end-of-red-clearance event of group g (<= 0: due)
        return self.ix.clearance_ms[g] + self.ix.red_clearance_ms[g] - self.since_green_end_ms(g)

    def leaving(self, g, target):
        # green group g is on its way out: not in the target, or restarting (rule 5)
        return not target[g] or self.rejoin[g]

    def advance_timers(self, elapsed_ms):
        # Time passes: every timer grows by elapsed_ms, saturating.
        t = self.mode_ms + elapsed_ms
        self.mode_ms = t if t < TIMER_MAX_MS else TIMER_MAX_MS
        t = self.stage_ms + elapsed_ms
        self.stage_ms = t if t < TIMER_MAX_MS else TIMER_MAX_MS
        self.clock_ms = self.clock.advance(elapsed_ms)

    def apply(self, calls):
        # Move signal states toward the target stage. `calls` gives the
        # pedestrian calls (demand.call). Called once per tick after advance_timers().
        mode = self.mode
        if mode == MODE_RUN:
            if self.established and not self.open_clearances and not self._walk_waiting(calls):
                # an established stage with nothing due: no state changes; the
                # outputs are rewritten only if something else touched them
                if self.outputs != self.state:
                    self._write_outputs()
                return
            self._run(calls)
        elif mode == MODE_STARTUP_FLASH:
            if self.mode_ms >= self.ix.startup_flash_ms and not self.hold_flash:
                self.mode = MODE_STARTUP_ALL_RED
                self.mode_ms = 0
                self.events.add(ev.UNIT_FLASH_STATUS_CHANGE, 0)
                for g in range(self.n):
                    # red (and the time since any green) begins with the all-red
                    self.state_at[g] = self.clock_ms
                    self.green_end_at[g] = self.clock_ms
        elif mode == MODE_STARTUP_ALL_RED:
            # every group has been red for the longest intergreen: all clear
            if self.mode_ms >= self.ix.startup_all_red_ms:
                self.mode = MODE_RUN
                self.mode_ms = 0
                self._run(calls)
        elif mode == MODE_ENDING:
            self._run(calls)
            if self.established and not self.open_clearances:
                self.mode = MODE_ENDED
                self.mode_ms = 0
        self._write_outputs()

    def _run(self, calls):
        # Two passes, so the outcome does not depend on group numbering: first
        # every group that must clear does (green -> clearance -> red), then
        # groups of the target stage enter where that is now allowed.
        ix = self.ix
        n = self.n
        target = self.no_stage if self.mode == MODE_ENDING else ix.stage_mask[self.stage]
        events = self.events
        now = self.clock_ms
        state = self.state
        state_at = self.state_at
        established = True
        # greens that end now: leaving the target with their min green held
        # (rule 2), and no group they yield to staying green (rule 5)
        ending = self.ending
        rejoin = self.rejoin
        leaving = 0
        cap = self.preempt_min_green_ms
        for g in range(n):
            ending[g] = 0
            if state[g] == GREEN and (not target[g] or rejoin[g]):
                established = False
                held = (now - state_at[g]) & CLOCK_MASK
                if held >= ix.min_green_ms[g] or 0 <= cap <= held:
                    ending[g] = 1
                    leaving += 1
        if leaving and ix.restarts is not None:
            # a pair of yielding groups never shows one's clearance beside the
            # other's green, except where the group yielded to ends and the one
            # yielding to it stays (a protected turn after the permissive one):
            # a group waits for a partner still green, unless that partner
            # yields to it and stays green
            partners = ix.partners
            yields_to = ix.yields_to
            held = True
            while held:
                held = False
                for g in range(n):
                    if ending[g]:
                        for x in partners[g]:
                            if state[x] == GREEN and not ending[x] and (
                                    not target[x] or rejoin[x] or x in yields_to[g]):
                                ending[g] = 0
                                held = True
                                break
        for g in range(n):
            st = state[g]
            ped = ix.is_pedestrian[g]
            if st == FLASHING_GREEN:
                # rule 12: its full time, then yellow (ending); never cut
                established = False
                ending[g] = (now - state_at[g]) & CLOCK_MASK >= ix.red_amber_ms[n + g]
            if st == GREEN or st == FLASHING_GREEN:
                if st == GREEN and ending[g] and ix.red_amber_ms[n + g]:
                    state[g] = FLASHING_GREEN  # rule 12: the flashing green first
                    self._changed()
                    state_at[g] = now
                elif ending[g]:
                    state[g] = YELLOW
                    rejoin[g] = 0
                    self._changed()
                    state_at[g] = now
                    self.green_end_at[g] = now
                    events.add(ev.PED_BEGIN_CLEARANCE if ped else ev.PHASE_BEGIN_YELLOW, g + 1)
            elif st == YELLOW:
                if (now - state_at[g]) & CLOCK_MASK >= ix.clearance_ms[g]:
                    state[g] = RED
                    self._changed()
                    state_at[g] = now
                    self.red_clearance_open[g] = 1
                    self.open_clearances += 1
                    if ped:
                        events.add(ev.PED_BEGIN_DONT_WALK, g + 1)
                    else:
                        events.add(ev.PHASE_END_YELLOW, g + 1)
                        events.add(ev.PHASE_BEGIN_RED_CLEARANCE, g + 1)
                else:
                    established = False
            elif self.red_clearance_open[g] and self.red_clearance_left_ms(g) <= 0:
                self.red_clearance_open[g] = 0
                self.open_clearances -= 1
                if not ped:
                    events.add(ev.PHASE_END_RED_CLEARANCE, g + 1)
        for g in range(n):
            st = state[g]
            if st == RED_AMBER:
                # rule 11: the full red-amber, then green (its partners' clearances over)
                if (now - state_at[g]) & CLOCK_MASK >= ix.red_amber_ms[g] and self._partners_clear(g, target):
                    state[g] = GREEN
                    self._changed()
                    state_at[g] = now
                    events.add(ev.PHASE_BEGIN_GREEN, g + 1)
                    if not target[g]:
                        established = False  # an ending: this green ends next (rule 2)
                else:
                    established = False
                continue
            if st != RED or not target[g]:
                continue
            ped = ix.is_pedestrian[g]
            if ped and not (calls[g] and (self.allow_late_start or not self.established)):
                continue
            if self._clear_to_enter(g, target):
                self._changed()
                state_at[g] = now
                if ix.red_amber_ms[g]:
                    state[g] = RED_AMBER  # rule 11
                    established = False
                else:
                    state[g] = GREEN
                    events.add(ev.PED_BEGIN_WALK if ped else ev.PHASE_BEGIN_GREEN, g + 1)
            else:
                established = False
        if established and not self.established:
            self.established = True
            self.stage_ms = 0

    def _walk_waiting(self, calls):
        # a pedestrian group of the established stage that may start walk now
        if not self.allow_late_start:
            return False
        ix = self.ix
        for g in ix.stage_groups[self.stage]:
            if ix.is_pedestrian[g] and calls[g] and self.state[g] == RED:
                return True
        return False

    def _clear_to_enter(self, g, target):
        # red group g may go green (or start its red-amber) now (rules 1, 4, 5, 6 and 11)
        ix = self.ix
        n = self.n
        if self.state_ms(g) < ix.red_revert_ms[g]:
            return False
        inside = ix.red_amber_ms[g]  # rule 11: the red-amber runs inside the intergreen
        for c in ix.conflicts[g]:
            if self.state[c] != RED or self.since_green_end_ms(c) < ix.intergreen_ms[c * n + g] - inside:
                return False
            # the all-red is shown in full even when a coarse tick stretched the yellow
            if self.state_ms(c) < ix.red_clearance_ms[c]:
                return False
        return self._partners_clear(g, target)

    def _partners_clear(self, g, target):
        # no partner of g (rule 5) leaving green, in its clearance or in its red clearance
        ix = self.ix
        for x in ix.partners[g]:
            st = self.state[x]
            if st == GREEN:
                if self.leaving(x, target):
                    return False  # its clearance must not be shown beside this green
            elif st == YELLOW or st == FLASHING_GREEN or (st == RED and self.state_ms(x) < ix.red_clearance_ms[x]):
                return False
        return True

    def _write_outputs(self):
        out = self.outputs
        mode = self.mode
        if mode != MODE_STARTUP_FLASH and mode != MODE_FLASH:
            for g in range(self.n):
                out[g] = self.state[g]
        else:
            write_flash(out, self.ix.is_pedestrian, self.ix.flash_red)
