# No-activity diagnostics that tell an idle lane from a dead loop
# (docs/core.md, "Detector diagnostics"): a loop on an approach is dead only
# when the other loops on its lane counted traffic it did not see; an idle one
# is suspect only past its role's idle limit, and is answered with a call,
# never a max recall. Portable: plain asserts, runs under MicroPython too.
from controller.events import codes as ev
from controller.compat import SMALL_INT_MAX
from controller.detection.diagnostics import FAULT_IDLE, FAULT_NO_ACTIVITY, FAULT_NONE
from controller.intersection import RECALL_MAX, RECALL_MIN, RECALL_NONE
from tests.controller.core_support import Recorder, controller, two_group_raw

NO_ACTIVITY_MS = 120000
IDLE_STOP_BAR_MS = 600000
IDLE_POCKET_MS = 900000

# loop indices (config order)
THROUGH_STOP = 0
THROUGH_ADV = 1
POCKET_STOP = 2
POCKET_ADV = 3
EAST_STOP = 4
EAST_ADV = 5
SECOND_STOP = 6  # a second lane of the north approach (idle_lanes_raw(second_lane=True))
SECOND_ADV = 7


def idle_lanes_raw(second_lane=False, placed=True):
    # Group A: the north approach, a through lane (n0) and a left-turn pocket
    # (n1), both calling and extending A, as the SUMO import lays them out on
    # nets where a pocket shares its approach's group; group B: the east
    # approach, one lane. placed=False: the same loops on no approach.
    raw = two_group_raw()
    dets = [
        {"id": "n0_stop", "group": "A", "kind": "stop_bar", "approach": "north", "lane": "n0"},
        {"id": "n0_adv", "group": "A", "kind": "advance", "distance_m": 40, "approach": "north", "lane": "n0"},
        {"id": "n1_stop", "group": "A", "kind": "stop_bar", "approach": "north", "lane": "n1", "turn_pocket": True},
        {"id": "n1_adv", "group": "A", "kind": "advance", "distance_m": 30, "approach": "north", "lane": "n1",
         "turn_pocket": True},
        {"id": "e0_stop", "group": "B", "kind": "stop_bar", "approach": "east", "lane": "e0"},
        {"id": "e0_adv", "group": "B", "kind": "advance", "distance_m": 40, "approach": "east", "lane": "e0"},
    ]
    if second_lane:
        dets.append({"id": "n2_stop", "group": "A", "kind": "stop_bar", "approach": "north", "lane": "n2"})
        dets.append({"id": "n2_adv", "group": "A", "kind": "advance", "distance_m": 40, "approach": "north",
                     "lane": "n2"})
    if not placed:
        for d in dets:
            for name in ("approach", "lane", "turn_pocket"):
                d.pop(name, None)
    raw["detectors"] = dets
    raw["detector_diagnostics"] = {
        "no_activity_ms": NO_ACTIVITY_MS, "max_presence_ms": 0, "erratic_counts_per_min": 0,
        "witness_count": 5, "idle_stop_bar_ms": IDLE_STOP_BAR_MS, "idle_advance_ms": IDLE_STOP_BAR_MS,
        "idle_turn_pocket_ms": IDLE_POCKET_MS,
    }
    return raw


def _vehicle(t, pres, adv, stop, every_ms, offset_ms=0):
    # a vehicle every every_ms: over the advance loop, then 3 s later over the stop bar
    k = (t - offset_ms) % every_ms
    if adv >= 0:
        pres[adv] = 1 if 0 <= k < 500 else 0
    if stop >= 0:
        pres[stop] = 1 if 3000 <= k < 3500 else 0


def _witnessed(ctl, i):
    # vehicles the other loops on loop i's lane counted since its own last actuation
    det = ctl.detectors
    return (det.lane_rises[det.lane[i]] - det.lane_rises_at_rise[i]) & SMALL_INT_MAX


def _fault_events(ctl, detector):
    return [c for _, c, p in ctl.drain_events() if p == detector + 1 and c in (
        ev.DETECTOR_FAULT_NO_ACTIVITY, ev.DETECTOR_RESTORED, ev.DETECTOR_FAULT_MAX_PRESENCE)]


