"""Plan computation checked by hand: Webster cycle, splits, two-intersection bandwidth, hysteresis."""

from __future__ import annotations

import json
import random
from pathlib import Path

from controller.coordination.messages import MODE_FREE, Report, encode_report

from coordinator.corridor_plan import compute_splits, compute_timing
from coordinator.corridors import load_corridors
from coordinator.cycle_splits import Timing, intersection_splits
from coordinator.hysteresis import TimingHysteresis
from coordinator.offsets import alternating_offsets, bandwidths, maximise_bandwidth, one_way_offsets, \
    through_green_ms
from coordinator.service import CoordinatorOptions, CoordinatorService
from tests.coordinator.conftest import DATA, keys_for


def two_intersections(tmp_path: Path, cycle=(20000, 150000), length_m=300.0, speed=15.0):
    raw = {"format": "ampelwerk-corridor/1", "corridors": [{
        "id": "pair", "cycle_ms": {"min": cycle[0], "max": cycle[1]}, "main_direction": "forward",
        "intersections": [{"controller": j, "config": str(DATA / "arterial5" / (j + ".json")),
                           "coordinated_stage": "S1", "through_groups": {"forward": ["K2"], "backward": ["K2"]}}
                          for j in ("J1", "J2")],
        "links": [{"length_m": length_m, "speed_mps": speed}]}]}
    p = tmp_path / "pair.json"
    p.write_text(json.dumps(raw))
    return load_corridors(p)[0]


def test_webster_cycle_and_splits_by_hand(tmp_path):
    c = two_intersections(tmp_path)
    # J1: K2 (4 stop-bar lanes) 1440 veh/h -> y 0.2; K1 (2 lanes) 540 -> 0.15; Y 0.35, L 10 s
    # C0 = (1.5*10 + 5)/(1 - 0.35) = 30.77 s -> 31 s
    flows = {"J1": {"K2": 1440.0, "K1": 540.0}, "J2": {"K2": 1440.0, "K1": 180.0}}
    choice, timings = compute_splits(c, flows, split_rule="slack-to-main", cycle_span=1)
    assert choice.critical == "J1" and abs(choice.webster_ms - 20000 / 0.65) < 1e-6
    assert choice.cycle_ms == 31000 and choice.lost_time_ms == 10000
    # X = 0.35*31/21; side green = 0.15*31/X = 9 s (+5 s transition); the rest to S1: green 12 s = 0.2*31/X
    assert timings[0] == Timing(31000, ["S1", "S2"], [17000, 14000])
    # J2: side needs 0.05*31/X = 3 s, below its 5 s minimum -> 5 s; slack to the coordinated stage
    assert timings[1] == Timing(31000, ["S1", "S2"], [21000, 10000])
    # equal saturation (default rule): the 11 s above the 5 s minimums shared 0.2 : 0.05 at J2 -> 8 s : 2 s,
    # the whole-second remainder (1 s) to the coordinated stage: greens 14 s and 7 s
    choice, timings = compute_splits(c, flows, cycle_span=1)
    assert timings[1] == Timing(31000, ["S1", "S2"], [19000, 12000]) and timings[0].split_ms == [17000, 14000]
    # bounds: a 60 s floor wins over Webster; oversaturation runs the longest cycle
    c60 = two_intersections(tmp_path, cycle=(60000, 120000))
    assert compute_splits(c60, flows, cycle_span=1)[0].cycle_ms == 60000
    jam = {"J1": {"K2": 7000.0, "K1": 3000.0}}
    choice, timings = compute_splits(c60, jam)
    assert choice.cycle_ms == 120000 and choice.webster_ms is None
    assert all(sum(t.split_ms) == 120000 for t in timings)
    # no counts at all: shortest allowed cycle, equal shares above the minimums
    choice, timings = compute_splits(c60, {})
    assert choice.cycle_ms == 60000 and not choice.measured and timings[0].split_ms == [30000, 30000]


