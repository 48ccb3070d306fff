"""One controller's bad input costs no other controller its plans (issue 14, finding 1); a coordinator that
lost its state file, or a controller that accepted a seq far ahead, is back in step at once (finding 3)."""

from __future__ import annotations

import json

from controller.coordination.messages import (
    MODE_FREE,
    PLAN_ACCEPTED,
    PLAN_REPLAYED,
    Report,
    decode_plan,
    encode_plan,
    encode_report,
)

from coordinator.bus import InProcessBus
from coordinator.corridors import load_corridors
from coordinator.service import CoordinatorOptions, CoordinatorService
from tests.coordinator.conftest import ARTERIAL, DATA, keys_for
from tests.coordinator.field_sim import SimulatedController

T0 = 1795333100000
IDS = ["J1", "J2", "J3", "J4", "J5"]
# the reports of the issue: each was accepted by decode_report and then broke every poll
POISON = [
    ("counts", [10 ** 400, 1]),
    ("period_ms", 10 ** 400),
    ("loop_counts", [[10 ** 400], [1]]),
    ("groups", [[1], "K2"]),
]


def report(cid: str, seq: int, wall: int, counts=(300, 900), **change) -> bytes:
    d = json.loads(encode_report(Report(cid, seq, wall, 60000, MODE_FREE, 0, ["K1", "K2"], list(counts), [0, 0], [],
                                        loop_counts=[[counts[0]], [counts[1]]])))
    d.update(change)
    return json.dumps(d).encode()


def service(corridors=None, **kw):
    corridors = corridors or load_corridors(ARTERIAL)
    bus = InProcessBus()
    svc = CoordinatorService(corridors, keys_for([ci.controller_id for c in corridors for ci in c.intersections]),
                             bus.publish, CoordinatorOptions(**kw))
    clock = [T0]
    for f in svc.subscriptions():
        bus.subscribe(f, lambda t, p: svc.on_message(t, p, clock[0]))
    plans: dict[str, list] = {}
    bus.subscribe("ampelwerk/+/plan", lambda t, p: plans.setdefault(t.split("/")[1], []).append(decode_plan(p)))
    return svc, bus, clock, plans


def test_poisoned_reports_from_one_controller_stop_no_plans():
    svc, bus, clock, plans = service(compute_period_ms=60000, refresh_ms=120000, validity_ms=240000)
    for minute in range(1, 11):
        clock[0] = T0 + minute * 60000
        for cid in IDS:
            bus.publish("ampelwerk/%s/report" % cid, report(cid, minute, clock[0], counts=(200, 700)))
        name, value = POISON[minute % len(POISON)]
        bus.publish("ampelwerk/J3/report", report("J3", 100 + minute, clock[0], **{name: value}))
        svc.poll(clock[0])
    # every controller got a plan at every refresh (0, 2, 4, ... 10 min), J3 included: its good reports count
    for cid in IDS:
        assert len(plans[cid]) >= 5, (cid, len(plans[cid]))
        assert plans[cid][-1].valid_from_ms >= T0 + 8 * 60000
    t = svc.corridors["arterial"].timing
    assert t.cycle.measured and t.cycle.critical is not None
    j3 = svc.links["J3"]
    assert j3.bad == {"report": 10} and "report refused: report field" in j3.last_bad
    assert all(not svc.links[c].bad for c in IDS if c != "J3")
    assert j3.reports.received == 10  # its ten good reports
    lines = svc.status_lines()
    assert "10 bad input ignored" in lines[0]
    assert [x for x in lines[1:] if "BAD INPUT" in x] == [
        "  J3: BAD INPUT 10 (report 10), last: %s" % j3.last_bad]


def test_unknown_groups_misaddressed_and_odd_status_are_counted_for_their_sender():
    svc, bus, clock, plans = service()
    bus.publish("ampelwerk/J2/report", report("J1", 1, T0))
    bus.publish("ampelwerk/J2/status", b"\xff" * 100)
    assert svc.links["J2"].last_bad.startswith("status b'\\xff")
    bus.publish("ampelwerk/J2/report", report("J2", 1, T0, groups=["K1", "K9"]))
    assert svc.links["J2"].bad == {"report": 1, "misaddressed": 1, "status": 1}
    assert "group 'K9' is not a signal group of J2's config (groups: K1, K2)" in svc.links["J2"].last_bad
    assert svc.links["J1"].reports.received == 0 and svc.links["J2"].reports.received == 0
    assert sorted(c for c, _ in svc.poll(T0)) == IDS


