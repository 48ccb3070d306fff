# Coordinated strategy: force-offs at the planned cycle positions, early
# return, offset transitions (shorter way, at most three cycles), fallback to
# free operation when the plan runs out and recovery when a new one comes.
from controller.events import codes as ev
from controller.config.loading import load_dict
from controller.coordination.agent import CoordinationAgent
from controller.coordination.messages import MODE_COORDINATED, MODE_FREE, MODE_TRANSITION, PLAN_ACCEPTED, decode_plan_status
from controller.core import Controller
from controller.config.schema import STRATEGY_NAMES
from controller.strategies.registry import make_strategy
from tests.controller.coordination_support import KEY, WALL0, plan_payload
from tests.controller.core_support import example_raw, letters, two_group_raw

TICK = 100
CYCLE = 40000
YIELD = 15000  # S1's split 20000 - intergreen A->B 5000
FORCE_OFF_S2 = 33000  # cycle 40000 - intergreen B->A 7000


KEPT = (ev.PHASE_GAP_OUT, ev.PHASE_MAX_OUT, ev.PHASE_FORCE_OFF, ev.COORD_PATTERN_CHANGE, ev.CYCLE_LENGTH_CHANGE,
        ev.OFFSET_LENGTH_CHANGE, ev.COORD_CYCLE_STATE_CHANGE, ev.COORD_PLAN_ACCEPTED, ev.COORD_PLAN_REJECTED)


def saturated(t, pres):
    for i in range(len(pres)):
        pres[i] = 1 if t % 1000 < 500 else 0


def nothing(t, pres):
    for i in range(len(pres)):
        pres[i] = 0


class Run:
    # Steps a coordinated controller with its agent; wall clock = WALL0 + controller time.
    def __init__(self, raw=None, demand=saturated):
        self.ctl = Controller(load_dict(raw or two_group_raw(strategy="coordinated")))
        self.agent = CoordinationAgent(self.ctl, KEY)
        self.st = self.ctl.strategy
        self.demand = demand
        self.time_ms = 0
        self.pres = bytearray(self.ctl.ix.n_detectors)
        self.changes = []  # (time_ms, group, letter)
        self.events = []
        self.modes = []  # (time_ms, mode) at every change
        self.last = None

    def offer(self, **kw):
        kw.setdefault("valid_from_ms", self.wall())
        kw.setdefault("valid_until_ms", self.wall() + 3600000)
        st = decode_plan_status(self.agent.offer_plan(plan_payload(**kw), self.wall()))
        return st["reason"]

    def wall(self):
        return WALL0 + self.time_ms

    def run(self, ms):
        end = self.time_ms + ms
        while self.time_ms < end:
            self.time_ms += TICK
            self.demand(self.time_ms, self.pres)
            self.ctl.step(TICK, self.pres)
            s = letters(self.ctl.outputs)
            if s != self.last:
                for g in range(len(s)):
                    if self.last is None or s[g] != self.last[g]:
                        self.changes.append((self.time_ms, g, s[g]))
                self.last = s
            if not self.modes or self.modes[-1][1] != self.st.mode:
                self.modes.append((self.time_ms, self.st.mode))
            if self.time_ms % 5000 == 0:
                self._keep_events()
        self._keep_events()
        assert not self.ctl.flashing
        return self

    def _keep_events(self):
        # only what the tests look at (a long run's detector events would fill a small heap)
        for e in self.ctl.drain_events():
            if e[1] in KEPT:
                self.events.append(e)

    def times(self, group, letter, after=0):
        return [t for t, g, s in self.changes if g == group and s == letter and t > after]

    def coord_events(self, after=0):
        return [(t, c, p) for t, c, p in self.events if t > after and c in (
            ev.COORD_PATTERN_CHANGE, ev.CYCLE_LENGTH_CHANGE, ev.OFFSET_LENGTH_CHANGE, ev.COORD_CYCLE_STATE_CHANGE,
            ev.COORD_PLAN_ACCEPTED, ev.COORD_PLAN_REJECTED)]

    def in_step_at(self, after):
        # first time after `after` the strategy reported being in step
        for t, m in self.modes:
            if t > after and m == MODE_COORDINATED:
                return t
        return -1


