"""Lockstep board whose host goes silent: flash until the bench resets it."""

from __future__ import annotations

import time

import pytest

from controller import wire_messages as wm
from controller.config import load_file
from controller.signal_states import FLASH_YELLOW, GREEN
from firmware.host_virtual import VirtualBoard
from hil.proxy import DeviceController
from tests.conftest import EXAMPLE_CONFIG

pytestmark = pytest.mark.micropython


def test_silent_host_sends_the_board_to_flash_until_reset() -> None:
    ix = load_file(EXAMPLE_CONFIG)
    presence = bytearray(ix.n_detectors)
    with VirtualBoard(host_timeout_ms=1500) as port, DeviceController(port, ix) as dev:
        for _ in range(300):  # 30 s of ticks: startup flash, all red, first stage green
            dev.step(100, presence)
        assert GREEN in dev.outputs and not dev.flashing
        time.sleep(1.0)  # within the timeout, and any frame shows the host is there
        assert dev.status()["flashing"] is False
        time.sleep(2.5)  # silent for over 1.5 s: flash, with the reason
        status = dev.status()
        assert status["flashing"] and "no tick from the host" in status["reason"]
        out = dev.step(100, presence)
        assert all(s == FLASH_YELLOW for g, s in enumerate(out) if not ix.is_pedestrian[g])
        dev.reset(wm.RESET_POWER_CYCLE)
        for _ in range(300):
            dev.step(100, presence)
        assert GREEN in dev.outputs and not dev.status()["flashing"]