def test_a_controller_whose_flows_fail_is_left_out_and_the_rest_is_planned(monkeypatch):
    svc, bus, clock, plans = service()
    for cid in IDS:
        bus.publish("ampelwerk/%s/report" % cid, report(cid, 1, T0, counts=(100, 1500)))

    def broken(now_ms):
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(svc.links["J4"].reports, "flows_vph", broken)
    sent = svc.poll(T0 + 1000)
    assert sorted(c for c, _ in sent) == IDS
    assert svc.links["J4"].bad == {"flows": 1} and "OverflowError" in svc.links["J4"].last_bad
    t = svc.corridors["arterial"].timing
    assert t.cycle.measured  # from the other four


def test_a_corridor_whose_computation_fails_keeps_its_timing_and_the_others_go_on(tmp_path, monkeypatch):
    raw = json.loads(ARTERIAL.read_text())
    c = raw["corridors"][0]
    for it in c["intersections"]:
        it["config"] = str(DATA / "arterial5" / it["config"])
    a = dict(c, id="west", intersections=c["intersections"][:2], links=c["links"][:1])
    b = dict(c, id="east", intersections=c["intersections"][2:], links=c["links"][2:])
    path = tmp_path / "two.json"
    path.write_text(json.dumps(dict(raw, corridors=[a, b])))
    svc, bus, clock, plans = service(load_corridors(path), compute_period_ms=60000)
    svc.poll(T0)
    west_before = svc.corridors["west"].timing
    import coordinator.service as service_module

    real = service_module.compute_splits

    def fails_for_west(corridor, *args, **kw):
        if corridor.id == "west":
            raise ValueError("cannot convert float NaN to integer")
        return real(corridor, *args, **kw)

    monkeypatch.setattr(service_module, "compute_splits", fails_for_west)
    for cid in IDS:
        bus.publish("ampelwerk/%s/report" % cid, report(cid, 1, T0 + 30000, counts=(100, 1500)))
    for k in range(1, 4):
        svc.poll(T0 + k * 60000)
    assert svc.counters["corridor_errors"] == 3
    assert svc.corridors["west"].timing is west_before  # the timing in force stays
    assert svc.corridors["east"].timing.cycle.measured  # east moved on to its counts
    assert all(len(plans[cid]) >= 2 for cid in ("J3", "J4", "J5"))  # the changed timing went out


def test_a_clock_far_ahead_does_not_keep_its_counts_in_the_window():
    svc, bus, clock, plans = service(report_window_ms=900000)
    bus.publish("ampelwerk/J1/report", report("J1", 1, T0 + 10 ** 12, counts=(3000, 3000)))  # 30 years ahead
    link = svc.links["J1"]
    assert link.reports.flows_vph(T0) is not None
    assert link.reports.flows_vph(T0 + 900000) is None  # aged out as if sent when it arrived


def _field(svc_holder, bus, clock):
    """Five simulated controllers (real core, coordinated strategy, CoordinationAgent) on the bus."""
    corridors = load_corridors(ARTERIAL)
    keys = keys_for(IDS)
    by_id = {ci.controller_id: ci for ci in corridors[0].intersections}
    ctls = {cid: SimulatedController(by_id[cid].ix, keys[cid], bus, {"K1": 300.0, "K2": 900.0}, seed=k + 1)
            for k, cid in enumerate(IDS)}
    for f in ("ampelwerk/+/report", "ampelwerk/+/plan_status", "ampelwerk/+/status"):
        bus.subscribe(f, lambda t, p: svc_holder[0].on_message(t, p, clock[0]))
    return corridors, keys, ctls


def _run(ctls, svc, clock, seconds):
    for _ in range(seconds):
        for _ in range(10):
            clock[0] += 100
            for c in ctls.values():
                c.step(100, clock[0])
        svc.poll(clock[0])