def _pos(t, offset, cycle=CYCLE):
    return (t - offset) % cycle


def test_coordinated_is_a_known_strategy_and_starts_free():
    assert "coordinated" in STRATEGY_NAMES
    r = Run().run(60000)
    assert r.st.name == "coordinated" and r.st.mode == MODE_FREE and r.st.plan is None
    assert r.agent.plan_seq == 0
    # free operation serves both stages
    assert r.times(0, "G") and r.times(1, "G")
    assert make_strategy("coordinated", r.ctl.ix).name == "coordinated"


def test_force_offs_held_at_the_planned_cycle_positions():
    r = Run().run(30000)
    assert r.offer(offset_ms=7000) == PLAN_ACCEPTED
    t0 = r.time_ms
    assert r.st.mode == MODE_TRANSITION
    r.run(20 * CYCLE)
    done = r.in_step_at(t0)
    assert 0 < done <= t0 + 3 * CYCLE + 20000, done
    a_green = r.times(0, "G", done)
    a_yellow = r.times(0, "Y", done)
    b_yellow = r.times(1, "Y", done)
    assert len(a_yellow) >= 15
    for t in a_yellow:
        assert YIELD <= _pos(t, 7000) <= YIELD + TICK, (t, _pos(t, 7000))  # yield point
    for t in a_green[1:]:
        assert _pos(t, 7000) <= TICK, (t, _pos(t, 7000))  # green starts at position 0
    for t in b_yellow:
        assert FORCE_OFF_S2 <= _pos(t, 7000) <= FORCE_OFF_S2 + TICK  # side stage forced off
    forced = [p for t, c, p in r.events if t > done and c == ev.PHASE_FORCE_OFF]
    assert forced.count(2) >= 15 and forced.count(1) >= 15  # B at its force-off, A at its yield
    assert r.st.mode == MODE_COORDINATED and r.agent.mode == MODE_COORDINATED


def test_four_stages_each_forced_off_at_its_point():
    raw = example_raw()
    raw["strategy"] = "coordinated"
    # S3 coordinated: 30000 (+12000 to S4), S4 14000, S1 32000, S2 14000; cycle 90000
    splits = (("S3", 30000), ("S4", 14000), ("S1", 32000), ("S2", 14000))
    r = Run(raw).run(30000)
    assert r.offer(controller_id="example-4leg", cycle_ms=90000, offset_ms=0, splits=splits) == PLAN_ACCEPTED
    t0 = r.time_ms
    r.run(12 * 90000)
    done = r.in_step_at(t0)
    assert 0 < done <= t0 + 3 * 90000 + 45000
    ix = r.ctl.ix
    starts = {"S3": 0, "S4": 30000, "S1": 44000, "S2": 76000}
    ends = {"S3": 30000 - 12000, "S4": 44000 - 6000, "S1": 76000 - 12000, "S2": 90000 - 6000}
    for sid, first_group in (("S3", "K5"), ("S4", "K6"), ("S1", "K1"), ("S2", "K2")):
        g = ix.group_ids.index(first_group)
        ys = r.times(g, "Y", done)
        assert len(ys) >= 6, sid
        for t in ys:
            assert ends[sid] <= _pos(t, 0, 90000) <= ends[sid] + TICK, (sid, t, _pos(t, 0, 90000))
        for t in r.times(g, "G", done + 1000):
            # a group may enter before its stage's planned green start when its own
            # intergreen is shorter than the stage's transition, never after it
            early = (starts[sid] - _pos(t, 0, 90000)) % 90000
            assert early <= 6000 or early >= 90000 - TICK, (sid, t, _pos(t, 0, 90000))


