"""A board on the serial wire as a controller-shaped object.

``DeviceController(url, ix)`` has what runners use from an in-process
``controller.core.Controller``: ``ix``, ``outputs``, ``flashing``,
``step(elapsed_ms, presence) -> outputs`` and ``drain_events()``. On connect
it says hello and uploads ``ix.raw`` as JSON, which restarts the board's core
with its startup sequence; then every ``step`` is one lockstep TICK. A board
whose controller runs switches to a new config (or power-cycles) only after
the running program's safe ending (docs/core.md, rule 7): the proxy ticks it
through that ending, with its loops unoccupied, before it returns.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from typing import Iterator

from controller.wire import messages as wm
from controller.wire.frame import MAX_PAYLOAD, PROTOCOL_VERSION
from hil.serial_link import DeviceError, LinkError, SerialLink

CONFIG_CHUNK_BYTES = MAX_PAYLOAD - 12
SWITCH_TICK_MS = 500  # ticks that carry a board through a safe ending
SWITCH_MAX_TICKS = 2400  # 20 minutes of them: longer than any min green, clearance and red clearance
# EVENTS requests after one tick, at most: the board's ring (512 events) in replies of 32, twice over
MAX_EVENT_REQUESTS = 32


@contextlib.contextmanager
def _parsing(what: str, p: bytes) -> Iterator[None]:
    """A reply that passed the frame checks but is too short, or not text where text belongs, is a LinkError
    naming it (a board of another firmware, or a broken one), never an IndexError from deep inside."""
    try:
        yield
    except (IndexError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        raise LinkError("the board's %s reply is malformed (%d bytes, %s%s: %s): is it running the Ampelwerk firmware "
                        "of wire protocol %d?" % (what, len(p), bytes(p[:12]).hex(), "..." if len(p) > 12 else "", e,
                                                  PROTOCOL_VERSION)) from None


class DeviceController:
    """Drives a board (or the virtual board) in lockstep over the wire."""

    def __init__(self, url: str, ix, strategy: str | None = None, bench: bool = False,
                 baudrate: int = 115200, timeout_s: float = 2.0, link: SerialLink | None = None):
        self.link = link or SerialLink(url, baudrate=baudrate, timeout_s=timeout_s)
        self.flashing = False
        self.mode = 0
        self.ticks = 0
        self.events: list[tuple[int, int, int]] = []
        # (elapsed ms, states) of every tick the proxy made itself to carry the board through a safe ending
        self.switch_ticks: list[tuple[int, bytes]] = []
        try:
            self.hello = self.say_hello(bench)
            self.board_detectors = self.hello["n_detectors"]  # of the config the board runs now
            self.use_config(ix, strategy)
        except Exception:
            self.link.close()
            raise

    def use_config(self, ix, strategy: str | None = None) -> None:
        """Upload ix.raw (strategy overriding the config's own): the board restarts with it."""
        raw = dict(ix.raw)
        if strategy is not None:
            raw["strategy"] = strategy
        self.ix = ix
        self.outputs = bytearray(ix.n_groups)
        self.upload_config(json.dumps(raw, separators=(",", ":")).encode())

    def say_hello(self, bench: bool = False) -> dict:
        """Handshake: protocol version and what the board runs."""
        p = self.link.request(wm.HELLO, bytes([PROTOCOL_VERSION, wm.HELLO_BENCH if bench else 0]))
        with _parsing("hello", p):
            if p[0] != PROTOCOL_VERSION:
                raise LinkError("board speaks wire protocol %d, this host %d: flash matching firmware" % (
                    p[0], PROTOCOL_VERSION))
            return {"version": p[0], "config_loaded": bool(p[1] & wm.BOARD_CONFIG_LOADED),
                    "test_hooks": bool(p[1] & wm.BOARD_TEST_HOOKS), "max_payload": wm.get_u16(p, 2),
                    "n_groups": p[4], "n_detectors": p[5], "config_crc": wm.get_u32(p, 6), "text": p[10:].decode()}

    def upload_config(self, data: bytes) -> None:
        """Chunked config upload; the board applies it only whole and valid (DeviceError otherwise)."""
        crc = zlib.crc32(data)
        off = 0
        self.events.clear()  # the old program's
        while True:
            chunk = data[off:off + CONFIG_CHUNK_BYTES]
            p = self.link.request(wm.CONFIG, wm.config_chunk(off, len(data), crc, chunk))
            with _parsing("config", p):
                if wm.get_u32(p, 1) <= off:
                    raise LinkError("board acknowledged config bytes up to %d, not past %d: start again" % (
                        wm.get_u32(p, 1), off))
                off = wm.get_u32(p, 1)
                if p[0] == 1:
                    self._show(p, 5)
                    break
                switching = p[0] == 2
            if switching:
                self._finish_switch()
                break
            if off >= len(data):
                raise LinkError("board acknowledged the whole config without applying it")
        self.board_detectors = self.ix.n_detectors

    def _finish_switch(self) -> None:
        """Tick the board (loops free) through the safe ending of its running program until it switched."""
        idle = bytearray(self.board_detectors)
        for _ in range(SWITCH_MAX_TICKS):
            p = self.link.request(wm.TICK, wm.tick_request(SWITCH_TICK_MS, idle))
            with _parsing("tick", p):
                ticks, flags, mode, states, events = wm.parse_tick_reply(p)
            self.switch_ticks.append((SWITCH_TICK_MS, bytes(states)))
            if not flags & wm.TICK_SWITCH_PENDING:
                # switched in this tick: the states and events are the new program's, before its first tick
                if len(states) == len(self.outputs):
                    self.outputs[:] = states
                self.events.extend(events)
                return
        raise LinkError("board did not end its running program within %d s" % (SWITCH_MAX_TICKS * SWITCH_TICK_MS // 1000))

    def _show(self, p: bytes, at: int) -> None:
        # states the board shows right after a (re)start, before its first tick
        states = p[at + 1:at + 1 + p[at]]
        if len(states) == len(self.outputs):
            self.outputs[:] = states

    def step(self, elapsed_ms: int, presence) -> bytearray:
        p = self.link.request(wm.TICK, wm.tick_request(elapsed_ms, presence))
        with _parsing("tick", p):
            ticks, flags, mode, states, events = wm.parse_tick_reply(p)
        if len(states) != self.ix.n_groups:
            raise LinkError("board returned %d signal states, the config has %d groups: config not applied?" % (
                len(states), self.ix.n_groups))
        self.outputs[:] = states
        self.flashing = bool(flags & wm.TICK_FLASHING)
        self.mode = mode
        self.ticks = ticks
        self.events.extend(events)
        asked = 0
        while flags & wm.TICK_EVENTS_PENDING:
            if asked == MAX_EVENT_REQUESTS:
                raise LinkError("board still reports events pending after %d EVENTS requests of %d: more than its "
                                "ring holds" % (asked, wm.MAX_EVENTS_PER_REPLY))
            asked += 1
            q = self.link.request(wm.EVENTS, bytes([wm.MAX_EVENTS_PER_REPLY]))
            with _parsing("events", q):
                self.events.extend(wm.get_events(q, 3, q[2]))
                flags = wm.TICK_EVENTS_PENDING if wm.get_u16(q, 0) else 0
        return self.outputs

    def drain_events(self) -> list[tuple[int, int, int]]:
        out, self.events = self.events, []
        return out

    def status(self) -> dict:
        p = self.link.request(wm.STATUS)
        with _parsing("status", p):
            return wm.parse_status(p)

    def reset(self, kind: int = wm.RESET_POWER_CYCLE) -> None:
        """RESET_POWER_CYCLE restarts the core from the stored config; RESET_CLEAR_FAULT unlatches flash.

        Either one on a running program first ends it safely: ticked through here for a power cycle;
        a cleared fault restarts at once, a running program restarts after its ending in the next steps.
        """
        p = self.link.request(wm.RESET, bytes([kind]))
        with _parsing("reset", p):
            self._show(p, 1)
            pending_at = 2 + p[1]  # after kind, n and the states
            pending = len(p) > pending_at and p[pending_at]
        if pending:
            self._finish_switch()

    def set_local_time(self, date: int, weekday: int, ms_of_day: int) -> bool:
        """The local time for the board's time-of-day program (SET_TIME; the board works the weekday
        out from the date). True when the running config has a program and took it, as
        Controller.set_local_time; the board's clock is set either way."""
        from controller.local_calendar import weekday_of

        if weekday != weekday_of(date):
            raise ValueError("weekday=%r does not match date=%r" % (weekday, date))
        payload = bytearray(8)
        wm.put_u32(payload, 0, date)
        wm.put_u32(payload, 4, ms_of_day)
        p = self.link.request(wm.SET_TIME, bytes(payload))
        with _parsing("set time", p):
            return bool(p[0] & wm.SET_TIME_CORE)

    def priority(self, class_number: int, on: bool) -> int:
        """A preemption / transit priority request (class number 1-based, config order): on adds one,
        off clears one. Returns the requests of the class the board counts now."""
        p = self.link.request(wm.PRIORITY, wm.priority_request(class_number, on))
        with _parsing("priority", p):
            if len(p) != 2 or p[0] != class_number:
                raise IndexError("priority ack %r for class %d" % (p, class_number))
            return p[1]

    def inject(self, states: bytes) -> None:
        """Bench test hook: force these states for the next tick, before the conflict monitor."""
        self.link.request(wm.TEST_INJECT, bytes([len(states)]) + bytes(states))

    def close(self) -> None:
        self.link.close()

    def __enter__(self) -> DeviceController:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["DeviceController", "DeviceError", "LinkError"]
