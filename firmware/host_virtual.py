"""The virtual board: the real firmware on the MicroPython unix port behind a pty.

``VirtualBoard(config)`` starts ``micropython firmware/main.py`` in lockstep
mode with a private flash directory, opens a pseudo-terminal in raw mode and
relays bytes between the pty and the firmware's stdin/stdout. Serial clients
open ``board.port`` like any serial device. With ``network`` (a network.json,
docs/firmware.md) the board joins an MQTT broker as well. Use it as a context manager
(``with VirtualBoard(cfg) as port: ...``), via ``ampelwerk firmware virtual``, or
by URL: pyserial's ``virtual://`` (firmware/host_urlhandler) starts one when the
port opens and stops it when the port closes.
Host side (CPython).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from firmware.host_tools import find_tool

ROOT = Path(__file__).resolve().parent.parent


def find_micropython() -> str:
    """The unix-port interpreter (next to this Python, or on PATH)."""
    return find_tool("micropython")


class VirtualBoard:
    """The firmware under the unix MicroPython, reachable as a serial port."""

    def __init__(self, config: str | Path | None = None, echo_console: bool = False,
                 micropython: str | None = None, heap: str | None = None, host_timeout_ms: int | None = None,
                 network: str | Path | None = None):
        self.config = Path(config) if config else None
        self.network = Path(network) if network else None  # network.json for the board's MQTT link
        self.echo_console = echo_console
        self.micropython = micropython
        self.heap = heap
        self.host_timeout_ms = host_timeout_ms  # None: the virtual profile's own
        self.port = ""
        self.console: list[str] = []  # the firmware's console lines (stderr)
        self.proc: subprocess.Popen | None = None
        self._flash: tempfile.TemporaryDirectory | None = None
        self._master = self._slave = -1
        self._threads: list[threading.Thread] = []

    def start(self) -> str:
        """Start the firmware; returns the pty path to open."""
        import tty

        self._flash = tempfile.TemporaryDirectory(prefix="ampelwerk-flash-")
        if self.config is not None:
            raw = json.loads(self.config.read_text())  # compact, as 'firmware flash' stores it
            Path(self._flash.name, "config.json").write_text(json.dumps(raw, separators=(",", ":")))
        if self.network is not None:
            from firmware.host_flash import network_files

            try:
                network_files(self.network, Path(self._flash.name))
            except ValueError:
                self._flash.cleanup()
                self._flash = None
                raise
        cmd = [self.micropython or find_micropython()]
        if self.heap:
            cmd += ["-X", "heapsize=" + self.heap]
        cmd += [str(ROOT / "firmware" / "main.py"), "--flash", self._flash.name, "--mode", "lockstep"]
        if self.host_timeout_ms is not None:
            cmd += ["--host-timeout-ms", str(self.host_timeout_ms)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.port = os.ttyname(self._slave)
        for fn in (self._pty_to_board, self._board_to_pty, self._read_console):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self._threads.append(t)
        return self.port

    def _pty_to_board(self) -> None:
        while True:
            try:
                data = os.read(self._master, 4096)
                if not data:
                    return
                self.proc.stdin.write(data)
            except OSError:  # pty closed, or the board stopped
                return

    def _board_to_pty(self) -> None:
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 4096)
            if not data:
                return
            try:
                os.write(self._master, data)
            except OSError:
                return

    def _read_console(self) -> None:
        for line in self.proc.stderr:
            text = line.decode(errors="replace").rstrip()
            self.console.append(text)
            if self.echo_console:
                print(text, file=sys.stderr, flush=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Close the wire (the firmware exits on end of input) and clean up."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        for t in self._threads:
            t.join(timeout=2)
        if self._flash is not None:
            self._flash.cleanup()
            self._flash = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
