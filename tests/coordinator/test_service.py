"""CoordinatorService on the in-process bus with simulated time: plans, refresh, seq persistence, reports."""

from __future__ import annotations

import json

from controller.coordination.messages import (
    MODE_COORDINATED,
    PLAN_ACCEPTED,
    PLAN_STALE,
    Report,
    decode_plan,
    encode_plan_status,
    encode_report,
)
from controller.coordination.plan_signature import verify_hex

from coordinator.bus import InProcessBus
from coordinator.corridors import load_corridors
from coordinator.service import CoordinatorOptions, CoordinatorService
from tests.coordinator.conftest import ARTERIAL, keys_for

T0 = 1795333100000


def make(tmp_path=None, **kw):
    corridors = load_corridors(ARTERIAL)
    keys = keys_for(corridors[0].controller_ids())
    bus = InProcessBus()
    opts = CoordinatorOptions(state_path=str(tmp_path / "state.json") if tmp_path else None, **kw)
    svc = CoordinatorService(corridors, keys, bus.publish, opts)
    for f in svc.subscriptions():
        bus.subscribe(f, lambda t, p: svc.on_message(t, p, clock[0]))
    clock = [T0]
    plans = []
    bus.subscribe("ampelwerk/+/plan", lambda t, p: plans.append((t, decode_plan(p))))
    return svc, bus, keys, plans, clock


def test_plans_signed_sequenced_and_refreshed_before_expiry():
    svc, bus, keys, plans, clock = make()
    sent = svc.poll(T0)
    # seqs count the coordinator's clock in ms (plan_seq_store.py)
    assert sorted(c for c, _ in sent) == ["J1", "J2", "J3", "J4", "J5"] and all(s == T0 for _, s in sent)
    for topic, p in plans:
        assert topic == "ampelwerk/%s/plan" % p.controller_id
        assert verify_hex(keys[p.controller_id], p.signing_text(), p.signature)
        assert not verify_hex(keys["J1" if p.controller_id != "J1" else "J2"], p.signing_text(), p.signature)
        assert sum(p.split_ms) == p.cycle_ms and 0 <= p.offset_ms < p.cycle_ms
        assert p.stage_ids[0] == "S1" and p.ref_ms == svc.options.ref_ms
        assert (p.valid_from_ms, p.valid_until_ms) == (T0, T0 + 600000)
    assert bus.retained["ampelwerk/J3/plan"]
    plans.clear()
    assert svc.poll(T0 + 299000) == []  # nothing due yet
    sent = svc.poll(T0 + 300000)  # half-way through validity: same timing, new seq, fresh window
    assert sorted(sent) == [(c, T0 + 300000) for c in ["J1", "J2", "J3", "J4", "J5"]]
    assert all(p.valid_until_ms == T0 + 900000 for _, p in plans)


def test_seq_persists_across_restart(tmp_path):
    svc, *_ = make(tmp_path)
    svc.poll(T0)
    svc.poll(T0 + 300000)
    svc2, bus2, keys, plans, clock = make(tmp_path)  # a restarted coordinator, same state file
    # its clock went back 200 s: the state file keeps the seqs rising all the same
    sent = svc2.poll(T0 + 100000)
    assert sorted(sent) == [(c, T0 + 300001) for c in ["J1", "J2", "J3", "J4", "J5"]]


def test_refusal_is_retried_and_reported_plan_seq_raises_floor():
    svc, bus, keys, plans, clock = make()
    svc.poll(T0)
    bus.publish("ampelwerk/J2/plan_status", encode_plan_status("J2", T0, PLAN_STALE, T0, "clock ahead"))
    bus.publish("ampelwerk/J1/plan_status", encode_plan_status("J1", T0, PLAN_ACCEPTED, T0))
    assert svc.links["J2"].rejected == {"stale": 1} and svc.links["J1"].accepted == 1
    assert svc.poll(T0 + 59000) == []
    assert svc.poll(T0 + 60000) == [("J2", T0 + 60000)]
    # a controller running a plan with a seq ahead of our clock (state file lost, clock gone back):
    # the next plan must be above it
    bus.publish("ampelwerk/J4/report", encode_report(Report("J4", 1, T0, 60000, MODE_COORDINATED, T0 + 400000,
                                                            ["K1", "K2"], [5, 20], [0, 0], [])))
    assert ("J4", T0 + 400001) in svc.poll(T0 + 300000)
    # a status naming another controller on J5's topic is ignored
    bus.publish("ampelwerk/J5/plan_status", encode_plan_status("J1", 1, PLAN_ACCEPTED, T0))
    assert svc.counters["misaddressed"] == 1


