"""Request/reply over the serial wire (docs/wire-protocol.md), on pyserial.

The port is any pyserial URL: a device path (``/dev/ttyACM0``), a pty path,
``virtual://`` (the virtual board, once firmware.host_urlhandler is
registered), ``loop://`` or ``socket://host:port``. Each request gets
the next sequence number; a lost or corrupt reply is retried with the same
seq, which the board answers from its cache without acting twice.
"""

from __future__ import annotations

import time

from controller.wire import frame as wf
from controller.wire import messages as wm


class LinkError(Exception):
    """The port could not be used, or the board did not answer."""


class DeviceError(Exception):
    """The board answered a request with an ERROR frame."""

    def __init__(self, code: int, text: str):
        self.code = code
        self.text = text
        super().__init__("board error %d (%s): %s" % (code, wm.ERROR_NAMES.get(code, "?"), text))


def open_port(url: str, baudrate: int = 115200):
    """Open a pyserial port or URL; a clear LinkError when it does not exist."""
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=0.02, write_timeout=2)
    except (serial.SerialException, ValueError, OSError) as e:
        raise LinkError(
            "cannot open serial port %r: %s. Expected a device path (e.g. /dev/ttyACM0), the pty path printed by "
            "'ampelwerk firmware virtual', virtual:// (the virtual board), loop:// or socket://HOST:PORT" % (url, e)
        ) from None


class SerialLink:
    """One host end of the wire: framing, sequence numbers, retries."""

    def __init__(self, url: str, baudrate: int = 115200, timeout_s: float = 2.0, retries: int = 2):
        self.url = url
        self.port = open_port(url, baudrate)
        self.timeout_s = timeout_s
        self.retries = retries
        self.decoder = wf.FrameDecoder()
        self.seq = 0
        self.pending: list[tuple[int, int, bytes]] = []
        self.stray = 0  # frames that answered nothing we asked (e.g. errors about garbage)
        self.retried = 0
        self.unsolicited: list[tuple[int, int, bytes]] = []  # FAULT / STATE_REPORT frames

    def close(self) -> None:
        self.port.close()

    def send_raw(self, data: bytes) -> None:
        """Put bytes on the line as they are (the bench's garbage test)."""
        self.port.write(data)
        self.port.flush()

    def receive(self, timeout_s: float) -> tuple[int, int, bytes] | None:
        """The next valid frame within timeout_s, or None."""
        end = time.monotonic() + timeout_s
        while not self.pending:
            data = self.port.read(max(1, self.port.in_waiting))
            if data:
                self.pending.extend(self.decoder.feed(data))
            elif time.monotonic() >= end:
                return None
        return self.pending.pop(0)

    def request(self, ptype: int, payload: bytes = b"") -> bytes:
        """Send one request and return the payload of its reply; DeviceError on ERROR."""
        self.seq = (self.seq + 1) & 0xFF
        seq = self.seq
        frame = wf.encode_frame(ptype, seq, payload)
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
            self.port.write(frame)
            end = time.monotonic() + self.timeout_s
            while True:
                left = end - time.monotonic()
                got = self.receive(left) if left > 0 else None
                if got is None:
                    break
                rtype, rseq, body = got
                if rtype in (wm.FAULT, wm.STATE_REPORT):
                    self.unsolicited.append(got)
                elif rseq != seq or (rtype == wm.ERROR and body and body[0] < wf.BAD_VERSION):
                    # not ours: a reply to something else, or an error about
                    # undecodable bytes (their seq byte means nothing)
                    self.stray += 1
                elif rtype == wm.ERROR:
                    raise DeviceError(body[0] if body else 0, body[1:].decode(errors="replace"))
                elif rtype == (ptype | wm.REPLY):
                    return body
                else:
                    self.stray += 1
        raise LinkError("no reply to request type 0x%02x seq %d from %s after %d tries of %.1f s: is the board "
                        "running the Ampelwerk firmware in lockstep mode?" % (ptype, seq, self.url, self.retries + 1, self.timeout_s))
