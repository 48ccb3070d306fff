"""In-process board end for tests: a Station and WireServer whose port is a byte buffer."""

from __future__ import annotations

import json
from pathlib import Path

from controller.wire import frame as wf
from firmware.boards import PROFILES
from firmware.station import Station
from firmware.wire_server import WireServer
from tests.conftest import EXAMPLE_CONFIG


class BufferPort:
    """The wire as a byte buffer: what the board writes collects in `sent`."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.closed = False

    def write(self, buf, n: int) -> None:
        self.sent += bytes(buf[:n])


def board(tmp: Path, config: bool = True, profile: str = "virtual") -> WireServer:
    if config:
        raw = json.loads(EXAMPLE_CONFIG.read_text())
        (tmp / "config.json").write_text(json.dumps(raw, separators=(",", ":")))
    return WireServer(Station(PROFILES[profile], str(tmp)), BufferPort(), profile, lockstep=True)


def ask(srv: WireServer, data: bytes) -> list[tuple[int, int, bytes]]:
    """Feed bytes to the board; return the frames it answered."""
    srv.port.sent.clear()
    srv.feed(bytearray(data), len(data))
    return wf.FrameDecoder().feed(bytes(srv.port.sent))
