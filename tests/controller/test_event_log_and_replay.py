# Event ring buffer and trace replay.
from controller.config.loading import load_dict
from controller.core import Controller
from controller.events.log import EventLog, format_csv_row
from controller.trace_replay import TraceError, replay
from tests.controller.core_support import two_group_raw


def test_ring_overwrites_oldest_and_counts_dropped():
    log = EventLog(4)
    for i in range(6):
        log.advance(1500)
        log.add(1, i)
    items = log.items()
    assert [p for _, _, p in items] == [2, 3, 4, 5]
    assert items[0][0] == 4500 and items[-1][0] == 9000
    assert log.dropped == 2 and log.total == 6
    assert format_csv_row(4500, 1, 2) == "4500,1,2,phase_begin_green"
    assert log.drain() == items and log.items() == []


def test_events_read_by_age_across_the_wrap_and_discarded_oldest_first():
    log = EventLog(4)
    for i in range(6):  # the ring wrapped: it holds the events of params 2..5
        log.advance(250)
        log.add(80 + i, i)
    assert [log.event_param(k) for k in range(log.size)] == [2, 3, 4, 5]
    assert [log.event_code(k) for k in range(log.size)] == [82, 83, 84, 85]
    assert [log.event_time_ms(k) for k in range(log.size)] == [750, 1000, 1250, 1500]
    log.discard_oldest(3)
    assert log.size == 1 and log.items() == [(1500, 85, 5)]
    log.add(90, 6)
    assert log.items() == [(1500, 85, 5), (1500, 90, 6)]


def test_replay_writes_one_row_per_tick():
    ctl = Controller(load_dict(two_group_raw()))
    lines = ["# a comment", "elapsed_ms,dB,dA"] + ["100,%d,0" % (1 if 20000 < i * 100 < 21000 else 0) for i in range(400)]
    out = []
    events = []
    total = replay(ctl, lines, out.append, events.append)
    assert total == 40000
    assert out[0] == "time_ms,A,B" and len(out) == 401
    assert out[-1].split(",")[0] == "40000"
    assert any(e.split(",")[1] == "1" for e in events)


def test_replay_rejects_bad_rows_with_line_numbers():
    ctl = Controller(load_dict(two_group_raw()))
    for lines, msg in (
        (["elapsed_ms,dA"], "detectors missing from the trace: dB"),
        (["elapsed_ms,dA,dX"], "column 'dX' is not a detector"),
        (["elapsed_ms,dA,dB", "100,0,2"], "line 2: detector column 2 value '2' must be 0 or 1"),
        (["elapsed_ms,dA,dB", "abc,0,0"], "line 2: elapsed_ms='abc' is not an integer"),
        (["elapsed_ms,dA,dB", "100,0"], "line 2: expected 3 fields"),
    ):
        try:
            replay(ctl, lines, lambda l: None)
        except TraceError as e:
            assert msg in str(e), str(e)
        else:
            assert False, "accepted %r" % lines


def test_event_names_are_the_codes_names_in_lower_case():
    # event_names reads event_codes: every code has its name, and no
    # parameter value (FAULT_*, ALARM_*, COORD_STATE_*) is taken for a code
    from controller.events import codes as ev
    from controller.events.names import NAMES

    assert NAMES[ev.PHASE_BEGIN_GREEN] == "phase_begin_green"
    assert NAMES[ev.VENDOR_ALARM] == "vendor_alarm" and NAMES[ev.COORD_PLAN_REJECTED] == "coord_plan_rejected"
    # the names exported event files have always carried for the detector faults
    assert (NAMES[84], NAMES[85], NAMES[88]) == (
        "detector_fault_max_presence", "detector_fault_no_activity", "detector_fault_erratic")
    codes = [getattr(ev, n) for n in dir(ev) if n[:1].isupper() and not n.startswith(("FAULT_", "ALARM_", "COORD_STATE_"))]
    from controller.events import priority_codes

    codes += [getattr(priority_codes, n) for n in dir(priority_codes) if n[:1].isupper()]
    assert len(codes) == len(NAMES) == 46 and sorted(codes) == sorted(NAMES)  # 11 of them preemption and TSP (102-115)
    assert ev.FAULT_CONFLICT == 1 and NAMES[1] == "phase_begin_green"  # a parameter value, not code 1
