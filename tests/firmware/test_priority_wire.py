"""Priority requests over the serial wire (PRIORITY, 0x50): the board's end
(firmware/wire_server.py) behind a pyserial loop:// line, driven by the bench's
proxy (hil/proxy.py), and the request's retry and error rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.config.loading import load_dict
from controller.events import priority_codes as ev
from controller.safety.signal_states import GREEN
from controller.wire import frame as wf
from controller.wire import messages as wm
from firmware.boards import PROFILES
from firmware.station import Station
from firmware.wire_server import WireServer
from hil.proxy import DeviceController
from hil.serial_link import DeviceError, SerialLink
from tests.controller.priority_support import BUS, EMS, RAIL, loops, three_stage_raw
from tests.firmware.wire_support import BufferPort, ask
from tests.safety_invariants import InvariantChecker

RAW = three_stage_raw({"classes": [EMS, RAIL, BUS]}, extra_detectors=loops("ems", "rail", "bus"))


def _board(tmp: Path) -> WireServer:
    (tmp / "config.json").write_text(json.dumps(RAW))
    return WireServer(Station(PROFILES["virtual"], str(tmp)), BufferPort(), "virtual", lockstep=True)


class _BoardOnLoop:
    """A loop:// line with the board's wire end on its far side: what the host writes goes
    round the loop, is read off it by the board, and the board's reply goes round the loop to
    the host."""

    def __init__(self, port, srv: WireServer) -> None:
        self.port = port
        self.srv = srv

    def write(self, data: bytes) -> int:
        self.port.write(data)
        line = self.port.read(len(data))  # the board's end of the line
        assert line == bytes(data)
        self.srv.port.sent.clear()
        self.srv.feed(bytearray(line), len(line))
        self.port.write(bytes(self.srv.port.sent))
        return len(data)

    def __getattr__(self, name):
        return getattr(self.port, name)


def test_a_priority_request_over_the_wire_preempts_the_board(tmp_path: Path) -> None:
    srv = _board(tmp_path)
    link = SerialLink("loop://")
    link.port = _BoardOnLoop(link.port, srv)
    ix = load_dict(RAW)
    dev = DeviceController("loop://", ix, link=link)
    chk = InvariantChecker(RAW, bytes(dev.outputs))
    presence = bytearray(ix.n_detectors)
    presence[0] = presence[1] = presence[2] = 1  # every group has demand
    green_b = []
    for t in range(100, 40001, 100):
        if t == 10000:
            assert dev.priority(1, True) == 1  # the emergency class, as its check-in would
        out = dev.step(100, presence)
        chk.step(100, out)
        if out[1] == GREEN and not green_b:
            green_b.append(t)
    # as in tests/controller/test_priority.py: A green at 9000, the request before the
    # 10000 ms tick, A ends at 9000 + 3000, B after the 5000 ms intergreen
    assert green_b == [17000]
    codes = [(code, param) for _, code, param in dev.drain_events()]
    assert (ev.PREEMPT_CALL_INPUT_ON, 1) in codes and (ev.PREEMPT_BEGIN_DWELL, 1) in codes
    assert dev.priority(1, False) == 0
    assert chk.violations == [] and not dev.flashing
    with pytest.raises(DeviceError) as e:
        dev.priority(4, True)
    assert e.value.code == wm.ERR_BAD_PAYLOAD and "priority class 4 is not in the config (3 classes)" in e.value.text
    dev.close()


def test_a_retried_priority_request_counts_once(tmp_path: Path) -> None:
    srv = _board(tmp_path)
    ask(srv, wf.encode_frame(wm.HELLO, 1, bytes([wf.PROTOCOL_VERSION, 0])))
    frame = wf.encode_frame(wm.PRIORITY, 2, wm.priority_request(3, True))
    [(t, seq, p)] = ask(srv, frame)
    assert (t, seq, bytes(p)) == (wm.PRIORITY_ACK, 2, bytes([3, 1]))
    [(t, seq, p)] = ask(srv, frame)  # the host lost the ack and sends it again
    assert (t, bytes(p)) == (wm.PRIORITY_ACK, bytes([3, 1]))
    assert srv.station.ctl.priority.requests.count[2] == 1
    [(t, seq, p)] = ask(srv, wf.encode_frame(wm.PRIORITY, 3, bytes([3, 7])))
    assert t == wm.ERROR and p[0] == wm.ERR_BAD_PAYLOAD and b"on u8 (0 or 1)" in bytes(p)


def test_a_config_without_priority_refuses_the_request(tmp_path: Path) -> None:
    from tests.firmware.wire_support import board

    srv = board(tmp_path)
    ask(srv, wf.encode_frame(wm.HELLO, 1, bytes([wf.PROTOCOL_VERSION, 0])))
    [(t, seq, p)] = ask(srv, wf.encode_frame(wm.PRIORITY, 2, wm.priority_request(1, True)))
    assert t == wm.ERROR and p[0] == wm.ERR_BAD_PAYLOAD and b"(0 classes)" in bytes(p)
