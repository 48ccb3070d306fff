"""Lockstep board whose host goes silent: flash until the bench resets it.

Only a valid frame shows that the host is there; line noise and bad frames
never do. The first tests run the real main loop (firmware/app.py) in-process
on a scripted clock and wire, so they are exact; the last runs the firmware
under the MicroPython interpreter and waits for the board's FAULT frame, with
a bound that only ends a hung test.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from controller.wire import frame as wf
from controller.wire import messages as wm
from controller.config.loading import load_file
from controller.safety.signal_states import FLASH_YELLOW, GREEN
from firmware.host_virtual import VirtualBoard
from hil.proxy import DeviceController
from tests.conftest import EXAMPLE_CONFIG
from tests.firmware.wire_support import BufferPort, board

TIMEOUT_MS = 1500


class ScriptedClock:
    """Stands in for MicroPython's `time` in firmware/app.py: ms that move only when the wire waits."""

    def __init__(self) -> None:
        self.now = 0

    def ticks_ms(self) -> int:
        return self.now

    @staticmethod
    def ticks_diff(a: int, b: int) -> int:
        return a - b

    def sleep_ms(self, ms: int) -> None:
        self.now += ms


class ScriptedWire(BufferPort):
    """The board's wire: bytes arrive at scripted ms; read_into waits on the scripted clock.

    A script entry (at, until_ms) with an int instead of bytes stalls the loop:
    the read that starts at `at` returns only at until_ms, with whatever
    arrived meanwhile (a board busy elsewhere, a descheduled unix port).
    """

    def __init__(self, clock: ScriptedClock, script: list[tuple[int, bytes | int]], until_ms: int) -> None:
        super().__init__()
        self.clock = clock
        self.script = sorted(script, key=lambda e: e[0])
        self.until_ms = until_ms

    def read_into(self, buf, timeout_ms: int) -> int:
        c = self.clock
        if self.script and self.script[0][0] <= c.now + timeout_ms:
            at, data = self.script.pop(0)
            c.now = max(c.now, at)
            if isinstance(data, int):  # a stall
                c.now = data
                data = b""
                while self.script and self.script[0][0] <= c.now:
                    data += self.script.pop(0)[1]
            buf[:len(data)] = data
            return len(data)
        c.now += timeout_ms
        if c.now >= self.until_ms:
            self.closed = True
        return 0


def run_board(tmp_path: Path, monkeypatch, script: list[tuple[int, bytes]], until_ms: int):
    """The lockstep main loop of firmware/app.py on the example config, fed by the script."""
    import firmware.app as app

    board(tmp_path)  # the example config on the board's flash
    clock = ScriptedClock()
    wire = ScriptedWire(clock, script, until_ms)
    monkeypatch.setattr(app, "time", clock)
    monkeypatch.setattr(app, "make_port", lambda profile: wire)
    b = app.Board("virtual", str(tmp_path), lockstep=True, host_timeout_ms=TIMEOUT_MS)
    b.run()
    return b


def ticks(first_ms: int, count: int, seq0: int = 0) -> list[tuple[int, bytes]]:
    """A host ticking every 100 ms from first_ms (18 detectors, none occupied)."""
    return [(first_ms + 100 * k, wf.encode_frame(wm.TICK, (seq0 + k) & 0xFF, wm.tick_request(100, bytearray(18))))
            for k in range(count)]


def test_line_noise_does_not_keep_a_silent_host_alive(tmp_path: Path, monkeypatch) -> None:
    # 30 s of ticks bring up the first green; then the host dies and the
    # line carries 4 bytes of 0xFF a second (the finding: lamps froze forever)
    script = ticks(0, 300)
    script += [(30_000 + 1000 * k, b"\xff" * 4) for k in range(10)]
    b = run_board(tmp_path, monkeypatch, script, until_ms=40_000)
    st = b.station
    assert st.ctl is None and "no valid frame from the host" in st.reason
    assert all(s == FLASH_YELLOW for s in st.outputs[:4])


def test_bad_frames_and_zero_bytes_do_not_count_as_the_host(tmp_path: Path, monkeypatch) -> None:
    good = wf.encode_frame(wm.STATUS, 44, b"")
    bad_crc = bytearray(good)
    bad_crc[-2] ^= 0x01
    script = ticks(0, 300)
    script += [(30_000 + 500 * k, bytes(bad_crc) if k % 2 else b"\x00\x00\x07\x00") for k in range(12)]
    # the run ends 1 s after the last bad frame: only never crediting them brings flash
    b = run_board(tmp_path, monkeypatch, script, until_ms=36_500)
    assert b.station.ctl is None and "no valid frame from the host" in b.station.reason
    assert b.server.dec.bad >= 6  # the bad frames were seen and counted