def test_cycle_search_finds_the_two_way_band(tmp_path):
    # Same flows, Webster 31 s; cycles 31..46 s are tried. 300 m at 15 m/s = 20 s. At 45 s the
    # through greens are 20 s (J1) and 25 s (J2), and offset 20 s gives 20 s bands both ways: as wide
    # as J1's green, the most a band can be, in both directions -- 40 s of band per 45 s of cycle.
    c = two_intersections(tmp_path)
    flows = {"J1": {"K2": 1440.0, "K1": 540.0}, "J2": {"K2": 1440.0, "K1": 180.0}}
    t = compute_timing(c, flows)
    assert t.cycle.cycle_ms == 45000 and t.cycle.searched_to_ms == 46000 and t.cycle.webster_ms < 31000
    assert through_green_ms(c, t.timings, "forward") == [20000, 25000]
    assert t.offsets_ms == [0, 20000] and (t.bands.forward_ms, t.bands.backward_ms) == (20000, 20000)
    for cycle in range(31000, 47000, 1000):  # no cycle in the range does better per second of cycle
        tm = [intersection_splits(ci, cycle, flows[ci.controller_id], None) for ci in c.intersections]
        assert maximise_bandwidth(c, tm)[1].score / cycle <= 40000 / 45000 + 1e-9, cycle
    # no counts: no search, the shortest allowed cycle
    assert compute_timing(c, {}).cycle.cycle_ms == 20000


def test_two_intersection_bandwidth_by_hand(tmp_path):
    # 300 m at 15 m/s: 20 s travel. Cycle 60 s, through green 25 s at both (30 s split - 5 s intergreen).
    c = two_intersections(tmp_path)
    tm = [Timing(60000, ["S1", "S2"], [30000, 30000])] * 2
    gf = through_green_ms(c, tm, "forward")
    gb = through_green_ms(c, tm, "backward")
    assert gf == gb == [25000, 25000]

    def circ(a, b):
        d = abs(a - b) % 60000
        return min(d, 60000 - d)
    # forward band = 25 - |x - 20| s, backward band = 25 - |x - (-20)| s (circular), both floored at 0
    for x in range(0, 60000, 1000):
        b = bandwidths(c, [0, x], 60000, gf, gb)
        assert b.forward_ms == max(0, 25000 - circ(x, 20000)), x
        assert b.backward_ms == max(0, 25000 - circ(x, 40000)), x
    # the sum is 30 s for any x in 20..40 s; ties go to the main (forward) direction: x = 20 s
    offsets, bands = maximise_bandwidth(c, tm)
    assert offsets == [0, 20000] and (bands.forward_ms, bands.backward_ms) == (25000, 5000)
    assert one_way_offsets(c, 60000, "forward") == [0, 20000]
    assert one_way_offsets(c, 60000, "backward") == [0, 40000]
    simultaneous = bandwidths(c, [0, 0], 60000, gf, gb)
    assert (simultaneous.forward_ms, simultaneous.backward_ms) == (5000, 5000)
    assert alternating_offsets(c, 60000) == [0, 30000]


def test_hysteresis_class_needs_two_confirmations():
    h = TimingHysteresis(0.10, 2)
    t = lambda c, s1: [Timing(c, ["S1", "S2"], [s1, c - s1])]  # noqa: E731
    assert h.offer(t(60000, 30000))
    assert not h.offer(t(64000, 32000))  # within 10 %
    assert not h.offer(t(70000, 35000))  # differs once
    assert not h.offer(t(62000, 31000))  # back within: count reset
    assert not h.offer(t(70000, 35000))
    assert h.offer(t(71000, 35000))  # differs twice in a row: taken, latest one
    assert h.current[0].cycle_ms == 71000 and h.changes == 2


