# The time-of-day and week program: calendar, schedule resolution, validation
# errors, safe plan changes in the core. Portable: plain asserts, runs under
# pytest and under the real MicroPython interpreter.
from controller.config.validation import validate
from controller.core import Controller
from controller.config.loading import load_dict
from controller.events import codes as ev
from controller.local_calendar import DAY_MS, next_date, prev_date, valid_date, weekday_of
from controller.safety.kernel import MODE_ENDING, MODE_RUN, MODE_STARTUP_FLASH
from controller.safety.signal_states import GREEN, YELLOW
from controller.schedule import parse_date, parse_time_of_day
from tests.controller.core_support import two_group_raw

H = 3600000
M = 60000


def schedule_block():
    return {
        "plans": {
            "night": {"number": 1, "strategy": "flash"},
            "day": {"number": 2, "strategy": "actuated"},
            "peak": {"number": 3, "strategy": "fixed",
                     "fixed_time": {"cycle_ms": 60000, "offset_ms": 0, "splits_ms": {"S1": 30000, "S2": 30000}}},
            "calm": {"number": 4, "strategy": "adaptive", "adaptive": {"max_wait_ms": 60000}},
        },
        "day_plans": {
            "workday": [{"at": "00:00", "plan": "night"}, {"at": "06:00", "plan": "day"},
                        {"at": "07:30", "plan": "peak"}, {"at": "09:00", "plan": "day"},
                        {"at": "22:00", "plan": "night"}],
            "holiday": [{"at": "00:00", "plan": "night"}, {"at": "09:00", "plan": "calm"},
                        {"at": "20:00", "plan": "night"}],
        },
        "week": {"mon": "workday", "tue": "workday", "wed": "workday", "thu": "workday", "fri": "workday",
                 "sat": "holiday", "sun": "holiday"},
        "exceptions": {"12-25": "holiday", "2027-01-01": "holiday", "02-29": "holiday"},
    }


def scheduled(block=None, **top):
    raw = two_group_raw(**top)
    raw["schedule"] = block if block is not None else schedule_block()
    return raw


def test_calendar_crosses_month_year_end_and_leap_days():
    assert next_date(20261231) == 20270101
    assert prev_date(20270101) == 20261231
    assert next_date(20280228) == 20280229 and next_date(20280229) == 20280301
    assert next_date(20270228) == 20270301
    assert next_date(21000228) == 21000301 or not valid_date(21000228)  # outside the range anyway
    assert next_date(20000228) == 20000229  # 2000: divisible by 400, a leap year
    assert prev_date(20240301) == 20240229
    assert weekday_of(20261207) == 0  # a Monday
    assert weekday_of(20261225) == 4  # a Friday
    assert weekday_of(20280229) == 1  # a Tuesday
    assert not valid_date(20270229) and valid_date(20280229) and not valid_date(20261301)


def test_times_and_dates_parse_or_are_refused():
    assert parse_time_of_day("00:00") == 0
    assert parse_time_of_day("23:59") == 23 * H + 59 * M
    for bad in ("24:00", "7:30", "07:60", "0730", "", None, 730, "07:3a"):
        assert parse_time_of_day(bad) == -1, bad
    assert parse_date("2026-12-24") == (20261224, False)
    assert parse_date("12-25") == (1225, True)
    assert parse_date("02-29") == (229, True)
    for bad in ("2027-02-29", "13-01", "2026-1-01", "x", "2026/12/24", None):
        assert parse_date(bad)[0] == -1, bad


def test_the_schedule_resolves_times_week_and_holidays():
    ctl = Controller(load_dict(scheduled()))
    sched = ctl.plans.schedule
    names = ctl.plans.names  # plan index -> name
    assert ctl.set_local_time(20261207, 0, 7 * H + 29 * M)  # Monday 07:29
    assert names[sched.due] == "day"
    sched.advance(M)
    assert names[sched.due] == "peak"  # 07:30 exactly
    sched.advance(90 * M - 1)
    assert names[sched.due] == "peak"
    sched.advance(1)
    assert names[sched.due] == "day"
    ctl.set_local_time(20261205, 5, 12 * H)  # a Saturday
    assert names[sched.due] == "calm"
    ctl.set_local_time(20261225, 4, 12 * H)  # Christmas, a Friday: the yearly exception
    assert names[sched.due] == "calm"
    ctl.set_local_time(20261224, 3, 12 * H)  # a Thursday
    assert names[sched.due] == "day"
    ctl.set_local_time(20280229, 1, 10 * H)  # a leap day: its yearly exception
    assert names[sched.due] == "calm"


