# Flashing green (a regional profile's flashing_green_ms, kernel rule 12): the
# kernel's sequence, the monitor's checks and the profile's limits.
# Portable: runs under pytest and under MicroPython.
from controller.config.defaults import with_defaults
from controller.config.validation import validate
from controller.events import codes as ev
from controller.events.log import EventLog
from controller.safety.conflict_monitor import ConflictMonitor
from controller.safety.signal_states import FLASHING_GREEN, GREEN, LETTERS, RED, RED_AMBER, YELLOW, from_letter, is_flash
from tests.controller.core_support import Recorder, controller, two_group_raw


def _flashing_raw(a_ms=2000, b_ms=1000):
    # A: flashing green 2 s, no red-amber; B: flashing green 1 s, red-amber 1 s
    raw = two_group_raw(profile="custom")
    raw["signal_groups"][0]["flashing_green_ms"] = a_ms
    raw["signal_groups"][1]["flashing_green_ms"] = b_ms
    raw["signal_groups"][1]["red_amber_ms"] = 1000
    return raw


def _both_called(t, pres):
    pres[0] = 1 if (t // 7000) % 2 else 0
    pres[1] = 1 - pres[0]


def test_flashing_green_is_state_7_letter_g_after_the_old_states():
    assert FLASHING_GREEN == 7 and LETTERS[FLASHING_GREEN] == "g" and from_letter("g") == FLASHING_GREEN
    assert LETTERS[:7] == "RYGfrDu"  # the older letters and wire bytes keep their values
    assert not is_flash(FLASHING_GREEN)


def test_green_flashes_for_its_full_time_then_yellow():
    ctl = controller(_flashing_raw())
    rec = Recorder(ctl).run(200000, _both_called)
    assert not ctl.flashing
    for g, fg, min_green in ((0, 2000, 5000), (1, 1000, 6000)):
        ch = rec.changes(g)
        seq = "".join(c for _, c in ch)
        assert seq.count("GgY") >= 4 and "GY" not in seq and "gR" not in seq and "gG" not in seq, seq
        for k in range(1, len(ch)):
            if ch[k - 1][1] == "g":
                assert ch[k][1] == "Y" and ch[k][0] - ch[k - 1][0] == fg, (g, ch[k - 1], ch[k])
                assert ch[k - 1][0] - ch[k - 2][0] >= min_green  # the min green held before it


def test_flashing_green_and_the_intergreen_by_hand():
    # A green at 9.0 s (startup flash 2 s, all red 7 s), gaps out at 16.0 s:
    # flashing green 16.0-18.0 s, yellow 18.0-21.0 s, red clearance to 22.0 s.
    # The intergreen A->B (5 s) counts from the end of the flashing green:
    # B's green at 18 + 5 = 23.0 s, its 1 s red-amber from 22.0 s (A's red
    # clearance over). B gaps out at 37.0 s: flashing green to 38.0 s, yellow
    # to 42.0 s, red clearance to 44.0 s; intergreen B->A 7 s: A green at 45.0 s.
    ctl = controller(_flashing_raw())
    rec = Recorder(ctl).run(50000, _both_called)
    assert rec.changes(0)[2:7] == [(9000, "G"), (16000, "g"), (18000, "Y"), (21000, "R"), (45000, "G")]
    assert rec.changes(1)[2:7] == [(22000, "u"), (23000, "G"), (37000, "g"), (38000, "Y"), (42000, "R")]
    for _, s in rec.trace:
        assert not ("g" in s and ("G" in s or "u" in s)), s  # A and B conflict: a flashing green is out of red


def test_fixed_time_transition_adds_the_leaving_flashing_green():
    ix = controller(_flashing_raw()).ix
    assert ix.transition_ms(0, 1) == 2000 + 5000 and ix.transition_ms(1, 0) == 1000 + 7000
    ix = controller(two_group_raw()).ix
    assert ix.transition_ms(0, 1) == 5000 and ix.transition_ms(1, 0) == 7000


def test_a_reset_during_flashing_green_lets_it_finish_then_yellow():
    ctl = controller(_flashing_raw())
    rec = Recorder(ctl)
    rec.run(16000, _both_called)
    assert ctl.outputs[0] == FLASHING_GREEN
    ctl.reset()
    rec.run(20000)
    seq = "".join(c for _, c in rec.changes(0))
    assert "GgYR" in seq and not ctl.flashing, seq
    ch = rec.changes(0)
    k = seq.index("gY")
    assert ch[k + 1][0] - ch[k][0] == 2000  # the full flashing green


def test_without_flashing_green_nothing_flashes_green():
    raw = two_group_raw(profile="custom")
    ctl = controller(raw)
    rec = Recorder(ctl).run(100000, _both_called)
    assert all("g" not in s for _, s in rec.trace)
    assert list(ctl.ix.red_amber_ms)[2:] == [0, 0]  # flashing green at n + g


def _monitor():
    log = EventLog(64)
    mon = ConflictMonitor(with_defaults(_flashing_raw()))
    mon.check(0, bytearray([RED, RED]), log)
    mon.check(10000, bytearray([GREEN, RED]), log)
    return mon, log


def _monitor_after_a_flashing_green():
    # A: green 5000 ms, flashing green 2000 ms, yellow 3000 ms, then red
    mon, log = _monitor()
    for ms, a in ((5000, FLASHING_GREEN), (2000, YELLOW), (3000, RED)):
        assert mon.check(ms, bytearray([a, RED]), log)
    return mon, log


def test_monitor_passes_a_full_flashing_green_then_counts_the_intergreen_from_its_end():
    mon, log = _monitor_after_a_flashing_green()
    assert mon.check(1000, bytearray([RED, RED_AMBER]), log)  # 4000 ms after the flashing green ended
    assert mon.check(1000, bytearray([RED, GREEN]), log)  # 5000 ms: the full intergreen
    assert not mon.latched


def test_monitor_latches_an_intergreen_counted_from_the_start_of_the_flashing_green():
    mon, log = _monitor_after_a_flashing_green()
    # 5000 ms after the flashing green began, only 3000 ms after it ended
    assert not mon.check(0, bytearray([RED, RED_AMBER]), log)
    assert mon.fault == ev.FAULT_INTERGREEN


def test_monitor_latches_a_short_flashing_green():
    mon, log = _monitor()
    mon.check(5000, bytearray([FLASHING_GREEN, RED]), log)
    assert not mon.check(1900, bytearray([YELLOW, RED]), log)
    assert mon.fault == ev.FAULT_FLASHING_GREEN


def test_monitor_latches_a_green_that_skips_its_flashing_green():
    mon, log = _monitor()
    assert not mon.check(5000, bytearray([YELLOW, RED]), log)
    assert mon.fault == ev.FAULT_FLASHING_GREEN


def test_monitor_latches_a_flashing_green_not_followed_by_yellow():
    for after in (RED, GREEN):
        mon, log = _monitor()
        mon.check(5000, bytearray([FLASHING_GREEN, RED]), log)
        assert not mon.check(2000, bytearray([after, RED]), log)
        assert mon.fault == ev.FAULT_FLASHING_GREEN


def test_monitor_latches_a_flashing_green_before_min_green():
    mon, log = _monitor()
    assert not mon.check(4000, bytearray([FLASHING_GREEN, RED]), log)
    assert mon.fault == ev.FAULT_SHORT_GREEN


def test_monitor_latches_a_flashing_green_beside_a_conflicting_green():
    mon, log = _monitor()
    mon.check(5000, bytearray([FLASHING_GREEN, RED]), log)
    assert not mon.check(100, bytearray([FLASHING_GREEN, RED_AMBER]), log)
    assert mon.fault in (ev.FAULT_CONFLICT, ev.FAULT_INTERGREEN)


def test_monitor_latches_a_flashing_green_the_config_does_not_show():
    log = EventLog(64)
    mon = ConflictMonitor(with_defaults(two_group_raw(profile="custom")))
    mon.check(0, bytearray([RED, RED]), log)
    mon.check(10000, bytearray([GREEN, RED]), log)
    assert not mon.check(6000, bytearray([FLASHING_GREEN, RED]), log)
    assert mon.fault == ev.FAULT_FLASHING_GREEN


def test_a_profile_bounds_flashing_green_and_says_so():
    raw = _flashing_raw()
    raw["profile"] = "de-rilsa"
    raw["signal_groups"][1]["min_green_ms"] = 6000
    errors = validate(raw)
    assert any('"A"' in e and "flashing_green_ms=2000" in e and "de-rilsa" in e and "0 ms" in e for e in errors), errors
    raw = _flashing_raw(a_ms=4500)
    errors = validate(raw)
    assert any("flashing_green_ms=4500" in e and "0 to 4000 ms" in e for e in errors), errors
    raw = _flashing_raw()
    del raw["profile"]
    del raw["signal_groups"][1]["red_amber_ms"]
    errors = validate(raw)
    assert any("flashing_green_ms needs a profile" in e for e in errors), errors
    assert validate(_flashing_raw()) == []


def test_a_yielding_pair_must_flash_alike():
    raw = two_group_raw(profile="custom")
    raw["conflicts"] = []
    raw["intergreen_ms"] = {}
    raw["stages"] = [{"id": "S1", "groups": ["A", "B"]}, {"id": "S2", "groups": ["B"]}]
    raw["signal_groups"][0]["yields_to"] = ["B"]
    raw["signal_groups"][1]["flashing_green_ms"] = 2000
    errors = validate(raw)
    assert any('"A"' in e and "flashing_green_ms=0 differs from B's 2000 ms" in e for e in errors), errors
    raw["signal_groups"][0]["flashing_green_ms"] = 2000
    assert validate(raw) == []


def test_a_permissive_pair_must_flash_alike_too():
    # K1 permissive in S1 gives way to B (yields_to derived from the stage)
    raw = two_group_raw(profile="custom")
    raw["conflicts"] = []
    raw["intergreen_ms"] = {}
    raw["stages"] = [{"id": "S1", "groups": ["A", "B"], "permissive": ["A"]}, {"id": "S2", "groups": ["B"]}]
    raw["signal_groups"][0]["flashing_green_ms"] = 163
    raw["signal_groups"][1]["flashing_green_ms"] = 3533
    errors = validate(raw)
    assert any('"A"' in e and "flashing_green_ms=163 differs from B's 3533 ms" in e for e in errors), errors
