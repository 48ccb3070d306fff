# Preemption and transit priority (controller/priority/): portable tests,
# run by pytest and by the real MicroPython interpreter.
from controller.config.validation import validate
from controller.events import priority_codes as ev
from controller.safety.signal_states import GREEN, YELLOW
from tests.controller.priority_support import BUS, EMS, RAIL, Run, loops, three_stage_raw


def _with(base, **kw):
    c = dict(base)
    for k in kw:
        c[k] = kw[k]
    return c


def _started(classes, holding=("dA", "dB", "dC"), strategy="actuated"):
    # A controller with the classes' loops, run until A's first green (9000 ms:
    # 2000 flash + 7000 all red, the longest intergreen)
    ids = [c["id"] for c in classes]
    r = Run(three_stage_raw({"classes": list(classes)} if classes else None, strategy=strategy,
                            extra_detectors=loops(*ids)))
    for d in holding:
        r.hold(d)
    r.run_until(9000)
    assert r.green_at["A"] == [9000]
    return r


def test_emergency_reaches_its_stage_as_fast_as_the_rules_allow():
    # A green since 9000 (min green 10000); the check-in at 10000. With
    # preempt_min_green_ms 3000, A may end at 9000 + 3000 = 12000, shows
    # yellow 3000, and B enters after the A->B intergreen of 5000 ms from
    # A's end of green: 17000 (without the preemption A holds its min green
    # and B comes no sooner than 9000 + 10000 + 5000 = 24000).
    r = _started([EMS])
    r.pulse("ems_in", 10000)
    r.run_until(11900)
    assert r.green("A")
    r.run_until(12000)
    assert r.ctl.outputs[0] == YELLOW
    r.run_until(17100)
    assert r.green_at["B"] == [17000]
    assert [t for t, _ in r.codes(ev.PREEMPT_CALL_INPUT_ON)] == [10000]
    assert [t for t, _ in r.codes(ev.PREEMPT_ENTRY_STARTED)] == [10000]
    assert r.codes(ev.PREEMPT_BEGIN_DWELL) == [(17100, 1)]


def test_without_priority_the_same_request_changes_nothing():
    # the loop-free config runs as before: B no sooner than min green + intergreen
    r = Run(three_stage_raw())
    r.hold("dA")
    r.hold("dB")
    r.run_until(60000)
    assert r.green_at["B"][0] >= 24000
    assert r.ctl.priority is None


def test_dwell_holds_while_the_request_holds_then_exits_through_the_exit_stage():
    r = _started([EMS])
    r.pulse("ems_in", 10000)
    r.pulse("ems_out", 40000)
    r.run_until(39900)
    assert r.green("B") and r.green_at["B"] == [17000]  # dwelt, though A and C wait
    r.run_until(60000)
    # B ends at 40000 (min green long held), yellow 4000, B->C intergreen 6000
    assert r.green_at["C"][0] == 46000
    assert r.codes(ev.PREEMPT_CALL_INPUT_OFF) == [(40000, 1)]
    assert r.codes(ev.PREEMPT_BEGIN_EXIT) == [(40000, 1)]
    assert r.ctl.priority.preemption.phase == 0  # handed back once the exit stage stood
    assert r.ctl.kernel.preempt_min_green_ms == -1


def test_max_dwell_ends_the_preemption_and_locks_the_class_out():
    r = _started([_with(EMS, max_dwell_ms=20000, request_timeout_ms=600000)])
    r.pulse("ems_in", 10000)
    r.run_until(60000)
    # dwell began at 17100, ended 20000 later
    assert r.codes(ev.PREEMPT_MAX_PRESENCE_EXCEEDED) == [(37100, 1)]
    assert r.first_green_after("C", 37100) > 0
    assert r.ctl.priority.requests.count[0] == 1  # still counted, but locked out
    entries = r.ctl.priority.preemption.entries
    r.run_until(120000)
    assert r.ctl.priority.preemption.entries == entries


def test_a_request_without_check_out_times_out():
    r = _started([_with(EMS, request_timeout_ms=30000, max_dwell_ms=0)])
    r.pulse("ems_in", 10000)
    r.run_until(80000)
    assert r.codes(ev.PREEMPT_CALL_INPUT_OFF) == [(40000, 1)]
    assert r.ctl.priority.requests.timeouts == 1
    assert r.codes(ev.PREEMPT_BEGIN_EXIT) == [(40000, 1)]


def test_requests_count_up_and_down():
    r = _started([EMS])
    r.pulse("ems_in", 10000)
    r.pulse("ems_in", 12000)
    r.pulse("ems_out", 30000)
    r.run_until(40000)
    assert r.ctl.priority.requests.count[0] == 1
    assert r.green("B")  # one still counted: still dwelling
    r.pulse("ems_out", 41000)
    r.run_until(42000)
    assert r.ctl.priority.requests.count[0] == 0
    assert not r.green("B")


