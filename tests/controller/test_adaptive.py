# Adaptive strategy and queue estimation from stop-bar and advance loops.
from tests.controller.core_support import Recorder, controller, two_group_raw


def _raw(**adaptive):
    raw = two_group_raw(strategy="adaptive")
    raw["detectors"] = [
        {"id": "dA", "group": "A", "kind": "stop_bar"},
        {"id": "dAa", "group": "A", "kind": "advance", "distance_m": 42},
        {"id": "dB", "group": "B", "kind": "stop_bar"},
        {"id": "dBa", "group": "B", "kind": "advance", "distance_m": 42},
    ]
    raw["signal_groups"][0]["max_green_ms"] = 90000
    raw["signal_groups"][1]["max_green_ms"] = 90000
    raw["adaptive"] = adaptive
    return raw


def _pulse(t, period, width, start=0, stop=10 ** 9):
    return 1 if start <= t < stop and (t - start) % period < width else 0


def test_queue_counts_vehicles_between_the_loops_during_red():
    ctl = controller(_raw())

    def arrivals(t, pres):
        # B is red from startup (A rests in green); 6 vehicles cross B's advance loop
        pres[3] = _pulse(t, 2000, 300, 20000, 32000)

    rec = Recorder(ctl).run(21000, arrivals)
    q = ctl.strategy.queues
    assert q.between[1] == 1
    rec.run(11000, arrivals)
    assert q.between[1] == 6 and q.estimate[1] >= 6


def test_spillback_over_the_advance_loop_raises_the_estimate():
    ctl = controller(_raw(spill_ms=2000))

    def standing(t, pres):
        pres[3] = 1 if t >= 20000 else 0  # a queue standing on B's advance loop

    rec = Recorder(ctl).run(19000, standing)
    q = ctl.strategy.queues
    assert q.estimate[1] == 0
    rec.run(6000, standing)
    assert q.estimate[1] >= q.capacity[1] // 2 + 1


def test_stream_in_transit_yields_to_a_long_queue_with_gap_reduction():
    def traffic(t, pres):
        # A: a steady stream, one vehicle every 1800 ms over the advance loop,
        # reaching the stop bar 4200 ms later (42 m at 10 m/s): always one in transit
        pres[1] = _pulse(t, 1800, 300)
        pres[0] = _pulse(t, 1800, 300, 4200)
        # B: 12 vehicles arrive over its advance loop after 30 s; one stands on the stop bar
        pres[3] = _pulse(t, 1000, 300, 30000, 42000)
        pres[2] = 1 if t >= 32000 else 0

    adaptive = Recorder(controller(_raw(gap_reduction_ms_per_veh=250))).run(160000, traffic)
    b_green = [t for t, s in adaptive.changes(1) if s == "G"]
    # A's passage shrinks as B's queue grows; its 1500 ms gaps at the advance loop end it
    assert b_green and b_green[0] < 45000
    actuated_raw = _raw()
    actuated_raw["strategy"] = "actuated"
    actuated = Recorder(controller(actuated_raw)).run(160000, traffic)
    b_green_actuated = [t for t, s in actuated.changes(1) if s == "G"]
    assert b_green_actuated[0] > 32000 + 90000  # actuated waits for A's max-out


def test_no_group_waits_longer_than_max_wait():
    def traffic(t, pres):
        pres[0] = _pulse(t, 1500, 300)
        pres[1] = _pulse(t, 1500, 300)
        pres[2] = 1 if t >= 20000 else 0  # one car waiting on B, nothing else

    rec = Recorder(controller(_raw(max_wait_ms=30000, gap_reduction_ms_per_veh=0))).run(120000, traffic)
    b_green = [t for t, s in rec.changes(1) if s == "G"][0]
    # called at 20 s, waits at most 30 s, then the 5 s intergreen
    assert 20000 + 30000 <= b_green <= 20000 + 30000 + 5000 + 200