def test_coordinated_stage_rests_without_side_demand_and_returns_early():
    calls = []

    def one_call_per_cycle(t, pres):
        # B: one short vehicle at position 10000 of each cycle (then gaps out)
        pres[0] = 0
        pres[1] = 1 if _pos(t, 0) in (10000, 10100) and t > 120000 else 0
        if pres[1]:
            calls.append(t)

    r = Run(demand=one_call_per_cycle).run(20000)
    assert r.offer(offset_ms=0) == PLAN_ACCEPTED
    t0 = r.time_ms
    r.run(100000)  # no side demand: A rests in green throughout
    assert r.times(1, "G", t0 + 1000) == []
    r.run(8 * CYCLE)
    assert calls
    b_green = r.times(1, "G", 130000)
    a_green = r.times(0, "G", 130000)
    b_yellow = r.times(1, "Y", 130000)
    assert len(b_green) >= 6 and len(a_green) >= 6
    for t in b_yellow:
        # B gaps out after its 6 s min green (passage 2 s), well before its force-off point
        assert _pos(t, 0) < FORCE_OFF_S2 - 4000, _pos(t, 0)
    for t in a_green:
        assert 20000 < _pos(t, 0) <= 34000, _pos(t, 0)  # early return: A's green starts before position 0
    for t in r.times(0, "Y", 130000):
        assert YIELD <= _pos(t, 0) <= YIELD + TICK  # and is still held to the yield point
    assert [p for t, c, p in r.events if t > 130000 and c == ev.PHASE_GAP_OUT].count(2) >= 6


def _in_step_with(offset, at_position):
    # in step with a plan at `offset`, then stopped where plan position == at_position
    r = Run().run(20000)
    assert r.offer(seq=1, offset_ms=offset) == PLAN_ACCEPTED
    r.run(5 * CYCLE)
    assert r.st.mode == MODE_COORDINATED
    r.run((at_position - _pos(r.time_ms, offset)) % CYCLE)
    assert _pos(r.time_ms, offset) == at_position
    return r


def _transition(old_offset, new_offset, at_position, **plan):
    r = _in_step_with(old_offset, at_position)
    t0 = r.time_ms
    assert r.offer(seq=2, offset_ms=new_offset, **plan) == PLAN_ACCEPTED
    r.run(8 * CYCLE)
    state = [p for t, c, p in r.coord_events(t0) if c == ev.COORD_CYCLE_STATE_CHANGE]
    return r, t0, state


def test_transition_shortens_when_that_is_shorter():
    # in B's green at position 25000; the new plan is 10 s later in its cycle: shorten by 10 s
    r, t0, state = _transition(0, 30000, 25000)
    assert state == [ev.COORD_STATE_TRANSITION_SUBTRACT, ev.COORD_STATE_IN_STEP], state
    done = r.in_step_at(t0)
    assert 0 < done <= t0 + 3 * CYCLE
    a = r.times(0, "G", t0)
    ay = r.times(0, "Y", t0)
    greens = [y - g for g, y in zip(a, ay)]
    assert min(greens) >= 5000  # cut, but never below A's min green
    assert sum(YIELD - x for x in greens[:3] if x < YIELD) == 10000  # the whole correction by cutting
    for t in r.times(0, "Y", done):
        assert YIELD <= _pos(t, 30000) <= YIELD + TICK


def test_transition_lengthens_when_that_is_shorter():
    # the new plan is 10 s earlier in its cycle: lengthen by 10 s (dwell at the yield point)
    r, t0, state = _transition(0, 10000, 25000)
    assert state == [ev.COORD_STATE_TRANSITION_ADD, ev.COORD_STATE_IN_STEP], state
    done = r.in_step_at(t0)
    assert 0 < done <= t0 + 3 * CYCLE
    a = r.times(0, "G", t0)
    ay = r.times(0, "Y", t0)
    greens = [y - g for g, y in zip(a, ay)]
    assert max(greens) > YIELD and sum(x - YIELD for x in greens[:3] if x > YIELD) == 10000
    for t in r.times(0, "Y", done):
        assert YIELD <= _pos(t, 10000) <= YIELD + TICK


