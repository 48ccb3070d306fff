# The sequence rules of docs/core.md (5 no yellow trap, 6 red revert, 7 safe endings, 10 step()
# never raises) and the six findings of issue 13, each as it was found. Portable: pytest on
# CPython and tests/micropython_runner.py on MicroPython.
from controller.config import schema as config_schema
from controller.events import codes as ev
from controller.config.defaults import with_defaults
from controller.safety.conflict_monitor import ConflictMonitor
from controller.events.log import EventLog
from controller.safety.kernel import MODE_ENDED, MODE_ENDING
from controller.safety.signal_states import GREEN, RED, YELLOW
from tests.controller.core_support import Alternate, Recorder, controller, copy_raw, two_group_raw


def permissive_raw():
    # C through, P a permissive left across the opposing C (yields to it), X a side movement
    # that conflicts with P only. S1 shows C with P permissive, S2 keeps C and adds X: the
    # change S1 -> S2 ends P while C stays green, the yellow trap.
    return {
        "id": "permissive", "startup_flash_ms": 0,
        "signal_groups": [
            {"id": "C", "min_green_ms": 5000, "yellow_ms": 3000, "red_clearance_ms": 1000},
            {"id": "P", "min_green_ms": 5000, "yellow_ms": 3000, "red_clearance_ms": 1000},
            {"id": "X", "min_green_ms": 5000, "yellow_ms": 3000, "red_clearance_ms": 1000},
        ],
        "conflicts": [["P", "X"]],
        "intergreen_ms": {"P": {"X": 4000}, "X": {"P": 4000}},
        "stages": [{"id": "S1", "groups": ["C", "P"], "permissive": ["P"]}, {"id": "S2", "groups": ["C", "X"]}],
        "detectors": [],
    }


def trap_rows(rec, p, c):
    # times at which p went from green to yellow while c showed green
    out = []
    for k in range(1, len(rec.trace)):
        was, now = rec.trace[k - 1][1], rec.trace[k][1]
        if was[p] == "G" and now[p] == "Y" and now[c] == "G":
            out.append(rec.trace[k][0])
    return out


def test_finding_1_no_yellow_trap_when_the_protected_stage_is_skipped():
    ctl = controller(permissive_raw(), Alternate())
    rec = Recorder(ctl).run(120000)
    c, p = 0, 1
    assert trap_rows(rec, p, c) == []
    assert not ctl.flashing
    # both end together: C shows its yellow with P, then red for its red revert, and comes back
    ends_c = [t for t, s in rec.changes(c) if s == "Y"]
    ends_p = [t for t, s in rec.changes(p) if s == "Y"]
    assert ends_p and ends_p == ends_c
    assert min(rec.intervals(c, "R")) >= 2000


def test_the_monitor_latches_on_a_yellow_trap_it_sees():
    raw = with_defaults(permissive_raw())
    log = EventLog(64)
    mon = ConflictMonitor(raw)
    mon.check(0, bytearray([RED, RED, RED]), log)
    assert mon.check(10000, bytearray([GREEN, GREEN, RED]), log)
    assert not mon.check(6000, bytearray([GREEN, YELLOW, RED]), log)  # P ends, C stays green
    assert mon.fault == ev.FAULT_YELLOW_TRAP
    # a green started beside its partner's clearance is the same fault
    mon = ConflictMonitor(raw)
    mon.check(0, bytearray([RED, RED, RED]), log)
    mon.check(10000, bytearray([GREEN, RED, RED]), log)
    assert not mon.check(6000, bytearray([YELLOW, GREEN, RED]), log)
    assert mon.fault == ev.FAULT_YELLOW_TRAP


def three_stage_raw():
    # A and B never conflict; S1 {A}, S2 {B}, S3 {A, B}: A ends into S2 and is asked for again at once
    raw = two_group_raw(startup_flash_ms=0)
    raw["conflicts"] = []
    raw["intergreen_ms"] = {}
    raw["stages"] = [{"id": "S1", "groups": ["A"]}, {"id": "S2", "groups": ["B"]}, {"id": "S3", "groups": ["A", "B"]}]
    raw["sequence"] = {"mode": "fixed", "order": ["S1", "S2", "S3"]}
    del raw["fixed_time"]
    return raw


def test_finding_2_a_yellow_is_followed_by_red_for_the_red_revert():
    ctl = controller(three_stage_raw(), Alternate())
    rec = Recorder(ctl).run(120000)
    reds = rec.intervals(0, "R")
    assert reds and min(reds) >= 2000
    for k in range(1, len(rec.changes(0))):
        assert not (rec.changes(0)[k - 1][1] == "Y" and rec.changes(0)[k][1] == "G")
    assert not ctl.flashing
    # and with a longer red revert configured, that one
    raw = three_stage_raw()
    raw["signal_groups"][0]["red_revert_ms"] = 4500
    rec = Recorder(controller(raw, Alternate())).run(120000)
    assert min(rec.intervals(0, "R")) >= 4500


def test_the_monitor_latches_on_a_cut_red_revert():
    log = EventLog(64)
    mon = ConflictMonitor(with_defaults(three_stage_raw()))
    mon.check(0, bytearray([RED, RED]), log)
    mon.check(10000, bytearray([GREEN, RED]), log)
    mon.check(6000, bytearray([YELLOW, GREEN]), log)
    mon.check(3000, bytearray([RED, GREEN]), log)
    assert not mon.check(1000, bytearray([GREEN, GREEN]), log)  # 1000 ms of red < 2000 ms
    assert mon.fault == ev.FAULT_RED_REVERT


def _green_after(rec, t0):
    # a green was shown after time t0
    return any(t > t0 and "G" in s for t, s in rec.trace)


