"""``virtual://``: the virtual board as a pyserial port. Host only.

    virtual://[?config=FILE][&network=FILE][&heap=SIZE][&host_timeout_ms=MS]

Opening the port starts the firmware on the MicroPython unix port behind a
pty (firmware/host_virtual.py) and opens the pty like any serial device;
closing the port stops the board (end of input, then its flash folder is
removed), so the board lives exactly as long as the port. Options, all
optional: ``config`` a config JSON stored on the board's flash (default:
none, the host uploads one), ``network`` a network.json (the board joins that
MQTT broker, docs/firmware.md), ``heap`` the MicroPython heap size
(``-X heapsize``, e.g. ``64k``), ``host_timeout_ms`` how long the board waits
for its host before it goes to its safe state (default: the virtual profile's).
Relative paths are taken from the current directory; percent-escapes
(``%20``) are decoded. ``port.board`` is the running VirtualBoard (its
``console`` holds the firmware's console lines).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import serial

FORM = "virtual://[?config=FILE][&network=FILE][&heap=SIZE][&host_timeout_ms=MS]"
OPTIONS = ("config", "network", "heap", "host_timeout_ms")


def board_options(url: str) -> dict[str, Any]:
    """VirtualBoard keyword arguments from a ``virtual://`` URL; SerialException naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != "virtual":
        raise serial.SerialException("expected %s, not %r" % (FORM, url))
    if parts.netloc or parts.path:
        raise serial.SerialException("expected %s: %s has %r before the options" % (
            FORM, url, parts.netloc + parts.path))
    options: dict[str, Any] = {}
    for item in parts.query.split("&") if parts.query else ():
        name, eq, value = item.partition("=")
        if name not in OPTIONS:
            raise serial.SerialException("unknown option %r in %s (known: %s)" % (name, url, ", ".join(OPTIONS)))
        if not eq or not value:
            raise serial.SerialException("option %s in %s needs a value (%s)" % (name, url, FORM))
        value = unquote(value)
        if name == "host_timeout_ms":
            if not value.isdigit() or int(value) < 1:
                raise serial.SerialException("host_timeout_ms=%s in %s must be a whole number of ms, at least 1"
                                             % (value, url))
            options[name] = int(value)
        else:
            options[name] = value
    return options


class Serial(serial.Serial):
    """The virtual board behind a pty, opened like a serial device; closing it stops the board."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.board = None  # the VirtualBoard while the port is open
        self._board_options: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    @serial.Serial.port.setter  # type: ignore[attr-defined]
    def port(self, value: str | None) -> None:
        if value is not None:
            self._board_options = board_options(value)  # checked before anything starts
        serial.Serial.port.__set__(self, value)

    def open(self) -> None:
        """Start the board, then open its pty (portstr) with the native implementation."""
        from firmware.host_virtual import VirtualBoard

        if self._port is None:
            raise serial.SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise serial.SerialException("Port is already open.")
        board = VirtualBoard(**self._board_options)
        try:
            self.portstr = board.start()
            super().open()
        except BaseException:
            board.stop()  # also removes the flash folder of a board that never ran
            self.portstr = self._port
            raise
        self.board = board

    def close(self) -> None:
        """Close the pty and stop the board."""
        super().close()
        board, self.board = self.board, None
        if board is not None:
            board.stop()
        self.portstr = self._port
