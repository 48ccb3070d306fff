# Red-amber (a regional profile's sequence) and the profiles' defaults and
# limits. Portable: runs under pytest and under MicroPython.
from controller.config.defaults import with_defaults
from controller.config.profiles import yellow_for_speed_ms
from controller.config.validation import validate
from controller.events import codes as ev
from controller.events.log import EventLog
from controller.safety.conflict_monitor import ConflictMonitor
from controller.safety.signal_states import GREEN, LETTERS, RED, RED_AMBER, YELLOW, from_letter, is_flash
from tests.controller.core_support import Recorder, controller, copy_raw, example_raw, two_group_raw


def _red_amber_raw(a_ms=2000, b_ms=1000):
    raw = two_group_raw(profile="custom")
    raw["signal_groups"][0]["red_amber_ms"] = a_ms
    raw["signal_groups"][1]["red_amber_ms"] = b_ms
    return raw


def _both_called(t, pres):
    pres[0] = 1 if (t // 7000) % 2 else 0
    pres[1] = 1 - pres[0]


def test_red_amber_has_letter_u_after_the_old_states():
    assert RED_AMBER == 6 and LETTERS[RED_AMBER] == "u" and from_letter("u") == RED_AMBER
    assert LETTERS[:6] == "RYGfrD"  # the old letters and wire bytes keep their values
    assert not is_flash(RED_AMBER) and not is_flash(GREEN) and is_flash(3) and is_flash(5)


def test_red_then_full_red_amber_then_green_and_never_back_to_red():
    ctl = controller(_red_amber_raw())
    rec = Recorder(ctl).run(200000, _both_called)
    assert not ctl.flashing
    for g, ra in ((0, 2000), (1, 1000)):
        ch = rec.changes(g)
        seq = "".join(c for _, c in ch)
        assert "uG" in seq and "RG" not in seq and "uR" not in seq and "Yu" not in seq, seq
        for k in range(1, len(ch)):
            if ch[k - 1][1] == "u":
                assert ch[k][1] == "G" and ch[k][0] - ch[k - 1][0] == ra, (g, ch[k - 1], ch[k])


def test_red_amber_runs_inside_the_intergreen_as_rilsa_counts_it():
    # rule 11: the intergreen counts to the start of green; red-amber starts
    # red_amber_ms before it runs out, but never inside a conflicting red clearance
    ctl = controller(_red_amber_raw())
    rec = Recorder(ctl).run(120000, _both_called)
    a, b = rec.changes(0), rec.changes(1)
    checked = 0
    # (group, its changes, the other's changes, intergreen to it, other's yellow + red clearance, red-amber)
    for ch, other, ig, clear, ra in ((b, a, 5000, 3000 + 1000, 1000), (a, b, 7000, 4000 + 2000, 2000)):
        for k in range(1, len(ch)):
            if ch[k - 1][1] != "u":
                continue
            ends = [t for t, c in other if c == "Y" and t <= ch[k - 1][0]]
            if ends:
                assert ch[k - 1][0] == max(ends[-1] + ig - ra, ends[-1] + clear), (ch[k - 1], ends[-1])
                assert ch[k][0] - ends[-1] >= ig and ch[k][1] == "G"
                checked += 1
    assert checked >= 6
    for t, s in rec.trace:
        assert not ("u" in s and ("G" in s or "Y" in s)), (t, s)  # A and B conflict


def test_de_rilsa_red_amber_and_green_start_by_hand():
    # de-rilsa, red-amber 1 s for both. A ends green at 16.0 s: yellow 3 s,
    # red clearance 1 s (over at 20.0 s); intergreen A->B 5 s, so B's
    # red-amber may start at 16 + 5 - 1 = 20.0 s, and not before A's red
    # clearance is over (20.0 s): red-amber 20.0 s, green 21.0 s = 16 + 5.
    # B ends green at 27.0 s: yellow 4 s, red clearance 2 s (over at 33.0 s);
    # intergreen B->A 7 s: red-amber at max(27 + 7 - 1, 33) = 33.0 s, green
    # at 34.0 s = 27 + 7. (The old rule gave 22.0 s and 35.0 s.)
    ctl = controller(two_group_raw(profile="de-rilsa"))
    assert list(ctl.ix.red_amber_ms)[:2] == [1000, 1000]
    rec = Recorder(ctl).run(40000, _both_called)
    assert rec.changes(0)[3:8] == [(10000, "G"), (16000, "Y"), (19000, "R"), (33000, "u"), (34000, "G")]
    assert rec.changes(1)[1:6] == [(2000, "R"), (20000, "u"), (21000, "G"), (27000, "Y"), (31000, "R")]
    assert not ctl.flashing


def test_fixed_time_transition_counts_red_amber_inside_the_intergreen():
    ix = controller(_red_amber_raw()).ix
    # A->B: intergreen 5000, red-amber of B 1000 inside it (A's 3000 + 1000 clear first)
    assert ix.transition_ms(0, 1) == 5000
    # B->A: intergreen 7000, but A's red-amber of 2000 starts only after B's
    # yellow 4000 and red clearance 2000: green at 8000
    assert ix.transition_ms(1, 0) == 8000
    ix = controller(two_group_raw()).ix
    assert ix.transition_ms(0, 1) == 5000 and ix.transition_ms(1, 0) == 7000


def test_a_reset_during_red_amber_lets_it_finish_then_ends_that_green():
    ctl = controller(_red_amber_raw())
    rec = Recorder(ctl)
    rec.run(8000)  # startup flash 2 s, all red, then A's red-amber
    while ctl.outputs[0] != RED_AMBER:
        rec.run(100)
    ctl.reset()
    rec.run(30000)
    seq = "".join(c for _, c in rec.changes(0))
    assert "uGYR" in seq and not ctl.flashing, seq
    ch = rec.changes(0)
    k = seq.index("uGYR")
    assert ch[k + 2][0] - ch[k + 1][0] >= 5000  # the green got its min green


def test_without_a_profile_nothing_shows_red_amber():
    ctl = controller(two_group_raw())
    rec = Recorder(ctl).run(100000, _both_called)
    assert all("u" not in s for _, s in rec.trace)
    assert ctl.ix.red_amber_ms[0] == 0 and ctl.ix.red_amber_ms[1] == 0


def _monitor(a_ms=2000):
    log = EventLog(64)
    mon = ConflictMonitor(with_defaults(_red_amber_raw(a_ms)))
    mon.check(0, bytearray([RED, RED]), log)
    return mon, log


def test_monitor_passes_a_full_red_amber():
    mon, log = _monitor()
    assert mon.check(10000, bytearray([RED_AMBER, RED]), log)
    assert mon.check(2000, bytearray([GREEN, RED]), log)
    assert not mon.latched


def test_monitor_latches_a_short_red_amber():
    mon, log = _monitor()
    assert mon.check(10000, bytearray([RED_AMBER, RED]), log)
    assert not mon.check(1900, bytearray([GREEN, RED]), log)
    assert mon.fault == ev.FAULT_RED_AMBER


def test_monitor_latches_a_green_without_its_red_amber():
    mon, log = _monitor()
    assert not mon.check(10000, bytearray([GREEN, RED]), log)
    assert mon.fault == ev.FAULT_RED_AMBER


def test_monitor_latches_red_amber_back_to_red():
    mon, log = _monitor()
    mon.check(10000, bytearray([RED_AMBER, RED]), log)
    assert not mon.check(3000, bytearray([RED, RED]), log)
    assert mon.fault == ev.FAULT_RED_AMBER


def test_monitor_latches_red_amber_beside_a_conflicting_green():
    mon, log = _monitor()
    mon.check(10000, bytearray([RED_AMBER, RED]), log)
    mon.check(2000, bytearray([GREEN, RED]), log)
    assert not mon.check(100, bytearray([GREEN, RED_AMBER]), log)
    assert mon.fault in (ev.FAULT_CONFLICT, ev.FAULT_INTERGREEN)


def _monitor_after_a_green(yellow_ms=3000):
    # A: red-amber, green, yellow (3000 ms, or stretched), then red
    mon, log = _monitor()
    mon.check(10000, bytearray([RED_AMBER, RED]), log)
    mon.check(2000, bytearray([GREEN, RED]), log)
    mon.check(6000, bytearray([YELLOW, RED]), log)
    mon.check(yellow_ms, bytearray([RED, RED]), log)
    return mon, log


def test_monitor_latches_red_amber_before_the_intergreen():
    mon, log = _monitor_after_a_green()
    # B's red-amber (1000 ms) runs inside the intergreen A->B of 5000 ms: from 4000 ms on
    assert not mon.check(900, bytearray([RED, RED_AMBER]), log)  # 3900 ms
    assert mon.fault == ev.FAULT_INTERGREEN


def test_monitor_passes_red_amber_in_the_intergreens_last_second_then_green_at_its_end():
    mon, log = _monitor_after_a_green()
    assert mon.check(1000, bytearray([RED, RED_AMBER]), log)  # 4000 ms = 5000 - 1000
    assert mon.check(1000, bytearray([RED, GREEN]), log)  # green at 5000 ms: the full intergreen
    assert not mon.latched


def test_monitor_latches_red_amber_inside_a_conflicting_red_clearance():
    mon, log = _monitor_after_a_green(3600)  # a coarse tick stretched A's yellow
    # 4000 ms after A's green, but only 400 ms of A's 1000 ms red clearance
    assert not mon.check(400, bytearray([RED, RED_AMBER]), log)
    assert mon.fault == ev.FAULT_INTERGREEN


def test_yellow_by_approach_speed():
    assert [yellow_for_speed_ms("de-rilsa", v) for v in (50, 60, 70)] == [3000, 4000, 5000]
    # ITE: 1 s + v / (2 * 3.05 m/s2), up to 0.1 s: 50 km/h 3.28 s, 60 km/h 3.73 s, 80 km/h 4.64 s
    assert [yellow_for_speed_ms("us-mutcd", v) for v in (50, 60, 80)] == [3300, 3800, 4700]
    assert yellow_for_speed_ms("uk", 80) == 3000


def _profiled(name):
    raw = copy_raw(example_raw())
    raw["profile"] = name
    for g in raw["signal_groups"]:
        if g.get("kind") != "pedestrian":
            for k in ("yellow_ms", "min_green_ms", "red_revert_ms"):
                g.pop(k, None)
            g["approach_speed_kmh"] = 60
    for row in raw["intergreen_ms"].values():
        for b in row:
            row[b] += 3000  # room for the longer yellow at 60 km/h
    return raw


def test_de_rilsa_fills_red_amber_yellow_by_speed_and_min_green():
    raw = _profiled("de-rilsa")
    assert validate(raw) == []
    ctl = controller(raw)
    ix = ctl.ix
    veh = [g for g in range(ix.n_groups) if not ix.is_pedestrian[g]]
    assert [ix.red_amber_ms[g] for g in veh] == [1000] * len(veh)
    assert [ix.clearance_ms[g] for g in veh] == [4000] * len(veh)
    assert [ix.min_green_ms[g] for g in veh] == [5000] * len(veh)
    for g in range(ix.n_groups):
        if ix.is_pedestrian[g]:
            assert ix.red_amber_ms[g] == 0


def test_us_mutcd_has_no_red_amber_and_the_ite_yellow():
    raw = _profiled("us-mutcd")
    assert validate(raw) == []
    ix = controller(raw).ix
    assert max(ix.red_amber_ms) == 0
    assert ix.clearance_ms[0] == 3800


def test_a_profile_bounds_the_timings_and_says_so():
    raw = _profiled("uk")
    raw["signal_groups"][0]["red_amber_ms"] = 1000
    raw["signal_groups"][0]["yellow_ms"] = 4000
    raw["signal_groups"][1]["min_green_ms"] = 5000
    errors = validate(raw)
    text = "\n".join(errors)
    assert 'signal group "K1": red_amber_ms=1000 is outside the "uk" profile\'s range (allowed: 2000 ms)' in errors, text
    assert 'yellow_ms=4000 is outside the "uk" profile\'s range at approach_speed_kmh=60 (allowed: 3000 ms)' in text
    assert 'signal group "K2": min_green_ms=5000 is outside the "uk" profile\'s range (allowed: 7000 to 120000 ms)' in text
    raw = _profiled("de-rilsa")
    raw["signal_groups"][0]["yellow_ms"] = 3000  # 60 km/h needs 4 s
    errors = validate(raw)
    assert errors == ['signal group "K1": yellow_ms=3000 is outside the "de-rilsa" profile\'s range at '
                      'approach_speed_kmh=60 (allowed: 4000 to 5000 ms)'], errors


def test_profile_fields_need_a_profile_and_a_known_name():
    raw = copy_raw(example_raw())
    raw["signal_groups"][0]["red_amber_ms"] = 1000
    errors = validate(raw)
    assert any("red_amber_ms needs a profile" in e for e in errors), errors
    raw = copy_raw(example_raw())
    raw["profile"] = "at"
    errors = validate(raw)
    assert errors == ['profile="at" is not one of de-rilsa, us-mutcd, uk, custom'], errors


def test_intergreens_must_hold_the_yellow_the_profile_fills_in():
    raw = _profiled("de-rilsa")
    g = raw["signal_groups"][0]
    g["approach_speed_kmh"] = 70  # yellow 5 s: with 2 s red clearance, 7 s
    for b in raw["intergreen_ms"]["K1"]:
        raw["intergreen_ms"]["K1"][b] = 6500
    errors = validate(raw)
    assert errors and all("K1's yellow_ms (the profile's 5000 ms)" in e for e in errors), errors
