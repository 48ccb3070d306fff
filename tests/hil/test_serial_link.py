"""The serial link on pyserial URLs other than a pty: loop:// and socket://."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from controller import wire_frame as wf
from controller import wire_messages as wm
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
