# Coordination agent: topics, reports (counts per period, occupancy, faults,
# mode, seq), plan offers answered with a status and an event, never raising.
from controller.events import codes as ev
from controller.coordination.agent import CoordinationAgent
from controller.coordination.messages import (
    MODE_COORDINATED,
    MODE_FLASH,
    MODE_FREE,
    MODE_STARTUP,
    PLAN_ACCEPTED,
    PLAN_BAD_SIGNATURE,
    PLAN_MALFORMED,
    PLAN_NOT_COORDINATED,
    decode_plan_status,
    decode_report,
)
from tests.controller.coordination_support import KEY, OTHER_KEY, WALL0, plan_payload
from controller.config.loading import load_dict
from controller.core import Controller
from controller.strategies.actuated import ActuatedStrategy
from tests.controller.core_support import controller, two_group_raw


class PlanHolder(ActuatedStrategy):
    # Stands in for a coordinated strategy: keeps the plan it is given.
    name = "plan-holder"

    def __init__(self, ix):
        ActuatedStrategy.__init__(self, ix)
        self.plan = None
        self.mode = MODE_FREE
        self.set_at = []

    def set_plan(self, plan, wall_ms):
        self.plan = plan
        self.mode = MODE_COORDINATED
        self.set_at.append(wall_ms)

    def clear_plan(self):
        self.plan = None
        self.mode = MODE_FREE


def _holder():
    ix = load_dict(two_group_raw())
    return Controller(ix, PlanHolder(ix))


def _run(ctl, agent, ticks, presence=None, tick_ms=100):
    due = 0
    pres = presence if presence is not None else bytearray(ctl.ix.n_detectors)
    for _ in range(ticks):
        ctl.step(tick_ms, pres)
        if agent.advance(tick_ms):
            due += 1
    return due


def test_topics_follow_the_protocol():
    ctl = controller(two_group_raw())
    a = CoordinationAgent(ctl, KEY, prefix="city")
    assert a.controller_id == "two-groups"
    assert a.report_topic == "city/two-groups/report"
    assert a.plan_topic == "city/two-groups/plan"
    assert a.plan_status_topic == "city/two-groups/plan_status"
    assert a.status_topic == "city/two-groups/status"
    b = CoordinationAgent(ctl, "00" * 32)  # hex key text is accepted too
    assert b.report_topic == "ampelwerk/two-groups/report"


def test_report_due_every_period_and_counts_the_period_only():
    ctl = controller(two_group_raw())
    a = CoordinationAgent(ctl, KEY, report_period_ms=10000)
    assert a.mode == MODE_STARTUP
    pres = bytearray(2)
    assert not a.advance(0)
    for i in range(99):
        # three vehicles on dA, one on dB in the first 10 s
        pres[0] = 1 if i in (10, 11, 30, 50, 51) else 0
        pres[1] = 1 if i == 70 else 0
        ctl.step(100, pres)
        assert not a.advance(100)
    ctl.step(100, pres)
    assert a.advance(100)
    r = decode_report(a.report(WALL0))
    assert r.controller_id == "two-groups" and r.seq == 1 and r.wall_ms == WALL0
    assert r.period_ms == 10000
    assert r.group_ids == ["A", "B"] and r.counts == [3, 1]
    assert r.mode == MODE_FREE and r.plan_seq == 0 and r.faults == []
    assert not a.advance(100)  # the period starts again
    pres[1] = 1
    ctl.step(100, pres)
    r2 = decode_report(a.report(WALL0 + 200))
    assert r2.seq == 2 and r2.counts == [0, 1] and r2.period_ms == 100


def test_report_occupancy_and_faults():
    raw = two_group_raw()
    raw["detector_diagnostics"] = {"occupancy_window_ms": 10000, "max_presence_ms": 10000}
    ctl = controller(raw)
    a = CoordinationAgent(ctl, KEY, report_period_ms=60000)
    pres = bytearray([0, 1])  # dB stuck on
    _run(ctl, a, 250, pres)
    r = decode_report(a.report(WALL0))
    assert r.occupancy_permille[0] == 0 and r.occupancy_permille[1] == 1000
    assert r.faults == ["dB"]


def test_counts_wrap_with_the_detector_counter():
    from controller.detection.detectors import COUNT_WRAP

    ctl = controller(two_group_raw())
    a = CoordinationAgent(ctl, KEY)
    ctl.detectors.count[0] = COUNT_WRAP - 2
    a.count_at_report[0] = COUNT_WRAP - 2
    pres = bytearray(2)
    for i in range(10):
        pres[0] = i % 2
        ctl.step(100, pres)  # five rising edges: ..-1, 0 (wrap), 1, 2, 3
    r = decode_report(a.report(WALL0))
    assert r.counts[0] == 5


