"""virtual:// (firmware/host_urlhandler): the virtual board opened by URL through pyserial's
protocol handlers, like any port; the board lives exactly as long as the port is open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import serial

from controller.wire import messages as wm
from controller.config.loading import load_file
from firmware.host_urlhandler import register
from firmware.host_urlhandler.protocol_virtual import board_options
from hil.proxy import DeviceController
from hil.serial_link import LinkError, SerialLink
from tests.conftest import EXAMPLE_CONFIG

register()


@pytest.mark.micropython
def test_a_virtual_url_starts_the_board_and_closing_the_port_stops_it() -> None:
    port = serial.serial_for_url("virtual://?config=%s" % EXAMPLE_CONFIG, timeout=0.02)
    board = port.board
    flash = Path(board._flash.name)
    assert port.is_open and board.alive() and flash.is_dir()
    assert port.port == "virtual://?config=%s" % EXAMPLE_CONFIG and os.path.exists(port.portstr)  # the pty
    port.close()
    assert port.board is None and not board.alive() and board.proc.returncode == 0
    assert not flash.exists()  # the board's flash folder went with it
    assert port.portstr == port.port


@pytest.mark.micropython
def test_the_bench_talks_to_a_virtual_url_as_to_a_port() -> None:
    link = SerialLink("virtual://?config=%s" % EXAMPLE_CONFIG)  # no upload: the board boots from its flash
    try:
        p = link.request(wm.HELLO, bytes([1, 0]))
        assert p[1] == wm.BOARD_CONFIG_LOADED and b"config=example-4leg" in p
        assert any("running config example-4leg" in line for line in link.port.board.console)
    finally:
        link.close()
    ix = load_file(EXAMPLE_CONFIG)
    with DeviceController("virtual://", ix) as dev:  # a board without config: the proxy uploads one
        for _ in range(50):
            dev.step(100, bytearray(ix.n_detectors))
        assert dev.status()["ticks"] == 50 and dev.status()["config_uploads"] == 1
        board = dev.link.port.board
    assert not board.alive()


@pytest.mark.micropython
def test_heap_and_host_timeout_reach_the_interpreter() -> None:
    port = serial.serial_for_url("virtual://?heap=256k&host_timeout_ms=4000")
    try:
        args = port.board.proc.args
        assert args[1:3] == ["-X", "heapsize=256k"] and args[-2:] == ["--host-timeout-ms", "4000"]
    finally:
        port.close()


def test_options_are_decoded_and_checked_before_anything_starts(tmp_path: Path) -> None:
    path = tmp_path / "my config.json"
    assert board_options("virtual://") == {}
    assert board_options("virtual://?config=%s&network=net.json&heap=64k&host_timeout_ms=3000"
                         % str(path).replace(" ", "%20")) == {
        "config": str(path), "network": "net.json", "heap": "64k", "host_timeout_ms": 3000}
    for url, message in (("virtual://board1", "has 'board1' before the options"),
                         ("virtual://?heapsize=64k", "unknown option 'heapsize' in virtual://?heapsize=64k (known: "
                                                     "config, network, heap, host_timeout_ms)"),
                         ("virtual://?config", "option config in virtual://?config needs a value"),
                         ("virtual://?host_timeout_ms=-5", "host_timeout_ms=-5 in virtual://?host_timeout_ms=-5 must "
                                                           "be a whole number of ms, at least 1")):
        with pytest.raises(serial.SerialException) as e:
            serial.serial_for_url(url, do_not_open=True)
        assert message in str(e.value)


def test_a_missing_config_file_is_a_link_error_naming_the_url(tmp_path: Path) -> None:
    url = "virtual://?config=%s" % (tmp_path / "none.json")
    with pytest.raises(LinkError) as e:
        SerialLink(url)
    assert str(e.value).startswith("cannot open serial port '%s': [Errno 2] No such file" % url)
