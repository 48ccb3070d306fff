"""pyserial URL handlers of the host tooling: ``virtual://`` opens the virtual board. Host only.

pyserial opens a URL ``SCHEME://...`` with the class ``Serial`` of the first
module ``<package>.protocol_<scheme>`` it finds in the packages listed in
``serial.protocol_handler_packages`` (its own ``loop://``, ``socket://`` and
``spy://`` come that way). ``register()`` lists this package there; from then
on ``serial.serial_for_url("virtual://...")`` starts the virtual board
(protocol_virtual.py), so everything that opens a port by URL
(hil.serial_link, ``hil run --port``, ``sim run --device``) reaches a fake
board and a real one by the same code path. Not part of the board bundle.
"""

from __future__ import annotations


def register() -> None:
    """Let pyserial's serial_for_url open ``virtual://`` URLs (idempotent)."""
    import serial

    if __name__ not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(__name__)