def test_transition_lengthens_when_shortening_cannot_finish_in_three_cycles():
    # S1 split 12000: yield at 7000, only 2 s of A's green above its 5 s min green to cut per cycle
    splits = (("S1", 12000), ("S2", 28000))
    r = Run().run(20000)
    assert r.offer(seq=1, offset_ms=0, splits=splits) == PLAN_ACCEPTED
    r.run(5 * CYCLE)
    r.run((25000 - _pos(r.time_ms, 0)) % CYCLE)
    t0 = r.time_ms
    assert r.offer(seq=2, offset_ms=30000, splits=splits) == PLAN_ACCEPTED  # 10 s behind
    r.run(8 * CYCLE)
    state = [p for t, c, p in r.coord_events(t0) if c == ev.COORD_CYCLE_STATE_CHANGE]
    assert state == [ev.COORD_STATE_TRANSITION_ADD, ev.COORD_STATE_IN_STEP], state
    done = r.in_step_at(t0)
    assert 0 < done <= t0 + 3 * CYCLE + 30000  # three local cycles, lengthened by 30 s in all
    for t in r.times(0, "Y", done):
        assert 7000 <= _pos(t, 30000) <= 7000 + TICK


def test_new_plan_logs_pattern_cycle_and_offset():
    r = Run().run(20000)
    assert r.offer(seq=9, offset_ms=12000) == PLAN_ACCEPTED
    r.run(1000)
    codes = [(c, p) for t, c, p in r.coord_events()]
    assert codes[:4] == [(ev.COORD_PLAN_ACCEPTED, 0), (ev.COORD_PATTERN_CHANGE, 9), (ev.CYCLE_LENGTH_CHANGE, 40),
                         (ev.OFFSET_LENGTH_CHANGE, 12)], codes


def test_refreshed_plan_only_extends_validity():
    r = Run().run(20000)
    assert r.offer(seq=1, offset_ms=5000, valid_until_ms=WALL0 + 20000 + 200000) == PLAN_ACCEPTED
    r.run(150000)
    assert r.st.mode == MODE_COORDINATED
    t1 = r.time_ms
    assert r.offer(seq=2, offset_ms=5000, valid_from_ms=r.wall(), valid_until_ms=r.wall() + 200000) == PLAN_ACCEPTED
    r.run(150000)  # beyond the first plan's window
    assert r.st.mode == MODE_COORDINATED and r.agent.plan_seq == 2
    assert [c for t, c, p in r.coord_events(t1 - 1)] == [ev.COORD_PLAN_ACCEPTED]
    assert [m for t, m in r.modes if t > t1] == []


def test_falls_back_to_free_when_the_plan_runs_out_and_recovers():
    r = Run().run(20000)
    assert r.offer(seq=1, offset_ms=3000, valid_until_ms=r.wall() + 200000) == PLAN_ACCEPTED
    t0 = r.time_ms
    r.run(199000)
    assert r.st.mode == MODE_COORDINATED and r.agent.plan_seq == 1
    r.run(2000)
    assert r.st.mode == MODE_FREE and r.st.plan is None and r.agent.plan_seq == 0
    assert (ev.COORD_CYCLE_STATE_CHANGE, ev.COORD_STATE_FREE) in [(c, p) for t, c, p in r.coord_events(t0)]
    r.run(120000)
    assert r.times(1, "G", t0 + 205000) and r.times(0, "G", t0 + 205000)  # free operation serves both
    t1 = r.time_ms
    assert r.offer(seq=2, offset_ms=21000) == PLAN_ACCEPTED
    r.run(8 * CYCLE)
    done = r.in_step_at(t1)
    assert 0 < done <= t1 + 3 * CYCLE + 20000
    for t in r.times(0, "Y", done):
        assert YIELD <= _pos(t, 21000) <= YIELD + TICK


