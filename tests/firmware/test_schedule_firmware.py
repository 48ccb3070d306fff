"""The local time on a board: SET_TIME over the wire (in-process and on the virtual board behind
a pty), the board's clock, and the same plan changes as the core on CPython."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.config.loading import load_file
from controller.core import Controller
from controller.events import codes as ev
from controller.local_calendar import DAY_MS
from controller.wire import frame as wf
from controller.wire import messages as wm
from firmware.boards import PROFILES
from firmware.local_clock import LocalClock
from firmware.station import Station
from firmware.wire_server import WireServer
from tests.conftest import ROOT
from tests.firmware.wire_support import BufferPort, ask

SCHEDULE_CONFIG = ROOT / "examples" / "four_leg_schedule.json"


def _set_time(date: int, ms: int) -> bytes:
    p = bytearray(8)
    wm.put_u32(p, 0, date)
    wm.put_u32(p, 4, ms)
    return bytes(p)


def _board(tmp: Path, config: Path) -> WireServer:
    (tmp / "config.json").write_text(json.dumps(json.loads(config.read_text()), separators=(",", ":")))
    return WireServer(Station(PROFILES["virtual"], str(tmp)), BufferPort(), "virtual", lockstep=True)


def test_set_time_reaches_the_core_and_the_boards_clock(tmp_path: Path) -> None:
    srv = _board(tmp_path, SCHEDULE_CONFIG)
    [(t, seq, p)] = ask(srv, wf.encode_frame(wm.SET_TIME, 1, _set_time(20261208, 7 * 3600000)))
    assert t == wm.SET_TIME_ACK and p[0] & wm.SET_TIME_CORE
    sched = srv.station.ctl.plans.schedule
    assert (sched.date, sched.weekday, sched.ms_of_day) == (20261208, 1, 7 * 3600000)
    assert srv.station.clock.now() == (20261208, 1, 7 * 3600000)  # no RTC in-process: kept by the ticks
    for s in range(2, 12):
        ask(srv, wf.encode_frame(wm.TICK, s, wm.tick_request(100, bytearray(18))))
    assert srv.station.clock.now() == (20261208, 1, 7 * 3600000 + 1000)
    [(t, seq, p)] = ask(srv, wf.encode_frame(wm.SET_TIME, 12, _set_time(20261332, 0)))
    assert t == wm.ERROR and p[0] == wm.ERR_BAD_PAYLOAD and b"date=20261332" in p
    [(t, seq, p)] = ask(srv, wf.encode_frame(wm.SET_TIME, 13, b"\x01\x02"))
    assert t == wm.ERROR and p[0] == wm.ERR_BAD_PAYLOAD and b"8 bytes" in p
    assert sched.date == 20261208 and srv.station.clock.now()[0] == 20261208  # the bad ones changed nothing


def test_set_time_on_a_config_without_a_program_sets_only_the_clock(tmp_path: Path) -> None:
    srv = _board(tmp_path, ROOT / "examples" / "four_leg.json")
    [(t, seq, p)] = ask(srv, wf.encode_frame(wm.SET_TIME, 1, _set_time(20261208, 0)))
    assert t == wm.SET_TIME_ACK and p[0] == 0
    assert srv.station.clock.now()[0] == 20261208


def test_the_free_running_board_hands_in_its_clock_at_start_and_hourly() -> None:
    ctl = Controller(load_file(SCHEDULE_CONFIG))
    clock = LocalClock()
    clock.rtc = None
    clock.set(20261207, 7 * 3600000)
    clock.advance(DAY_MS + 1000)  # the ticks carry it over midnight
    assert clock.now() == (20261208, 1, 7 * 3600000 + 1000)
    clock.set(20261207, 7 * 3600000)
    assert clock.hand_in(ctl, 100) is True and ctl.plans.names[ctl.plans.schedule.due] == "peak"
    assert clock.hand_in(ctl, 100) is False  # then not again within the hour
    ctl.plans.schedule.ms_of_day = 0  # a drifted core clock
    assert clock.hand_in(ctl, 3600000) is True and ctl.plans.schedule.ms_of_day >= 7 * 3600000
    other = Controller(load_file(SCHEDULE_CONFIG))
    assert clock.hand_in(other, 100) is True  # a new controller at once


class FakeRtc:
    def __init__(self, when: tuple) -> None:
        self.when = when

    def datetime(self, value: tuple | None = None):
        if value is None:
            return self.when
        self.when = value


def test_the_rtc_gives_the_local_time_and_an_unset_one_none() -> None:
    clock = LocalClock()
    clock.rtc = FakeRtc((2026, 12, 24, 3, 18, 30, 15, 0))
    assert clock.now() == (20261224, 3, (18 * 3600 + 30 * 60 + 15) * 1000)
    clock.rtc = FakeRtc((2000, 1, 1, 5, 0, 0, 0, 0))  # never set since power-up
    assert clock.now() is None
    assert clock.set(20270101, 3600000 + 5000) is True
    assert clock.rtc.when == (2027, 1, 1, 4, 1, 0, 5, 0)  # a Friday: weekday 4
    with pytest.raises(ValueError, match="date=20270230"):
        clock.set(20270230, 0)


@pytest.mark.micropython
def test_the_virtual_board_changes_plans_like_the_core(micropython: str) -> None:
    from firmware.host_virtual import VirtualBoard
    from hil.proxy import DeviceController

    ix = load_file(SCHEDULE_CONFIG)
    ref = Controller(load_file(SCHEDULE_CONFIG))
    with VirtualBoard(SCHEDULE_CONFIG) as port, DeviceController(port, ix) as dev:
        # Monday 06:59:50: "early" (actuated), then "peak" (fixed) at 07:00
        assert dev.set_local_time(20261207, 0, 7 * 3600000 - 10000) is True
        ref.set_local_time(20261207, 0, 7 * 3600000 - 10000)
        pres = bytearray(ix.n_detectors)
        seen = []
        for i in range(400):
            pres[i % len(pres)] ^= 1 if i % 7 == 0 else 0
            dev.step(100, pres)
            ref.step(100, pres)
            assert bytes(dev.outputs) == bytes(ref.outputs), i
            seen += [p for _, code, p in dev.drain_events() if code == ev.COORD_PATTERN_CHANGE]
        assert seen == [2, 3]