def test_railroad_clears_the_track_first_and_is_not_interrupted_by_an_emergency():
    r = _started([EMS, RAIL])
    r.pulse("rail_in", 10000)
    r.pulse("ems_in", 12000)  # lower rank: waits
    r.pulse("rail_out", 60000)
    r.run_until(100000)
    # A ends at 9000 + 2000 (rail's preempt min green), B (track) at 11000 + 5000
    assert r.green_at["B"][0] == 16000
    assert r.codes(ev.PREEMPT_BEGIN_TRACK_CLEARANCE) == [(16100, 2)]
    # track clearance 15000 from 16100, then B ends (yellow 4000, B->C 6000): C dwell
    assert r.green_at["C"][0] == 31100 + 6000
    assert r.codes(ev.PREEMPT_BEGIN_DWELL)[0] == (37200, 2)
    assert r.first_green_after("C", 37100) > 60000 and r.first_green_after("B", 16000) > 60000  # not interrupted
    # the emergency is served once the railroad lets go
    entries = r.codes(ev.PREEMPT_ENTRY_STARTED)
    assert entries[0] == (10000, 2) and entries[1][1] == 1 and entries[1][0] >= 60000


def test_a_railroad_request_interrupts_an_emergency_dwell():
    r = _started([EMS, RAIL])
    r.pulse("ems_in", 10000)
    r.run_until(20000)
    assert r.green("B")  # emergency dwell in S2
    r.pulse("rail_in", 25000)
    r.run_until(25000 + 30000)
    assert (25000, 2) in r.codes(ev.PREEMPT_ENTRY_STARTED)
    # the track clearance stage is S2 itself, already green: its clearance time starts at once
    assert r.codes(ev.PREEMPT_BEGIN_TRACK_CLEARANCE)[0][0] == 25000


def test_the_kernel_takes_a_preemption_on_the_way_to_another_stage():
    # S1 -> S3 under way (A in yellow); an emergency for S2 redirects it: C never goes green
    r = _started([EMS], holding=("dA", "dC"))
    r.run_until(40000)
    kernel = r.ctl.kernel
    assert kernel.stage == 2 and not kernel.established
    r.pulse("ems_in", r.t + 100)
    r.run_until(r.t + 20000)
    assert "C" not in r.green_at
    assert r.green("B")


def test_transit_extension_is_held_up_to_max_extension():
    # B green at 44100 (A maxes out), the bus checks in during B's green; B's loop
    # is quiet, so the strategy leaves at min green (52100): held 10000 more
    def run(classes):
        r = _started(classes, holding=("dA", "dC"))
        r.pulse("dB", 9500)
        if classes:
            r.pulse("bus_in", 45000)
        r.run_until(90000)
        return r

    plain = run([])
    bus = run([BUS])
    assert plain.green_at["B"] == bus.green_at["B"] == [44100]
    plain_end = plain.first_green_after("C", 44100)
    bus_end = bus.first_green_after("C", 44100)
    assert bus_end - plain_end == 10000
    assert len(bus.codes(ev.TSP_EXTEND_GREEN)) == 1
    short = run([_with(BUS, max_extension_ms=30000, max_per_cycle_ms=4000)])
    assert short.first_green_after("C", 44100) - plain_end == 4000


def test_transit_extension_ends_at_check_out():
    r = _started([BUS], holding=("dA", "dC"))
    r.pulse("dB", 9500)
    r.pulse("bus_in", 45000)
    r.pulse("bus_out", 55000)
    r.run_until(90000)
    # strategy wanted out at 52100; the bus left at 55000: yellow then, C 6000 later
    assert r.first_green_after("C", 44100) == 61000
    assert r.codes(ev.TSP_CHECK_OUT) == [(55000, 1)]


def test_transit_early_green_cuts_the_current_stage_to_its_min_green():
    # A holds (its loop occupied, max 30000); the bus for S2 checks in at 9500:
    # A ends at its min green (19000), B enters 5000 later
    r = _started([BUS], holding=("dA",))
    r.pulse("bus_in", 9500)
    r.run_until(40000)
    assert r.green_at["B"][0] == 24000
    assert r.codes(ev.TSP_EARLY_GREEN) == [(9500, 1)]
    plain = _started([], holding=("dA",))
    plain.pulse("dB", 9500)  # a car instead of the bus
    plain.run_until(60000)
    assert plain.green_at["B"][0] >= 9000 + 30000 + 5000  # A maxed out first


def test_early_green_respects_max_early():
    # max_early 2000: the early green gives up before A's min green is held; A runs on
    r = _started([_with(BUS, max_early_ms=2000)], holding=("dA",))
    r.pulse("bus_in", 9500)
    r.pulse("dB", 9500)  # the bus on B's stop-bar loop: its call
    r.run_until(60000)
    assert r.green_at["B"][0] >= 9000 + 30000 + 5000