def test_failed_loops_still_serve_every_group():
    raw = _raw()
    raw["detector_diagnostics"] = {"no_activity_ms": 60000}

    def only_a(t, pres):
        pres[0] = _pulse(t, 3000, 500)
        pres[1] = _pulse(t, 3000, 500)
        # B's loops are dead: never an actuation

    rec = Recorder(controller(raw)).run(400000, only_a)
    b_greens = [t for t, s in rec.changes(1) if s == "G" and t > 60000]
    assert len(b_greens) >= 3


def _left_turn_raw(permissive):
    # O: opposing through; L: left turn, shown permissive with O in S1 (if `permissive`),
    # protected alone in S2; C: cross street in S3. Free sequence.
    timing = {"min_green_ms": 5000, "max_green_ms": 40000, "passage_ms": 2000, "yellow_ms": 3000,
              "red_clearance_ms": 1000}
    raw = two_group_raw(strategy="adaptive")
    raw["signal_groups"] = []
    for g in ("O", "L", "C"):
        group = {"id": g}
        group.update(timing)
        raw["signal_groups"].append(group)
    raw["conflicts"] = [["C", "L"], ["C", "O"]]
    raw["intergreen_ms"] = {"O": {"C": 4000}, "L": {"C": 4000}, "C": {"O": 4000, "L": 4000}}
    raw["stages"] = [{"id": "S1", "groups": ["O", "L"]}, {"id": "S2", "groups": ["L"]}, {"id": "S3", "groups": ["C"]}]
    if permissive:
        raw["stages"][0]["permissive"] = ["L"]
    raw["sequence"] = {"mode": "free", "order": ["S1", "S2", "S3"]}
    raw["detectors"] = []
    for g in ("O", "L", "C"):
        raw["detectors"].append({"id": "d" + g, "group": g, "kind": "stop_bar"})
        raw["detectors"].append({"id": "d" + g + "a", "group": g, "kind": "advance", "distance_m": 40})
    del raw["fixed_time"]
    return raw


def _protected_left_greens(rec):
    # times at which L turned green, or stayed green, while O was not green
    return [t for t, s in rec.trace if s[1] == "G" and s[0] != "G"]


def test_a_waiting_permissive_left_gets_its_protected_stage():
    def traffic(t, pres):
        pres[0] = pres[1] = _pulse(t, 1500, 700)  # O: a dense stream, no gap for the left
        pres[2] = 1 if t >= 20000 else 0  # L: a car waits for a gap on the stop bar ...
        pres[3] = _pulse(t, 2000, 300, 20000, 36000)  # ... and 8 more arrive behind it
        pres[4] = 1 if t >= 30000 else 0  # C: one car waiting

    marked = Recorder(controller(_left_turn_raw(True))).run(150000, traffic)
    assert _protected_left_greens(marked)
    unmarked = Recorder(controller(_left_turn_raw(False))).run(150000, traffic)
    assert not _protected_left_greens(unmarked)  # before: the left's queue counted for no stage while green


def test_a_blocked_permissive_left_does_not_hold_its_stage():
    def traffic(t, pres):
        pres[0] = pres[1] = _pulse(t, 1500, 700, 0, 30000)  # O: a stream until 30 s, then nothing
        pres[2] = 1 if t >= 10000 else 0  # L: a car standing on the stop bar
        pres[4] = 1 if t >= 20000 else 0  # C: one car waiting

    def o_yellow(raw):
        rec = Recorder(controller(raw)).run(120000, traffic)
        return [t for t, s in rec.changes(0) if s == "Y"][0]

    assert o_yellow(_left_turn_raw(True)) < 30000 + 5000  # ends with O's gap-out
    assert o_yellow(_left_turn_raw(False)) >= 30000 + 20000  # held by the left's loop towards max green