def test_a_valid_frame_within_the_timeout_keeps_the_board_running(tmp_path: Path, monkeypatch) -> None:
    # STATUS polls every 1.4 s (under the 1.5 s timeout) are the host being there
    script = ticks(0, 300)
    script += [(29_900 + 1400 * k, wf.encode_frame(wm.STATUS, 44 + k, b"")) for k in range(1, 8)]
    b = run_board(tmp_path, monkeypatch, script, until_ms=29_900 + 1400 * 7 + 1000)
    assert b.station.ctl is not None and not b.station.ctl.flashing
    assert GREEN in b.station.outputs


def test_a_frame_after_the_timeout_finds_the_board_flashing(tmp_path: Path, monkeypatch) -> None:
    # silence is judged on the clock, not on when the loop got to run: the
    # loop stalls from 30.0 s to 31.6 s, and the tick that came at 31.5 s
    # (1.6 s after the last one) is answered from flash
    script = ticks(0, 300) + [(30_000, 31_600)] + ticks(31_500, 1, seq0=300)
    b = run_board(tmp_path, monkeypatch, script, until_ms=32_000)
    assert b.station.ctl is None and "no valid frame from the host" in b.station.reason
    replies = wf.FrameDecoder().feed(bytes(b.server.port.sent))
    last = [p for t, s, p in replies if t == wm.TICK_REPLY][-1]
    assert last[4] & wm.TICK_FLASHING


HOST_TIMEOUT_MS = 5000  # on the virtual board: far above any pause between two ticks of a busy host
WAIT_FOR_FLASH_S = 60.0  # a generous bound: the board flashes after HOST_TIMEOUT_MS, this only ends a hung test
NOISE = b"\xff" * 4


def wait_for_fault_frame(dev: DeviceController, noise_every_s: float) -> tuple[bytes, float]:
    """Put line noise on the wire until the board reports a FAULT; its payload and the host's seconds waited.

    Only noise goes out (a request would be a valid frame, the host being
    there), so the board's own FAULT frame is the event waited for.
    """
    start = time.monotonic()
    while time.monotonic() - start < WAIT_FOR_FLASH_S:
        dev.link.send_raw(NOISE)
        got = dev.link.receive(noise_every_s)
        if got is not None and got[0] == wm.FAULT:
            return got[2], time.monotonic() - start
    raise AssertionError("no FAULT frame within %.0f s of host silence" % WAIT_FOR_FLASH_S)


@pytest.mark.micropython
def test_silent_host_sends_the_board_to_flash_until_reset() -> None:
    # Outcomes, not durations: the board's own FAULT frame is waited for
    # (bounded only to end a hung test), and what it says is checked; the
    # only time compared is a lower bound a slow machine cannot break.
    ix = load_file(EXAMPLE_CONFIG)
    presence = bytearray(ix.n_detectors)
    with VirtualBoard(host_timeout_ms=HOST_TIMEOUT_MS) as port, DeviceController(port, ix) as dev:
        for _ in range(299):  # 30 s of ticks: startup flash, all red, first stage green
            dev.step(100, presence)
        silent_from = time.monotonic()  # before the last tick: the board hears every frame of it later
        dev.step(100, presence)
        assert GREEN in dev.outputs and not dev.flashing
        assert not [f for f in dev.link.unsolicited if f[0] == wm.FAULT]  # a ticking host is a host
        # line noise only: never a valid frame, so never the host
        payload, _ = wait_for_fault_frame(dev, noise_every_s=0.25)
        waited_s = time.monotonic() - silent_from
        reason = payload[2:].decode()
        m = re.fullmatch(r"no valid frame from the host for (\d+) ms: flashing until reset", reason)
        assert m, reason
        assert int(m.group(1)) >= HOST_TIMEOUT_MS  # judged on the board's clock, noise never reset it
        assert waited_s * 1000 >= HOST_TIMEOUT_MS - 50  # never before the timeout (50 ms: two clocks' granularity)
        status = dev.status()
        assert status["flashing"] and status["reason"] == reason
        out = dev.step(100, presence)
        assert all(s == FLASH_YELLOW for g, s in enumerate(out) if not ix.is_pedestrian[g])
        dev.reset(wm.RESET_POWER_CYCLE)
        for _ in range(300):
            dev.step(100, presence)
        assert GREEN in dev.outputs and not dev.status()["flashing"]