def test_non_coordinated_strategy_refuses_plans():
    ctl = controller(two_group_raw())
    a = CoordinationAgent(ctl, KEY)
    st = decode_plan_status(a.offer_plan(plan_payload(), WALL0))
    assert st["reason"] == PLAN_NOT_COORDINATED and st["seq"] == 1 and st["controller"] == "two-groups"
    assert "actuated" in st["text"]
    assert a.plan_seq == 0
    assert (ev.COORD_PLAN_REJECTED, PLAN_NOT_COORDINATED) in [(c, p) for _, c, p in ctl.drain_events()]


def test_bad_input_never_raises():
    ctl = _holder()
    a = CoordinationAgent(ctl, KEY)
    for payload in (b"", b"{", b"[]", b'{"format": "ampelwerk-plan/1"}', b"\xff\xfe", None, 12,
                    plan_payload()[:-5]):
        st = decode_plan_status(a.offer_plan(payload, WALL0))
        assert st["reason"] == PLAN_MALFORMED, (payload, st)
        assert st["seq"] == 0 and st["text"]
    assert ctl.strategy.set_at == []
    st = decode_plan_status(a.offer_plan(plan_payload(key=OTHER_KEY), WALL0))
    assert st["reason"] == PLAN_BAD_SIGNATURE
    assert a.plans_rejected == 9 and a.plans_accepted == 0 and a.plan_seq == 0


def test_accepted_plan_is_in_force_and_reported():
    ctl = _holder()
    a = CoordinationAgent(ctl, KEY, report_period_ms=1000)
    _run(ctl, a, 100)
    st = decode_plan_status(a.offer_plan(plan_payload(seq=5), WALL0))
    assert st["reason"] == PLAN_ACCEPTED and st["result"] == "accepted" and st["seq"] == 5
    assert a.plan_seq == 5
    assert (ev.COORD_PLAN_ACCEPTED, 0) in [(c, p) for _, c, p in ctl.drain_events()]
    _run(ctl, a, 10)
    r = decode_report(a.report(WALL0 + 1000))
    assert r.plan_seq == 5 and r.mode == MODE_COORDINATED
    assert ctl.strategy.set_at == [WALL0]
    # the same plan again is a replay: refused, the plan in force stays
    st = decode_plan_status(a.offer_plan(plan_payload(seq=5), WALL0 + 2000))
    assert st["reason"] == 4 and a.plan_seq == 5 and ctl.strategy.set_at == [WALL0]


def test_flash_mode_is_reported():
    ctl = controller(two_group_raw())
    a = CoordinationAgent(ctl, KEY)
    _run(ctl, a, 100)
    assert a.mode == MODE_FREE
    ctl.monitor.latched = True
    assert a.mode == MODE_FLASH


def test_report_carries_green_and_used_green_per_group():
    ctl = controller(two_group_raw())
    a = CoordinationAgent(ctl, KEY, report_period_ms=60000)
    _run(ctl, a, 600)  # a minute, no vehicles: whatever was green went unused beyond a vehicle's space
    r = decode_report(a.report(WALL0))
    assert len(r.green_ms) == 2 and len(r.used_green_ms) == 2
    assert sum(r.green_ms) > 0
    for g, u in zip(r.green_ms, r.used_green_ms):
        assert 0 <= u <= g and u <= 1500


def test_report_carries_the_count_of_every_counting_loop():
    # group A counted on two stop-bar loops (one lane each, say the two
    # approaches of a side street): the report gives each loop's count, in the
    # config's loop order, besides the group's total
    raw = two_group_raw()
    raw["detectors"] = [{"id": "dA1", "group": "A", "kind": "stop_bar"},
                        {"id": "dA2", "group": "A", "kind": "stop_bar"},
                        {"id": "dB", "group": "B", "kind": "stop_bar"}]
    ctl = controller(raw)
    a = CoordinationAgent(ctl, KEY, report_period_ms=10000)
    pres = bytearray(3)
    for i in range(100):
        pres[0] = 1 if i in (10, 20, 30, 40) else 0  # four vehicles on dA1
        pres[1] = 1 if i == 60 else 0  # one on dA2
        pres[2] = 1 if i in (70, 80) else 0
        ctl.step(100, pres)
        a.advance(100)
    r = decode_report(a.report(WALL0))
    assert r.counts == [5, 2]
    assert r.loop_counts == [[4, 1], [2]]
