"""One controller's bad input costs no other controller its plans (issue 14, finding 1)."""

from __future__ import annotations

import json

from controller.coordination_messages import MODE_FREE, Report, decode_plan, encode_report

from coordinator.bus import InProcessBus
from coordinator.corridors import load_corridors
from coordinator.service import CoordinatorOptions, CoordinatorService
from tests.coordinator.conftest import ARTERIAL, DATA, keys_for

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