def test_idle_pocket_beside_busy_through_traffic_is_not_a_dead_loop():
    # Through traffic all along the north approach, nobody turns left: the
    # pocket's loops are idle, not dead. The classic check (the same loops on
    # no approach) fails them at no_activity_ms and puts A on max recall; on
    # the approach they stay working until the pocket's idle limit, and then
    # A gets a call, not a max recall.
    def traffic(t, pres):
        _vehicle(t, pres, THROUGH_ADV, THROUGH_STOP, 6000)
        _vehicle(t, pres, EAST_ADV, EAST_STOP, 9000, 2000)

    classic = controller(idle_lanes_raw(placed=False))
    Recorder(classic).run(NO_ACTIVITY_MS + 5000, traffic)
    assert classic.diagnostics.fault[POCKET_STOP] == FAULT_NO_ACTIVITY
    assert classic.demand.recall[0] == RECALL_MAX

    ctl = controller(idle_lanes_raw())
    rec = Recorder(ctl).run(IDLE_POCKET_MS - 5000, traffic)
    diag = ctl.diagnostics
    assert _witnessed(ctl, POCKET_STOP) == 0  # its own lane saw nothing: nothing says traffic reaches it
    assert _witnessed(ctl, THROUGH_STOP) <= 1 and _witnessed(ctl, EAST_STOP) <= 1
    assert list(diag.fault) == [FAULT_NONE] * 6
    assert ctl.demand.recall[0] == RECALL_NONE
    ctl.drain_events()
    rec.run(10000, traffic)
    assert diag.fault[POCKET_STOP] == FAULT_IDLE and diag.fault[POCKET_ADV] == FAULT_IDLE
    assert diag.fault[THROUGH_STOP] == FAULT_NONE
    assert ctl.demand.recall[0] == RECALL_MIN  # a call, served with min green and extended by the working loops
    assert ctl.demand.recall[1] == RECALL_NONE
    assert not ctl.flashing


def test_dead_stop_bar_on_a_busy_lane_is_still_found_at_no_activity():
    # The through lane's advance loop counts vehicles that never reach its
    # stop bar: the stop bar is dead, found when no_activity_ms runs out.
    # The lane's advance loop still measures its traffic, so A gets a call,
    # not a max recall.
    def traffic(t, pres):
        _vehicle(t, pres, THROUGH_ADV, -1, 6000)
        _vehicle(t, pres, EAST_ADV, EAST_STOP, 9000, 2000)

    ctl = controller(idle_lanes_raw())
    rec = Recorder(ctl).run(NO_ACTIVITY_MS - 2000, traffic)
    diag = ctl.diagnostics
    assert diag.fault[THROUGH_STOP] == FAULT_NONE
    assert _witnessed(ctl, THROUGH_STOP) >= 5
    rec.run(3000, traffic)
    assert diag.fault[THROUGH_STOP] == FAULT_NO_ACTIVITY
    assert ev.DETECTOR_FAULT_NO_ACTIVITY in _fault_events(ctl, THROUGH_STOP)
    assert ctl.demand.recall[0] == RECALL_MIN
    # the pocket saw nothing either, but nothing witnessed that: still working
    assert diag.fault[POCKET_STOP] == FAULT_NONE


def test_a_lane_whose_loops_both_died_beside_a_busy_lane_is_suspect_at_its_idle_limit():
    # Two through lanes on the north approach; n2 sees nothing while n0
    # carries traffic. Neighbouring lanes are no witnesses (drivers keep to
    # one lane; on the suite's nets lanes saw nothing for half an hour beside
    # lanes that counted hundreds), so n2 is only idle: suspect at its idle
    # limit, answered with a call.
    def traffic(t, pres):
        _vehicle(t, pres, THROUGH_ADV, THROUGH_STOP, 5000)
        _vehicle(t, pres, EAST_ADV, EAST_STOP, 9000, 2000)

    ctl = controller(idle_lanes_raw(second_lane=True))
    rec = Recorder(ctl).run(IDLE_STOP_BAR_MS - 5000, traffic)
    diag = ctl.diagnostics
    assert diag.fault[SECOND_STOP] == FAULT_NONE and diag.fault[SECOND_ADV] == FAULT_NONE
    rec.run(10000, traffic)
    assert diag.fault[SECOND_STOP] == FAULT_IDLE and diag.fault[SECOND_ADV] == FAULT_IDLE
    assert ctl.demand.recall[0] == RECALL_MIN


