# The conflict monitor: independent checks latch flash until reset.
from controller.events import codes as ev
from controller.config.defaults import with_defaults
from controller.safety.conflict_monitor import ConflictMonitor
from controller.events.log import EventLog
from controller.safety.signal_states import GREEN, RED, YELLOW
from tests.controller.core_support import Alternate, Recorder, controller, two_group_raw


def _monitor():
    log = EventLog(64)
    mon = ConflictMonitor(with_defaults(two_group_raw()))
    mon.check(0, bytearray([RED, RED]), log)
    return mon, log


def test_conflicting_greens_latch():
    mon, log = _monitor()
    assert mon.check(10000, bytearray([GREEN, RED]), log)
    assert not mon.check(100, bytearray([GREEN, GREEN]), log)
    assert mon.latched and mon.fault in (ev.FAULT_CONFLICT, ev.FAULT_INTERGREEN)
    # stays latched even when the outputs are fine again
    assert not mon.check(100, bytearray([RED, RED]), log)


def test_short_yellow_latches():
    mon, log = _monitor()
    assert mon.check(10000, bytearray([GREEN, RED]), log)
    assert mon.check(6000, bytearray([YELLOW, RED]), log)
    assert not mon.check(2000, bytearray([RED, RED]), log)
    assert mon.fault == ev.FAULT_SHORT_YELLOW


def test_intergreen_violation_latches():
    mon, log = _monitor()
    mon.check(10000, bytearray([GREEN, RED]), log)
    mon.check(6000, bytearray([YELLOW, RED]), log)
    mon.check(3000, bytearray([RED, RED]), log)
    assert not mon.check(1000, bytearray([RED, GREEN]), log)  # 4000 ms < 5000 ms intergreen A->B
    assert mon.fault == ev.FAULT_INTERGREEN


def test_green_to_red_without_yellow_latches():
    mon, log = _monitor()
    mon.check(10000, bytearray([GREEN, RED]), log)
    assert not mon.check(9000, bytearray([RED, RED]), log)
    assert mon.fault == ev.FAULT_BAD_SEQUENCE


def test_short_green_latches():
    mon, log = _monitor()
    mon.check(8000, bytearray([RED, RED]), log)
    mon.check(100, bytearray([GREEN, RED]), log)
    assert not mon.check(1000, bytearray([YELLOW, RED]), log)  # 1000 ms < 5000 ms min green
    assert mon.fault == ev.FAULT_SHORT_GREEN


def test_forced_conflict_in_controller_latches_flash_until_reset():
    ctl = controller(two_group_raw(), Alternate())
    rec = Recorder(ctl).run(30000)
    assert not ctl.flashing
    # a fault between kernel and heads: force both greens, as a broken kernel would
    ctl.kernel.state[0] = 2
    ctl.kernel.state[1] = 2
    rec.run(100)
    assert ctl.flashing
    latched_at = rec.time_ms
    rec.run(60000)
    # flash from the latch on, and nothing else for a minute
    assert rec.trace[-1] == (latched_at, "ff")
    codes = [c for _, c, _ in ctl.drain_events()]
    assert ev.VENDOR_ALARM in codes and ev.UNIT_FLASH_STATUS_CHANGE in codes
    ctl.reset()
    reset_at = rec.time_ms
    rec.run(40000)
    assert not ctl.flashing
    after = [(t, s) for t, s in rec.trace if t > reset_at]
    # startup sequence again: flash (still "ff") for 2 s, all red for 7 s, then a stage
    assert after[0] == (reset_at + 2000, "RR")
    assert after[1][0] == reset_at + 9000 and after[1][1] in ("GR", "RG")
