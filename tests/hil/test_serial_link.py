"""The serial link on pyserial URLs other than a pty: loop:// and socket://."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from controller.wire import frame as wf
from controller.wire import messages as wm
from hil.serial_link import DeviceError, SerialLink
from tests.firmware.wire_support import board


def test_loop_url_carries_frames_through_garbage() -> None:
    link = SerialLink("loop://")
    link.send_raw(b"\x17\x99junk" + wf.encode_frame(wm.STATUS, 5) + b"\x00\x00")
    assert link.receive(1.0) == (wm.STATUS, 5, b"")
    assert link.receive(0.05) is None
    assert link.decoder.bad == 1
    link.close()


def test_socket_url_talks_to_a_board_end(tmp_path: Path) -> None:
    # the board's wire end (firmware/wire_server.py) served on a TCP socket
    srv = board(tmp_path)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    host, port = listener.getsockname()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                srv.port.sent.clear()
                srv.feed(bytearray(data), len(data))
                conn.sendall(bytes(srv.port.sent))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    link = SerialLink("socket://%s:%d" % (host, port))
    reply = link.request(wm.HELLO, bytes([wf.PROTOCOL_VERSION, 0]))
    assert reply[4] == 10 and reply[5] == 18
    p = link.request(wm.TICK, wm.tick_request(100, bytearray(18)))
    assert wm.parse_tick_reply(p)[0] == 1
    try:
        link.request(wm.RESET, b"\x09")
    except DeviceError as e:
        assert e.code == wm.ERR_BAD_PAYLOAD and "reset kind 9" in e.text
    else:
        raise AssertionError("bad reset kind accepted")
    link.close()
    listener.close()


def test_a_reply_too_short_or_not_text_is_a_link_error_naming_it() -> None:
    # IndexError / UnicodeDecodeError from deep in the proxy before (issue 14: a device reaches this parser)
    from controller.config.loading import load_file
    from hil.proxy import DeviceController
    from hil.serial_link import LinkError
    from tests.conftest import EXAMPLE_CONFIG
    from tests.fuzz_inputs import _ScriptedBoard, good_replies

    ix = load_file(EXAMPLE_CONFIG)
    good = good_replies()
    hello, tick = 0, len(good) - 3  # replies: hello, config acks..., tick, status, reset
    for i, cut, what in ((hello, lambda p: p[:3], "hello"), (hello, lambda p: p[:10] + b"\xff\xfe", "hello"),
                         (tick, lambda p: p[:6], "tick"), (tick + 1, lambda p: p[:20], "status")):
        replies = list(good)
        replies[i] = cut(replies[i])
        with pytest.raises(LinkError, match="the board's %s reply is malformed" % what):
            dev = DeviceController("scripted", ix, link=_ScriptedBoard(replies))
            dev.step(100, bytearray(ix.n_detectors))
            dev.status()


def test_a_board_that_always_has_events_pending_is_stopped() -> None:
    from controller.wire import messages as wm
    from controller.config.loading import load_file
    from hil.proxy import DeviceController
    from hil.serial_link import LinkError
    from tests.conftest import EXAMPLE_CONFIG
    from tests.fuzz_inputs import _ScriptedBoard, good_replies

    ix = load_file(EXAMPLE_CONFIG)
    good = good_replies()
    tick = bytearray(good[-3])
    tick[4] |= wm.TICK_EVENTS_PENDING
    more = bytes([1, 0, 0])  # 1 event still waiting, 0 in this reply
    dev = DeviceController("scripted", ix, link=_ScriptedBoard(good[:-3] + [bytes(tick)] + [more] * 100))
    with pytest.raises(LinkError, match="still reports events pending after 32 EVENTS requests"):
        dev.step(100, bytearray(ix.n_detectors))