def test_a_coordinator_restarted_without_its_state_file_is_obeyed_at_once():
    # issue 14, finding 3: its seqs restarted low and every controller refused its plans as replayed
    bus, clock, holder = InProcessBus(), [T0], [None]
    corridors, keys, ctls = _field(holder, bus, clock)
    opts = CoordinatorOptions(compute_period_ms=120000, validity_ms=180000, refresh_ms=90000, retry_ms=20000)
    holder[0] = CoordinatorService(corridors, keys, bus.publish, opts)
    _run(ctls, holder[0], clock, 200)
    before = {cid: c.agent.gate.last_seq for cid, c in ctls.items()}
    assert all(s > 0 for s in before.values())
    holder[0] = fresh = CoordinatorService(corridors, keys, bus.publish, opts)  # no state file at all
    _run(ctls, fresh, clock, 1)
    for cid, c in ctls.items():
        assert c.statuses[-1][1] == PLAN_ACCEPTED, (cid, c.statuses[-1])
        assert c.agent.gate.last_seq > before[cid]
        assert fresh.links[cid].accepted == 1 and fresh.links[cid].rejected == {}


def test_a_seq_accepted_far_ahead_is_learned_from_the_plan_status():
    # a correctly signed plan whose seq is 50 min ahead (a bug, a leaked key) made every later plan of the
    # coordinator "replayed"; the controller's answer says its last seq and the coordinator goes above it
    bus, clock, holder = InProcessBus(), [T0], [None]
    corridors, keys, ctls = _field(holder, bus, clock)
    opts = CoordinatorOptions(compute_period_ms=120000, validity_ms=180000, refresh_ms=90000, retry_ms=20000)
    holder[0] = svc = CoordinatorService(corridors, keys, bus.publish, opts)
    answers = []
    svc.on_plan_status = lambda cid, d, wall_ms: answers.append((cid, d["reason"], wall_ms))
    _run(ctls, svc, clock, 60)
    good = svc.plan_for("J2", clock[0], clock[0] + 3000000)
    ctls["J2"]._on_plan("ampelwerk/J2/plan", encode_plan(good, keys["J2"]))
    assert ctls["J2"].statuses[-1][1] == PLAN_ACCEPTED
    _run(ctls, svc, clock, 100)  # the refresh at 90 s is refused as replayed, then sent again above it
    j2 = svc.links["J2"]
    assert j2.rejected == {"replayed": 1}
    assert j2.accepted_seq > good.seq and ctls["J2"].agent.gate.last_seq == j2.accepted_seq
    # the retry went out at the next poll (1 s), not retry_ms (20 s) later, and was taken
    j2_answers = [a[1:] for a in answers if a[0] == "J2"]
    k = j2_answers.index(next(a for a in j2_answers if a[0] == PLAN_REPLAYED))
    assert j2_answers[k + 1][0] == PLAN_ACCEPTED and j2_answers[k + 1][1] - j2_answers[k][1] == 1000
    # a controller claiming a seq we can never have sent is not believed
    bus.publish("ampelwerk/J4/report", report("J4", 99, clock[0], plan_seq=clock[0] + 10 ** 9))
    assert svc.links["J4"].bad == {"seq": 1} and svc.seqs.seq["J4"] < clock[0] + 10 ** 9


def test_a_plan_that_cannot_be_made_holds_back_only_its_controller(monkeypatch):
    svc, bus, clock, plans = service(retry_ms=60000)
    real = svc.plan_for

    def fails_for_j2(cid, wall_ms, seq):
        if cid == "J2":
            raise KeyError("stage S9")
        return real(cid, wall_ms, seq)

    monkeypatch.setattr(svc, "plan_for", fails_for_j2)
    assert sorted(c for c, _ in svc.poll(T0)) == ["J1", "J3", "J4", "J5"]
    assert svc.counters["plan_errors"] == 1
    assert svc.poll(T0 + 59000) == []  # not tried again at every poll
    monkeypatch.setattr(svc, "plan_for", real)
    assert [c for c, _ in svc.poll(T0 + 60000)] == ["J2"]
    # and a message whose handling fails for a reason nobody foresaw is counted for its sender
    monkeypatch.setattr(svc, "_report", lambda *a: 1 / 0)
    bus.publish("ampelwerk/J4/report", report("J4", 1, T0))
    assert svc.links["J4"].bad == {"unhandled": 1}