def test_finding_3_a_reset_mid_green_ends_it_safely_then_restarts():
    for start_ms in (10100, 11500, 14500):  # at green start, mid min green, mid yellow
        ctl = controller(two_group_raw(startup_flash_ms=0), Alternate())
        rec = Recorder(ctl).run(start_ms)
        reset_at = rec.time_ms
        ctl.reset()
        assert ctl.kernel.mode == MODE_ENDING
        rec.run(30000)
        assert not ctl.flashing, "monitor latched: fault %d" % ctl.monitor.fault
        for g in range(2):
            ch = rec.changes(g)
            for k in range(1, len(ch)):
                assert not (ch[k - 1][1] == "G" and ch[k][1] == "R"), (start_ms, g, ch)
        assert min(rec.intervals(0, "G")) >= 5000 and min(rec.intervals(0, "Y")) >= 3000
        # after the ending the program started again: all red for the startup, then green again
        assert ctl.kernel.mode == 2 and _green_after(rec, reset_at + 10000)


def test_end_holds_all_red_until_the_heads_may_be_handed_over():
    ctl = controller(two_group_raw(startup_flash_ms=0), Alternate())
    rec = Recorder(ctl).run(12000)
    assert not ctl.end()  # green now: it ends first
    rec.run(20000)
    assert ctl.ended and ctl.kernel.mode == MODE_ENDED
    assert bytes(ctl.outputs) == bytes([RED, RED])


def test_a_reset_of_a_latched_fault_restarts_at_once_and_the_monitor_keeps_its_history():
    ctl = controller(two_group_raw(), Alternate())
    rec = Recorder(ctl).run(30000)
    ctl.kernel.state[0] = GREEN  # a broken kernel: both green
    ctl.kernel.state[1] = GREEN
    rec.run(100)
    assert ctl.flashing
    rec.run(5000)
    assert ctl.monitor.last[0] > GREEN  # it saw the flash
    ctl.reset()
    assert not ctl.flashing
    reset_at = rec.time_ms
    rec.run(30000)
    assert not ctl.flashing and _green_after(rec, reset_at)


def test_finding_4_a_loop_stuck_on_for_days_never_raises():
    # ages saturate at 2^28 ms (3.1 days): a loop stuck on past that, with 45 s windows at 100 ms
    # ticks or the default window at 101 ms ticks, made the occupancy negative (OverflowError)
    for window, tick in ((45000, 100), (60000, 101)):
        raw = two_group_raw()
        raw["detector_diagnostics"] = {"occupancy_window_ms": window}
        ctl = controller(raw)
        pres = bytearray([1, 0])
        for k in range(4450):  # 3.09 days of one-minute ticks, loop dA on throughout
            ctl.step(60000, pres)
        for k in range(30000):  # then fine ticks across the 2^28 ms mark
            ctl.step(tick, pres)
        assert ctl.detectors.occupancy_permille[0] >= 990  # a window of 101 ms ticks may end a tick short
    # a loop on for 3.2 days, then off: its occupancy is the part inside the window
    ctl = controller(two_group_raw())
    pres = bytearray([1, 0])
    for k in range(int(3.2 * 24 * 60)):
        ctl.step(60000, pres)
    pres[0] = 0
    ctl.step(30000, pres)
    ctl.step(30000, pres)
    assert ctl.detectors.occupancy_permille[0] == 500


def test_finding_5_adaptive_after_a_latch_and_a_reset_never_raises():
    raw = two_group_raw()
    raw["detectors"].append({"id": "aA", "group": "A", "kind": "advance", "distance_m": 40})
    raw["detectors"].append({"id": "aB", "group": "B", "kind": "advance", "distance_m": 40})
    ctl = controller(raw, "adaptive")
    pres = bytearray(4)
    seed = 7
    for k in range(6000):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        if k == 3000:
            ctl.kernel.state[0] = GREEN  # latch: a broken kernel shows both green
            ctl.kernel.state[1] = GREEN
        if k == 4000:
            ctl.reset()
        if seed % 7 == 0:
            pres[seed % 4] ^= 1  # loops go on changing through the flash
        ctl.step(100, pres)
    assert not ctl.flashing and ctl.kernel.mode == 2


def test_finding_6_the_monitor_takes_its_defaults_from_the_config_as_loaded():
    # a config that leaves every optional timing out; a different default must reach kernel and monitor
    raw = {"id": "bare", "signal_groups": [{"id": "A"}, {"id": "B"}], "conflicts": [["A", "B"]],
           "intergreen_ms": {"A": {"B": 4000}, "B": {"A": 4000}},
           "stages": [{"id": "S1", "groups": ["A"]}, {"id": "S2", "groups": ["B"]}]}
    # a board's loader forgets the config modules after a load (controller/config/loading.py: unload()),
    # and the firmware tests run it in this process: patch the schema imported here and the one a load
    # imports now, if that is another
    from controller.config import schema as current_schema

    schemas = [config_schema] if current_schema is config_schema else [config_schema, current_schema]
    old = config_schema.VEHICLE_TIMING["min_green_ms"]
    for m in schemas:
        m.VEHICLE_TIMING["min_green_ms"] = (3000, old[1], old[2])
    try:
        ctl = controller(copy_raw(raw), Alternate())
        rec = Recorder(ctl).run(120000)
    finally:
        for m in schemas:
            m.VEHICLE_TIMING["min_green_ms"] = old
    assert not ctl.flashing, "monitor latched on correct output: fault %d" % ctl.monitor.fault
    assert min(rec.intervals(0, "G")) == 3000
    assert list(ctl.monitor.min_green_ms) == list(ctl.ix.min_green_ms)
    assert list(ctl.monitor.min_yellow_ms) == list(ctl.ix.clearance_ms)
    assert list(ctl.monitor.min_red_ms) == list(ctl.ix.red_clearance_ms)