class _LeftTurnStreet:
    # Loops of _left_turn_raw from a small traffic model that answers the signals:
    # O, an unbroken stream (no gap for the left); L, a queue of 6 lefts that leave one
    # every 2 s while L is green and O is not (never while O flows); C, a queue that
    # outweighs L's from the start. dO, dOa, dL, dLa, dC, dCa = presence[0..5].
    def __init__(self, ctl, c_from_ms=15000):
        self.ctl = ctl
        self.lefts = 6
        self.c_from_ms = c_from_ms
        self.served_ms = 0

    def __call__(self, t, pres):
        out = self.ctl.outputs
        pres[0] = pres[1] = _pulse(t, 1500, 700)
        protected = out[1] == 2 and out[0] != 2  # GREEN: signal_states.GREEN
        if protected and self.lefts:
            self.served_ms += 100
            if self.served_ms == 1700:
                self.lefts -= 1  # over the line: off the stop bar until the next pulls up
            if self.served_ms >= 2000:
                self.served_ms = 0
        pres[2] = 1 if t >= 20000 and self.lefts and self.served_ms < 1700 else 0
        pres[3] = _pulse(t, 2000, 300, 16000, 16000 + 2000 * 6)  # the lefts over L's advance loop
        pres[4] = 1 if t >= self.c_from_ms else 0
        pres[5] = _pulse(t, 1000, 300, self.c_from_ms, self.c_from_ms + 1000 * 14)


def _left_in(raw, pocket):
    # L's loops on a lane of its own (a turn pocket), or on a lane shared with O's through traffic
    for d in raw["detectors"]:
        if d["group"] == "L":
            d.update({"approach": "south", "lane": "south_1", "turn_pocket": pocket})
    return raw


def _o_yellow_with_a_blocked_left(pocket):
    raw = _left_in(_left_turn_raw(True), pocket)
    raw["adaptive"] = {"max_wait_ms": 30000}
    ctl = controller(raw)
    rec = Recorder(ctl).run(150000, _LeftTurnStreet(ctl, c_from_ms=25000))
    return rec, [t for t, s in rec.changes(0) if s == "Y"][0]


def test_a_blocked_left_waits_no_longer_than_max_wait_while_green():
    rec, o_yellow = _o_yellow_with_a_blocked_left(True)
    # its loop on since 20 s: S1 is forced off when that wait reaches 30 s, before C's
    # call (from 25 s) reaches it and long before the O stream's max-out (65 s)
    assert 20000 + 30000 <= o_yellow <= 20000 + 30000 + 500
    assert _protected_left_greens(rec)[0] < [t for t, s in rec.changes(2) if s == "G"][0]


def test_a_left_on_a_shared_lane_keeps_no_wait_through_green():
    # on a lane shared with through traffic a protected left cannot clear the lane (the head
    # vehicle may go straight on): its wait restarts with its call, so S1 runs until C's wait
    # (from 25 s) forces it off, not the left's
    rec, o_yellow = _o_yellow_with_a_blocked_left(False)
    assert o_yellow >= 25000 + 30000


def _left_first(pocket):
    ctl = controller(_left_in(_left_turn_raw(True), pocket))
    street = _LeftTurnStreet(ctl)
    rec = Recorder(ctl).run(150000, street)
    return street, _protected_left_greens(rec), [t for t, s in rec.changes(2) if s == "G"]


def test_a_pocket_left_blocked_when_its_permissive_stage_ends_gets_its_protected_stage_next():
    street, protected, c_green = _left_first(True)
    # C's queue is the larger one, yet the left, blocked all through S1, goes first: it
    # stays green into S2, where after C it would wait a whole S3 and cost an intergreen
    assert protected and c_green and protected[0] < c_green[0]
    # and S2 holds while the left's queue leaves, though L stays green into S1 after it
    assert street.lefts == 0 and c_green[0] > protected[0] + 6 * 2000


def test_a_left_on_a_shared_lane_waits_behind_the_larger_queue():
    # on a shared lane the protected stage may not move the head vehicle: C goes first
    street, protected, c_green = _left_first(False)
    assert c_green and (not protected or c_green[0] < protected[0])