def test_midnight_moves_the_date_and_weekday_into_the_new_year():
    ctl = Controller(load_dict(scheduled()))
    sched = ctl.plans.schedule
    names = ctl.plans.names
    ctl.set_local_time(20261231, 3, DAY_MS - 1000)  # Thursday 23:59:59
    assert names[sched.due] == "night"
    sched.advance(2000)
    assert sched.date == 20270101 and sched.weekday == 4 and sched.ms_of_day == 1000
    sched.advance(9 * H)
    assert names[sched.due] == "calm"  # New Year's Day: the exception date
    sched.advance(DAY_MS)  # Saturday January 2nd
    assert sched.date == 20270102 and sched.weekday == 5 and names[sched.due] == "calm"
    sched.advance(2 * DAY_MS)  # Monday January 4th, 09:00:01
    assert sched.date == 20270104 and sched.weekday == 0 and names[sched.due] == "day"


def test_carry_over_runs_the_previous_days_last_plan_before_the_first_entry():
    block = schedule_block()
    block["day_plans"]["workday"] = [{"at": "06:00", "plan": "day"}, {"at": "21:00", "plan": "peak"}]
    block["carry_over"] = True
    ctl = Controller(load_dict(scheduled(block)))
    names = ctl.plans.names
    ctl.set_local_time(20261208, 1, 3 * H)  # Tuesday 03:00: Monday ended with "peak"
    assert names[ctl.plans.schedule.due] == "peak"
    ctl.set_local_time(20261207, 0, 3 * H)  # Monday 03:00: Sunday (holiday) ended with "night"
    assert names[ctl.plans.schedule.due] == "night"


def test_a_bad_local_time_is_refused_naming_the_value():
    ctl = Controller(load_dict(scheduled()))
    for args, word in (((20261332, 0, 0), "date=20261332"), ((20261207, 3, 0), "weekday=3"),
                       ((20261207, 0, DAY_MS), "ms_of_day=86400000")):
        try:
            ctl.set_local_time(*args)
        except ValueError as e:
            assert word in str(e), str(e)
        else:
            assert False, args
    assert ctl.plans.schedule.due == -1 and not ctl.plans.schedule.known
    plain = Controller(load_dict(two_group_raw()))
    assert plain.plans is None and plain.set_local_time(20261207, 0, 0) is False


def _errors(block):
    return validate(scheduled(block))


def test_validation_reports_every_schedule_problem_naming_field_and_value():
    block = schedule_block()
    block["plans"]["peak"]["number"] = 2  # the same as "day"
    block["plans"]["bogus"] = {"number": 9, "strategy": "magic"}
    block["plans"]["calm"]["fixed_time"] = {"cycle_ms": 60000, "splits_ms": {"S1": 30000, "S2": 30000}}
    block["day_plans"]["workday"] = [{"at": "00:00", "plan": "night"}, {"at": "06:00", "plan": "day"},
                                     {"at": "06:00", "plan": "peak"}, {"at": "05:00", "plan": "nope"},
                                     {"at": "25:00", "plan": "day"}]
    block["day_plans"]["late"] = [{"at": "06:00", "plan": "day"}]
    block["week"] = {"mon": "workday", "tue": "weekday", "wed": "workday", "thu": "workday",
                     "fri": "workday", "sat": "holiday", "funday": "holiday"}
    block["exceptions"] = {"2027-02-29": "holiday", "12-25": "xmas"}
    errors = _errors(block)
    text = "\n".join(errors)
    for want in (
        'number=2 is also plan',
        'schedule plan "bogus": strategy="magic" is not one of fixed, actuated, adaptive, coordinated, flash',
        'schedule plan "calm": fixed_time is a parameter of the fixed strategy, not of "adaptive"',
        'schedule day plan "workday" #3: at="06:00" overlaps entry #2 at the same time',
        'schedule day plan "workday" #4: at="05:00" comes before the entry above it',
        'schedule day plan "workday" #4: plan="nope" is not a plan (known: bogus, calm, day, night, peak)',
        'schedule day plan "workday" #5: at="25:00" is not a time of day "HH:MM" from 00:00 to 23:59',
        'schedule day plan "late" #1: at="06:00" leaves 00:00 to 06:00 without a plan',
        'schedule.week: tue="weekday" is not a day plan (known: holiday, late, workday)',
        'schedule.week: sun has no day plan',
        'schedule.week: unknown field "funday"',
        'schedule.exceptions: "2027-02-29" is not a date',
        'schedule.exceptions: "12-25"="xmas" is not a day plan',
    ):
        assert want in text, want + "\n--- not in ---\n" + text
    assert len(errors) >= 13


def test_validation_checks_a_fixed_plan_against_the_model():
    block = schedule_block()
    block["plans"]["peak"]["fixed_time"] = {"cycle_ms": 30000, "offset_ms": 0,
                                            "splits_ms": {"S1": 8000, "S2": 22000}}
    errors = _errors(block)
    assert any(e.startswith('schedule plan "peak": fixed_time: splits_ms S1=8000 is below the 10000 ms minimum') for e in errors), errors
    block["plans"]["peak"]["fixed_time"]["cycle_ms"] = 1000
    errors = _errors(block)
    assert any('schedule plan "peak": fixed_time: cycle_ms=1000 is below the 20000 ms minimum' in e
               for e in errors), errors
    try:
        load_dict(scheduled(block))
    except ValueError as e:
        assert "cycle_ms=1000" in str(e)
    else:
        assert False
    assert validate(scheduled()) == []


