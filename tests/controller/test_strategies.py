# Fixed-time and actuated strategies: cycle, gap-out, max-out, skipping, rest, pedestrians.
from controller.events import codes as ev
from tests.controller.core_support import Recorder, controller, example_raw, two_group_raw


def test_fixed_time_cycle_and_splits():
    ctl = controller(two_group_raw(strategy="fixed"))
    rec = Recorder(ctl).run(300000)
    a_green = [t for t, s in rec.changes(0) if s == "G"]
    b_green = [t for t, s in rec.changes(1) if s == "G"]
    gaps = [b - a for a, b in zip(a_green[1:], a_green[2:])]
    assert gaps and set(gaps) == {40000}
    # split of S1 = 20000 ms from A's green start to B's green start
    later = [b for b in b_green if b > a_green[2]][0]
    assert later - a_green[2] == 20000
    # offset: A's green starts offset_ms (0) into each cycle counted from power-up
    assert a_green[2] % 40000 == 0


def test_fixed_time_offset_shifts_green():
    raw = two_group_raw(strategy="fixed")
    raw["fixed_time"]["offset_ms"] = 12000
    rec = Recorder(controller(raw)).run(300000)
    a_green = [t for t, s in rec.changes(0) if s == "G"]
    assert a_green[-1] % 40000 == 12000


def test_actuated_gap_out_within_passage_time():
    ctl = controller(two_group_raw())

    def traffic(t, pres):
        # A: one vehicle every 1500 ms until 40 s (extends), B always calling after 30 s
        # (so A's max timer would only run out at 50 s)
        pres[0] = 1 if t < 40000 and t % 1500 < 300 else 0
        pres[1] = 1 if t > 30000 else 0

    rec = Recorder(ctl).run(60000, traffic)
    a_changes = rec.changes(0)
    end_green = [t for t, s in a_changes if s == "Y"][0]
    # last actuation on dA ends at the last 300 ms pulse before 40 s: 39000+300; passage 2000 ms
    assert 41300 <= end_green <= 41300 + 200
    assert any(c == ev.PHASE_GAP_OUT and p == 1 for _, c, p in ctl.drain_events())


def test_actuated_max_out_under_continuous_demand():
    ctl = controller(two_group_raw())

    def saturated(t, pres):
        pres[0] = 1 if t % 1000 < 500 else 0
        pres[1] = 1 if t % 1000 < 500 else 0

    rec = Recorder(ctl).run(200000, saturated)
    greens_a = rec.intervals(0, "G")
    # max timer starts with B's call (immediately), A's max green is 20000 ms
    assert greens_a[1:] and max(greens_a[1:]) == 20000
    assert max(rec.intervals(1, "G")) == 25000
    assert any(c == ev.PHASE_MAX_OUT for _, c, _ in ctl.drain_events())


def test_actuated_rests_in_green_without_demand_and_serves_a_new_call():
    ctl = controller(two_group_raw())

    def one_call(t, pres):
        pres[1] = 1 if 100000 <= t < 100400 else 0

    rec = Recorder(ctl).run(140000, one_call)
    b_greens = [t for t, s in rec.changes(1) if s == "G"]
    assert len(b_greens) == 1 and 100000 < b_greens[0] <= 100000 + 5000 + 200
    assert rec.changes(0)[2][1] == "G"  # A rested in green from startup until the call


def test_actuated_skips_stage_without_demand():
    raw = example_raw()
    ctl = controller(raw)
    ix = ctl.ix
    k6, k8 = ix.group_ids.index("K6"), ix.group_ids.index("K8")
    dets = [ix.detector_ids.index(d) for d in ("D5s", "D7s", "D2s", "D4s")]

    def no_east_west_lefts(t, pres):
        on = 1 if t % 2000 < 400 else 0
        for d in dets:
            pres[d] = on

    rec = Recorder(ctl).run(600000, no_east_west_lefts)
    assert not any(s[k6] == "G" or s[k8] == "G" for _, s in rec.trace)
    k5 = ix.group_ids.index("K5")
    assert len([1 for t, s in rec.changes(k5) if s == "G"]) >= 5


def test_actuated_serves_pedestrian_call():
    ctl = controller(example_raw())
    ix = ctl.ix
    p2 = ix.group_ids.index("P2")
    pb2 = ix.detector_ids.index("PB2")

    def press(t, pres):
        pres[pb2] = 1 if 30000 <= t < 30300 else 0

    rec = Recorder(ctl).run(200000, press)
    walks = [t for t, s in rec.changes(p2) if s == "G"]
    assert len(walks) == 1 and walks[0] > 30000
    assert rec.intervals(p2, "G")[0] >= 7000


def test_free_sequence_serves_longest_waiting_call_first():
    raw = example_raw()
    raw["sequence"] = {"mode": "free"}
    ctl = controller(raw)
    ix = ctl.ix
    d6, d2 = ix.detector_ids.index("D6s"), ix.detector_ids.index("D2s")
    k6, k2 = ix.group_ids.index("K6"), ix.group_ids.index("K2")

    def calls(t, pres):
        pres[d6] = 1 if 40000 <= t < 40300 else 0  # east left calls first
        pres[d2] = 1 if 41000 <= t < 41300 else 0  # then north left

    rec = Recorder(ctl).run(120000, calls)
    g6 = [t for t, s in rec.changes(k6) if s == "G"][0]
    g2 = [t for t, s in rec.changes(k2) if s == "G"][0]
    assert g6 < g2