def test_service_does_not_flap_on_noise_and_follows_a_real_shift(tmp_path):
    c_path = tmp_path / "c.json"
    raw = json.loads((DATA / "arterial5" / "corridor.json").read_text())
    raw["corridors"][0]["cycle_ms"]["min"] = 20000
    for it in raw["corridors"][0]["intersections"]:
        it["config"] = str(DATA / "arterial5" / it["config"])
    c_path.write_text(json.dumps(raw))
    corridors = load_corridors(c_path)
    # Webster's cycle alone (no bandwidth search): the test is about hysteresis on it
    svc = CoordinatorService(corridors, keys_for(corridors[0].controller_ids()), lambda t, p, r: None,
                             CoordinatorOptions(cycle_span=1))
    rng = random.Random(7)
    seq = {cid: 0 for cid in svc.links}
    t0 = 1795333100000

    def minute(t, k2_mean, k1_mean):
        for cid in svc.links:
            seq[cid] += 1
            counts = [sum(1 for _ in range(k1_mean * 3) if rng.random() < 1 / 3),
                      sum(1 for _ in range(k2_mean * 3) if rng.random() < 1 / 3)]
            svc.on_message("ampelwerk/%s/report" % cid, encode_report(Report(
                cid, seq[cid], t, 60000, MODE_FREE, 0, ["K1", "K2"], counts, [0, 0], [])), t)
    cycles = []
    t = t0
    for m in range(150):  # 2.5 h steady demand (Y about 0.6 -> about 50 s), Poisson-like noise
        t += 60000
        minute(t, 42, 15)
        svc.poll(t)
        cycles.append(svc.corridors["arterial"].timing.cycle.cycle_ms)
    cs = svc.corridors["arterial"]
    assert cs.measured and cs.version == 2, cs.version  # no-data timing, then the first measured one: no flap
    steady = cycles[-1]
    assert 40000 <= steady <= 60000
    shift_at = t
    for m in range(30):  # main street +40 %: Y about 0.74 -> about 77 s
        t += 60000
        minute(t, 59, 15)
        svc.poll(t)
        if cs.timing.cycle.cycle_ms != steady and cs.version == 3:
            break
    assert cs.version == 3 and t - shift_at <= 15 * 60000, (cs.version, t - shift_at)
    assert cs.timing.cycle.cycle_ms > steady * 1.1


def test_busiest_lane_sets_the_side_split(tmp_path):
    # J1's side group K1 serves both side approaches, one stop-bar lane each. 540 veh/h in all,
    # 450 of them on one lane: the critical lane's ratio is 450/1800 = 0.25, not 540/3600 = 0.15.
    from coordinator.cycle_splits import busiest_lane_flows

    c = two_intersections(tmp_path)
    j1 = c.intersections[0]
    flows = {"K2": 1440.0, "K1": 540.0}
    lifted = busiest_lane_flows(j1, flows, {"K2": 360.0, "K1": 450.0})
    assert lifted == {"K2": 1440.0, "K1": 900.0}  # K2's lanes are even (4 x 360): unchanged
    assert busiest_lane_flows(j1, flows, None) == flows  # no loop counts: the counts as they are
    # Webster: Y 0.2 + 0.25 = 0.45 instead of 0.35, and the side stage gets the larger share
    both = {"J1": lifted, "J2": {"K2": 1440.0, "K1": 180.0}}
    choice, timings = compute_splits(c, both, cycle_span=1)
    assert choice.critical == "J1" and abs(choice.webster_ms - 20000 / 0.55) < 1e-6
    plain_choice, plain = compute_splits(c, {"J1": flows, "J2": both["J2"]}, cycle_span=1)
    side = timings[0].split_of("S2") / timings[0].cycle_ms
    plain_side = plain[0].split_of("S2") / plain[0].cycle_ms
    assert side > plain_side + 0.05


def test_service_takes_the_busiest_lane_from_reports(tmp_path):
    from controller.coordination.messages import MODE_FREE, Report

    c = two_intersections(tmp_path)
    svc = CoordinatorService([c], keys_for(["J1", "J2"]), lambda *a, **k: None, CoordinatorOptions())
    link = svc.links["J1"]
    for k in range(5):
        link.reports.add(Report("J1", k + 1, (k + 1) * 60000, 60000, MODE_FREE, 0, ["K1", "K2"], [9, 24],
                                [0, 0], [], loop_counts=[[8, 1], [6, 6, 6, 6]]), "free")
    f = svc.flows(c, 5 * 60000)["J1"]
    assert f["K1"] == 2 * 480.0 and f["K2"] == 1440.0
    off = CoordinatorService([c], keys_for(["J1", "J2"]), lambda *a, **k: None, CoordinatorOptions(busiest_lane=False))
    off.links["J1"].reports = link.reports
    assert off.flows(c, 5 * 60000)["J1"]["K1"] == 540.0