def test_a_dead_loop_whose_lane_nothing_else_extends_keeps_the_max_recall():
    # n0's advance loop only counts (extend false): when n0's stop bar dies,
    # nothing measures the lane's queue for the green, so max recall stays
    raw = idle_lanes_raw()
    raw["detectors"][THROUGH_ADV]["extend"] = False

    def traffic(t, pres):
        _vehicle(t, pres, THROUGH_ADV, -1, 5000)
        _vehicle(t, pres, EAST_ADV, EAST_STOP, 9000, 2000)

    ctl = controller(raw)
    Recorder(ctl).run(NO_ACTIVITY_MS + 3000, traffic)
    assert ctl.diagnostics.fault[THROUGH_STOP] == FAULT_NO_ACTIVITY
    assert ctl.demand.recall[0] == RECALL_MAX


def test_a_whole_idle_approach_is_suspect_only_past_its_idle_limit_and_still_served():
    # Nothing comes from the east, the north is busy: B's loops see no
    # vehicle and have no witness that saw one. Not a fault at no_activity_ms;
    # past the stop bar's idle limit a call (an approach whose loops all died
    # looks the same, and its vehicles must not wait for ever), served with
    # min green, never a max recall.
    def traffic(t, pres):
        _vehicle(t, pres, THROUGH_ADV, THROUGH_STOP, 4000)
        _vehicle(t, pres, POCKET_ADV, POCKET_STOP, 30000, 1000)

    ctl = controller(idle_lanes_raw())
    rec = Recorder(ctl).run(IDLE_STOP_BAR_MS - 5000, traffic)
    diag = ctl.diagnostics
    assert diag.fault[EAST_STOP] == FAULT_NONE and diag.fault[EAST_ADV] == FAULT_NONE
    assert ctl.demand.recall[1] == RECALL_NONE
    start = rec.time_ms
    rec.run(120000, traffic)
    assert diag.fault[EAST_STOP] == FAULT_IDLE and diag.fault[EAST_ADV] == FAULT_IDLE
    assert ctl.demand.recall[1] == RECALL_MIN
    # B is served, briefly: greens of its min green (6 s; max green 25 s), gapping out at once
    changes = [(t, s) for t, s in rec.changes(1) if t > start + 10000]
    greens = [changes[k + 1][0] - changes[k][0] for k in range(len(changes) - 1) if changes[k][1] == "G"]
    assert len(greens) >= 2
    assert max(greens) <= 6000 + 200


def test_an_actuation_restores_an_idle_loop():
    def quiet_east(t, pres):
        _vehicle(t, pres, THROUGH_ADV, THROUGH_STOP, 4000)
        if t > IDLE_STOP_BAR_MS + 60000:
            _vehicle(t, pres, EAST_ADV, EAST_STOP, 20000)

    ctl = controller(idle_lanes_raw())
    rec = Recorder(ctl).run(IDLE_STOP_BAR_MS + 30000, quiet_east)
    assert ctl.diagnostics.fault[EAST_STOP] == FAULT_IDLE
    ctl.drain_events()
    rec.run(60000, quiet_east)
    assert ctl.diagnostics.fault[EAST_STOP] == FAULT_NONE and ctl.diagnostics.fault[EAST_ADV] == FAULT_NONE
    assert ctl.demand.recall[1] == RECALL_NONE
    assert _fault_events(ctl, EAST_STOP) == [ev.DETECTOR_RESTORED]


def test_an_idle_loop_turns_dead_when_its_lane_brings_traffic_it_misses():
    # The pocket is idle past its limit (suspect); then left turners come
    # over its advance loop but its stop bar stays silent: now it is dead
    # (event 85 again). Its lane's advance loop measures the pocket, so the
    # response stays a call.
    def traffic(t, pres):
        _vehicle(t, pres, THROUGH_ADV, THROUGH_STOP, 4000)
        if t > IDLE_POCKET_MS + 20000:
            _vehicle(t, pres, POCKET_ADV, -1, 10000)

    ctl = controller(idle_lanes_raw())
    rec = Recorder(ctl).run(IDLE_POCKET_MS + 10000, traffic)
    diag = ctl.diagnostics
    assert diag.fault[POCKET_STOP] == FAULT_IDLE
    ctl.drain_events()
    rec.run(45000, traffic)  # three left turners: not yet the witness count (5)
    assert diag.fault[POCKET_STOP] == FAULT_IDLE and diag.fault[POCKET_ADV] == FAULT_NONE
    rec.run(30000, traffic)  # three more
    assert diag.fault[POCKET_STOP] == FAULT_NO_ACTIVITY
    assert _fault_events(ctl, POCKET_STOP) == [ev.DETECTOR_FAULT_NO_ACTIVITY]
    assert ctl.demand.recall[0] == RECALL_MIN
