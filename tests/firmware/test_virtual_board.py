"""The real firmware on unix MicroPython behind a pty: the serial layers run
for real (pyserial on the pty path), and the same detector trace gives the
identical signal and event trace in-process on CPython, in-process on
MicroPython (controller/trace_replay.py) and over serial to the virtual board."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.wire import messages as wm
from controller.config.loading import load_file
from controller.events.log import CSV_HEADER
from firmware.host_virtual import VirtualBoard
from hil.proxy import DeviceController, DeviceError
from controller.trace_replay import replay as replay_controller_shaped
from hil.serial_link import LinkError, SerialLink
from tests.conftest import EXAMPLE_CONFIG
from tests.trace_tools import cpython_replay, micropython_replay, write_random_trace

pytestmark = pytest.mark.micropython


def device_replay(port: str, trace: Path, signals: Path, events: Path) -> None:
    ix = load_file(EXAMPLE_CONFIG)
    with DeviceController(port, ix) as dev, open(trace) as src, open(signals, "w") as sig, open(events, "w") as evf:
        evf.write(CSV_HEADER + "\n")
        replay_controller_shaped(dev, src, lambda line: sig.write(line + "\n"), lambda line: evf.write(line + "\n"))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_same_trace_on_cpython_micropython_and_the_virtual_board(micropython: str, tmp_path: Path, seed: int) -> None:
    ix = load_file(EXAMPLE_CONFIG)
    trace = tmp_path / "trace.csv"
    write_random_trace(ix, trace, ticks=6000, seed=seed, jitter_ms=40)
    cpython_replay(EXAMPLE_CONFIG, trace, tmp_path / "cp.csv", tmp_path / "cp.ev.csv")
    micropython_replay(micropython, EXAMPLE_CONFIG, trace, tmp_path / "mp.csv", tmp_path / "mp.ev.csv")
    with VirtualBoard() as port:
        device_replay(port, trace, tmp_path / "dev.csv", tmp_path / "dev.ev.csv")
    cp = (tmp_path / "cp.csv").read_text()
    assert cp.count("\n") == 6001
    assert len(set(line.split(",", 1)[1] for line in cp.splitlines()[1:])) > 10  # signals really changed
    assert cp == (tmp_path / "mp.csv").read_text() == (tmp_path / "dev.csv").read_text()
    cpe = (tmp_path / "cp.ev.csv").read_text()
    assert cpe.count("\n") > 1000
    assert cpe == (tmp_path / "mp.ev.csv").read_text() == (tmp_path / "dev.ev.csv").read_text()


def test_virtual_board_boots_from_flash_and_answers_over_the_pty() -> None:
    board = VirtualBoard(EXAMPLE_CONFIG)
    with board as port:
        assert os.path.exists(port)
        link = SerialLink(port)  # hello only, no upload: the board runs the config on its flash
        p = link.request(wm.HELLO, bytes([1, 0]))
        assert p[1] == wm.BOARD_CONFIG_LOADED and p[4] == 10 and p[5] == 18 and b"config=example-4leg" in p
        link.close()
    assert any("running config example-4leg" in line for line in board.console)


def test_virtual_board_without_config_flashes_and_rejects_a_bad_upload() -> None:
    import json

    board = VirtualBoard()
    with board as port:
        ix = load_file(EXAMPLE_CONFIG)
        dev = DeviceController(port, ix)  # uploads a good config
        raw = json.loads(EXAMPLE_CONFIG.read_text())
        raw["intergreen_ms"]["K1"]["K4"] = 1000
        with pytest.raises(DeviceError) as e:
            dev.upload_config(json.dumps(raw).encode())
        assert e.value.code == wm.ERR_CONFIG_INVALID and "K1" in e.value.text
        dev.step(100, bytearray(18))
        st = dev.status()
        assert st["config_id"] == "example-4leg" and st["config_uploads"] == 1 and st["config_rejected"] == 1
        assert st["ticks"] == 1
        dev.close()
    assert any("no config on flash" in line for line in board.console)
    assert any("upload rejected, old config kept" in line for line in board.console)


def test_proxy_shows_the_startup_state_before_the_first_tick() -> None:
    from controller.core import Controller

    ix = load_file(EXAMPLE_CONFIG)
    with VirtualBoard() as port, DeviceController(port, ix) as dev:
        assert dev.outputs == Controller(ix).outputs  # runners may read outputs before stepping
        for _ in range(100):
            dev.step(100, bytearray(18))
        assert dev.outputs != Controller(ix).outputs
        dev.reset(wm.RESET_POWER_CYCLE)
        assert dev.outputs == Controller(ix).outputs


def test_lost_reply_is_retried_with_the_same_seq_without_a_second_step() -> None:
    with VirtualBoard(EXAMPLE_CONFIG) as port:
        dev = DeviceController(port, load_file(EXAMPLE_CONFIG))
        dev.step(100, bytearray(18))
        link = dev.link
        # send a tick and throw its reply away, as if the line lost it
        link.seq = (link.seq + 1) & 0xFF
        from controller.wire import frame as wf

        link.port.write(wf.encode_frame(wm.TICK, link.seq, wm.tick_request(100, bytearray(18))))
        assert link.receive(2.0) is not None
        link.seq = (link.seq - 1) & 0xFF  # the host believes the tick never went out
        dev.step(100, bytearray(18))
        assert dev.ticks == 2 and dev.status()["ticks"] == 2
        dev.close()


def test_missing_port_gives_a_clear_error() -> None:
    with pytest.raises(LinkError) as e:
        SerialLink("/dev/ampelwerk-no-such-port")
    assert "cannot open serial port" in str(e.value) and "loop://" in str(e.value)