def test_no_second_transit_priority_until_every_waiting_group_was_served():
    r = _started([_with(BUS, max_per_cycle_ms=60000)], holding=("dA", "dC"))
    r.pulse("dB", 9500)
    r.pulse("bus_in", 45000)
    r.pulse("bus_out", 55000)
    r.run_until(56000)
    assert len(r.codes(ev.TSP_EXTEND_GREEN)) == 1
    transit = r.ctl.priority.transit
    assert transit.owing  # A and C wait
    # a second bus at once: B is not extended again nor brought back early
    r.pulse("bus_in", 57000)
    r.run_until(58000)
    assert len(r.codes(ev.TSP_EARLY_GREEN)) == 0
    r.run_until(200000)
    # C and then A were served before any further adjustment
    first_again = [t for t, _ in r.codes(ev.TSP_EARLY_GREEN) + r.codes(ev.TSP_EXTEND_GREEN) if t > 45000]
    assert first_again and first_again[0] > r.first_green_after("C", 45000)
    assert first_again[0] > r.first_green_after("A", 45000)


def test_per_cycle_budget_bounds_several_requests():
    r = _started([_with(BUS, max_per_cycle_ms=12000, window_ms=600000, request_timeout_ms=3600000)],
                 holding=("dA", "dC"))
    r.pulse("dB", 9500)
    r.pulse("bus_in", 45000)
    r.run_until(400000)
    used = r.ctl.priority.transit.cycle_used_ms[0]
    assert 0 < used <= 12000


def test_priority_config_errors_name_the_field_value_and_range():
    raw = three_stage_raw({"classes": [
        _with(EMS, preempt_min_green_ms=500, stage="S9"),
        _with(BUS, max_extension_ms=999999, groups=["A"]),
        {"id": "x", "kind": "ferry", "stage": "S1"},
    ]}, extra_detectors=[{"id": "in", "kind": "check_in", "priority_class": "tram"}])
    errors = "\n".join(validate(raw))
    assert 'priority class "ems": preempt_min_green_ms=500 is below the 1000 ms minimum' in errors
    assert 'priority class "ems": stage="S9" is not a known stage' in errors
    assert 'priority class "bus": max_extension_ms=999999 is above the 60000 ms maximum' in errors
    assert 'priority class "bus": groups names "A", not a vehicle group of stage "S2"' in errors
    assert 'priority class "x": kind="ferry" is not one of railroad, emergency, transit' in errors
    assert 'detector "in": priority_class="tram" is not a class of the priority block' in errors


def test_a_sound_priority_config_passes():
    raw = three_stage_raw({"classes": [EMS, RAIL, BUS]}, extra_detectors=loops("ems", "rail", "bus"))
    assert validate(raw) == []


def test_the_monitor_and_a_green_cut_by_preemption():
    # the monitor allows greens down to the lowest preempt_min_green_ms and no shorter
    r = _started([EMS, RAIL])
    assert r.ctl.monitor.min_green_ms[0] == 2000
    assert r.ctl.kernel.state[0] == GREEN


def _coordinated(classes, hold_b=False, bus_at=-1):
    # S1 coordinated (split 25 s), S2 20 s, S3 15 s in a 60 s cycle; A and C always called,
    # B called by one car a cycle (it gaps out at its min green unless held)
    from controller.coordination.agent import CoordinationAgent
    from tests.controller.coordination_support import KEY, WALL0, plan_payload

    ids = [c["id"] for c in classes]
    r = Run(three_stage_raw({"classes": list(classes)} if classes else None, strategy="coordinated",
                            extra_detectors=loops(*ids)))
    agent = CoordinationAgent(r.ctl, KEY)
    agent.offer_plan(plan_payload(controller_id="three-stages", cycle_ms=60000,
                                  splits=(("S1", 25000), ("S2", 20000), ("S3", 15000))), WALL0)
    assert agent.last_reason == 0, agent.last_text
    r.hold("dA")
    r.hold("dC")
    if hold_b:
        r.hold("dB")  # a queue that never gaps out: B is forced off
    else:
        for k in range(8):
            r.pulse("dB", 5000 + k * 60000, 300)
    if bus_at >= 0:
        r.pulse("bus_in", bus_at)
        r.pulse("bus_out", bus_at + 20000)
    r.run_until(480000)
    return r


def test_transit_priority_in_a_coordinated_plan_stays_within_its_slack():
    plain = _coordinated([])
    b_starts = [t for t in plain.green_at["B"] if t > 200000]
    start = b_starts[0]
    bus = _coordinated([_with(BUS, max_extension_ms=60000, max_per_cycle_ms=120000)], bus_at=start + 1000)
    held = _coordinated([], hold_b=True)
    assert bus.green_at["B"] == plain.green_at["B"]
    assert len(bus.codes(ev.TSP_EXTEND_GREEN)) == 1
    # B is held past its gap-out, but to its force-off point at the most (as a B queue would hold it)
    plain_end = plain.first_green_after("C", start)
    bus_end = bus.first_green_after("C", start)
    held_end = held.first_green_after("C", start)
    assert plain_end < bus_end == held_end
    # the coordinated stage (A) starts its green on the plan's marks all the same
    assert [t for t in bus.green_at["A"] if t > start] == [t for t in plain.green_at["A"] if t > start]