def test_clear_plan_goes_free_at_the_next_tick():
    r = Run().run(20000)
    assert r.offer(seq=1) == PLAN_ACCEPTED
    r.run(100000)
    r.st.clear_plan()
    r.run(TICK)
    assert r.st.mode == MODE_FREE and r.agent.plan_seq == 0


def test_plan_offered_during_startup_is_timed_on_the_controller_clock():
    r = Run()
    r.run(1000)  # still in startup flash
    assert r.offer(seq=1, offset_ms=9000) == PLAN_ACCEPTED
    r.run(6 * CYCLE)
    assert r.st.mode == MODE_COORDINATED
    for t in r.times(0, "Y", 4 * CYCLE):
        assert YIELD <= _pos(t, 9000) <= YIELD + TICK


def test_refused_plan_changes_nothing():
    r = Run().run(20000)
    assert r.offer(seq=3, offset_ms=4000) == PLAN_ACCEPTED
    r.run(5 * CYCLE)
    pos = r.st.pos_ms
    assert r.offer(seq=3, offset_ms=20000) == 4  # replay
    assert r.offer(seq=4, offset_ms=40000) == 7  # out of bounds
    assert r.st.plan.seq == 3 and r.st.plan.offset_ms == 4000 and r.st.pos_ms == pos
    assert r.st.mode == MODE_COORDINATED


def test_oversaturated_side_street_runs_free_for_a_while_then_rejoins():
    # K1's queue spills back over its advance loop (on for a minute at a time)
    # and keeps discharging over its stop-bar loop until t = spill_until:
    # every cycle its stage S1 is forced off with the queue still there, so
    # after FALLBACK_CYCLES such cycles the controller runs free for
    # FALLBACK_HOLD_MS, then takes the plan back; with the spill gone, no
    # second fallback.
    from controller.strategies.coordinated import FALLBACK_CYCLES, FALLBACK_HOLD_MS

    raw = example_raw()
    raw["strategy"] = "coordinated"
    splits = (("S3", 30000), ("S4", 14000), ("S1", 32000), ("S2", 14000))
    spill_until = [0]

    def spilled_k1(t, pres):
        saturated(t, pres)
        pres[16] = pres[17] = 0  # no pedestrians
        if t < spill_until[0]:
            pres[0] = 1 if t % 1000 < 500 else 0  # D1s: vehicles keep crossing the stop line
            pres[1] = 0 if t % 61000 < 200 else 1  # D1a: a standing queue over the advance loop

    r = Run(raw, demand=spilled_k1).run(30000)
    assert r.offer(controller_id="example-4leg", cycle_ms=90000, offset_ms=0, splits=splits) == PLAN_ACCEPTED
    t0 = r.time_ms
    r.run(6 * 90000)
    assert r.st.mode == MODE_COORDINATED and r.st.fallbacks == 0  # in step, nothing spilled yet
    spill_until[0] = r.time_ms + (FALLBACK_CYCLES + 1) * 90000
    t_spill = r.time_ms
    r.run((FALLBACK_CYCLES + 1) * 90000)
    assert r.st.fallbacks == 1 and r.st.mode == MODE_FREE
    went_free = [t for t, m in r.modes if m == MODE_FREE and t > t_spill][0]
    assert went_free <= t_spill + (FALLBACK_CYCLES + 1) * 90000
    r.run(FALLBACK_HOLD_MS + 6 * 90000)
    back = [t for t, m in r.modes if m != MODE_FREE and t > went_free]
    assert back and FALLBACK_HOLD_MS <= back[0] - went_free <= FALLBACK_HOLD_MS + TICK, (back, went_free)
    assert r.st.mode == MODE_COORDINATED and r.st.fallbacks == 1
    assert r.st.plan is not None and t0 < went_free