def test_report_gaps_duplicates_restarts_counted():
    svc, bus, keys, plans, clock = make()

    def rep(seq, wall):
        clock[0] = wall
        bus.publish("ampelwerk/J1/report", encode_report(Report("J1", seq, wall, 60000, MODE_COORDINATED, 0,
                                                                ["K1", "K2"], [5, 20], [0, 0], [])))
    for s in (1, 2, 3):
        rep(s, T0 + s * 60000)
    rep(3, T0 + 3 * 60000)  # QoS 1 duplicate
    rep(7, T0 + 7 * 60000)  # 4, 5, 6 lost
    rep(1, T0 + 8 * 60000)  # controller restarted
    bus.publish("ampelwerk/J1/report", b"garbage")
    r = svc.links["J1"].reports
    assert (r.received, r.lost, r.duplicates, r.restarts, r.gaps) == (5, 3, 1, 1, [(4, 6)])
    assert svc.counters["malformed"] == 1
    f = r.flows_vph(T0 + 8 * 60000)
    assert f == {"K1": 5 * 60.0, "K2": 20 * 60.0}


def test_unreadable_state_file_is_kept_aside_and_seqs_continue_from_the_clock(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"format": "ampelwerk-coordinator-state/1", "seq": {"J1": ')  # cut off by a crash
    svc, bus, keys, plans, clock = make(tmp_path)
    assert (tmp_path / "state.json.unreadable").read_text().endswith('"J1": ')
    assert sorted(svc.poll(T0)) == [(c, T0) for c in ["J1", "J2", "J3", "J4", "J5"]]
    assert json.loads(state.read_text())["seq"] == {c: T0 for c in ["J1", "J2", "J3", "J4", "J5"]}
    # a seq out of range in the file is dropped, the rest kept
    state.write_text(json.dumps({"format": "ampelwerk-coordinator-state/1", "seq": {"J1": 2 ** 64, "J2": T0 + 5}}))
    svc2, *_ = make(tmp_path)
    assert svc2.seqs.seq == {"J2": T0 + 5}


def test_corridor_timings_are_recomputed_spread_over_the_period(arterial_dir):
    # two corridors: the first poll computes both; then each is recomputed once a period, the
    # second half a period after the first, so a process never stalls for all corridors at once
    from tests.coordinator.test_shards import split_arterial

    corridors = load_corridors(split_arterial(arterial_dir / "corridor.json"))
    svc = CoordinatorService(corridors, keys_for([i for c in corridors for i in c.controller_ids()]),
                             InProcessBus().publish, CoordinatorOptions(compute_period_ms=300000))
    computed = []
    inner = svc._compute_corridor
    svc._compute_corridor = lambda cs, flows: computed.append(cs.corridor.id) or inner(cs, flows)
    svc.poll(T0)
    assert sorted(computed) == ["east", "west"]
    for t_s, expected in ((299, []), (300, ["west"]), (449, []), (450, ["east"]), (599, []), (600, ["west"]),
                          (750, ["east"])):
        computed.clear()
        svc.poll(T0 + t_s * 1000)
        assert computed == expected, t_s
    computed.clear()
    svc.poll(T0 + 2000 * 1000)  # a process that stalled for many periods catches up once, not in a burst
    assert sorted(computed) == ["east", "west"]
    svc.poll(T0 + 2001 * 1000)
    assert sorted(computed) == ["east", "west"]