def _run(ctl, ms, tick=100, presence=None):
    pres = presence if presence is not None else bytearray(ctl.ix.n_detectors)
    for _ in range(ms // tick):
        ctl.step(tick, pres)


def test_without_local_time_the_configs_own_strategy_runs_unchanged():
    plain = Controller(load_dict(two_group_raw()))
    ctl = Controller(load_dict(scheduled()))
    pres = bytearray([1, 1])
    for i in range(3000):
        pres[i % 2] = 1 if (i // 7) % 3 else 0
        plain.step(100, pres)
        ctl.step(100, pres)
        assert plain.outputs == ctl.outputs, i
    assert ctl.strategy.name == "actuated" and ctl.plans.active == -1
    assert [e for e in ctl.drain_events() if e[1] == ev.COORD_PATTERN_CHANGE] == []


def test_a_change_to_flash_ends_safely_then_flashes_and_comes_back_through_startup():
    ctl = Controller(load_dict(scheduled()))
    ctl.set_local_time(20261207, 0, 21 * H + 59 * M)  # Monday 21:59: "day" (actuated)
    pres = bytearray([1, 1])
    _run(ctl, 45000, presence=pres)
    assert ctl.kernel.mode == MODE_RUN
    # find a moment just after a green began: the ending must hold its min green
    while not (ctl.outputs[0] == GREEN and ctl.kernel.state_ms(0) < 1000):
        ctl.step(100, pres)
    ctl.drain_events()
    green_since = ctl.kernel.state_ms(0)
    ctl.plans.schedule.ms_of_day = 22 * H - 100  # the next tick reaches 22:00
    ctl.step(100, pres)
    assert ctl.kernel.mode == MODE_ENDING
    assert ctl.outputs[0] == GREEN  # the green is not cut
    t = 100
    while ctl.outputs[0] == GREEN:
        ctl.step(100, pres)
        t += 100
    assert green_since + t >= 5000  # min green held
    assert ctl.outputs[0] == YELLOW
    for _ in range(200):
        ctl.step(100, pres)
    assert ctl.kernel.mode == MODE_STARTUP_FLASH and ctl.kernel.hold_flash
    assert ctl.outputs[0] > GREEN  # flashing
    events = ctl.drain_events()
    assert (ev.COORD_PATTERN_CHANGE, 1) in [(c, p) for _, c, p in events]
    _run(ctl, 600000)
    assert ctl.kernel.mode == MODE_STARTUP_FLASH  # held while the flash plan is in force
    ctl.set_local_time(20261208, 1, 6 * H)  # Tuesday 06:00: "day"
    ctl.step(100, pres)
    assert not ctl.kernel.hold_flash
    _run(ctl, 20000, presence=pres)
    assert ctl.kernel.mode == MODE_RUN and ctl.strategy.name == "actuated"
    assert (ev.COORD_PATTERN_CHANGE, 2) in [(c, p) for _, c, p in ctl.drain_events()]
    assert not ctl.flashing


def test_a_strategy_change_waits_for_an_established_stage_and_starts_cleanly():
    ctl = Controller(load_dict(scheduled()))
    ctl.set_local_time(20261207, 0, 7 * H)  # "day"
    pres = bytearray([1, 1])
    _run(ctl, 60000, presence=pres)
    while ctl.kernel.established:
        ctl.step(100, pres)  # until a transition is under way
    ctl.plans.schedule.ms_of_day = 7 * H + 30 * M - 100
    ctl.step(100, pres)
    assert ctl.plans.schedule.due != ctl.plans.active  # pending
    assert ctl.strategy.name == "actuated"
    for _ in range(300):
        ctl.step(100, pres)
        if ctl.strategy.name == "fixed":
            break
    assert ctl.strategy.name == "fixed" and ctl.strategy_running
    assert ctl.plans.names[ctl.plans.active] == "peak"
    # the fixed plan's cycle counts from local midnight
    assert ctl.strategy.cycle_pos_ms < 60000
    assert not ctl.flashing


def test_a_flash_plan_at_power_up_holds_the_startup_flash():
    ctl = Controller(load_dict(scheduled()))
    ctl.set_local_time(20261207, 0, 3 * H)
    _run(ctl, 3600000, tick=1000)
    assert ctl.kernel.mode == MODE_STARTUP_FLASH and ctl.outputs[0] > GREEN
    ctl.end()
    assert ctl.ended


def test_a_scheduled_flash_from_all_red_and_after_a_reset_stays_flash():
    ctl = Controller(load_dict(scheduled()))
    _run(ctl, 2500)  # into the startup all-red
    ctl.set_local_time(20261207, 0, 3 * H)
    assert ctl.kernel.mode == MODE_STARTUP_FLASH
    ctl.reset()
    _run(ctl, 10000)
    assert ctl.kernel.mode == MODE_STARTUP_FLASH
    assert not ctl.flashing
