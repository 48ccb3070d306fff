"""A reset or a new config on a running board never cuts a green or a yellow (docs/core.md rule 7):
the station in-process, and the real firmware on the virtual board over the wire at random moments."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from controller.wire import messages as wm
from controller.config.loading import load_dict
from controller.safety.signal_states import GREEN, RED
from firmware.boards import PROFILES
from firmware.station import Station
from tests.conftest import EXAMPLE_CONFIG
from tests.safety_invariants import InvariantChecker

PROFILE = PROFILES["virtual"]


def configs() -> tuple[dict, dict]:
    """The example junction twice: as it is, and starting without flash (heads straight to all red)."""
    a = json.loads(EXAMPLE_CONFIG.read_text())
    b = dict(a, id="example-4leg-noflash", startup_flash_ms=0)
    return a, b


def _station(tmp_path: Path, raw: dict) -> Station:
    (tmp_path / "config.json").write_text(json.dumps(raw))
    return Station(PROFILE, str(tmp_path))


def test_an_upload_mid_green_waits_for_the_safe_ending(tmp_path: Path) -> None:
    a, b = configs()
    st = _station(tmp_path, b)
    chk = InvariantChecker(b, bytes(st.outputs))
    presence = bytearray(st.n_detectors)
    for _ in range(200):  # all red, then the first stage green
        chk.step(100, st.tick(100, presence))
    assert GREEN in st.outputs
    old = st.ctl
    assert st.apply_upload(json.dumps(a).encode()) == ""
    assert st.pending is not None and st.ctl is old  # stored, not yet running
    ticks = 0
    while st.ctl is old:
        chk.step(100, st.tick(100, presence))
        ticks += 1
        assert ticks < 1000
    assert chk.violations == [] and ticks >= 30  # at least the yellow and the red clearance
    assert st.ctl.ix.id == a["id"] and st.pending is None
    assert json.loads((tmp_path / "config.json").read_text())["id"] == a["id"]


def test_a_bad_upload_is_refused_at_once_and_the_program_runs_on(tmp_path: Path) -> None:
    _, b = configs()
    st = _station(tmp_path, b)
    presence = bytearray(st.n_detectors)
    for _ in range(200):
        st.tick(100, presence)
    old = st.ctl
    assert "invalid config" in st.apply_upload(b'{"id": 1}')
    assert st.ctl is old and st.pending is None and GREEN in st.outputs


def test_a_power_cycle_of_a_flashing_board_is_at_once(tmp_path: Path) -> None:
    _, b = configs()
    st = _station(tmp_path, b)
    presence = bytearray(st.n_detectors)
    for _ in range(200):
        st.tick(100, presence)
    st.ctl.kernel.state[0] = GREEN  # a broken kernel: the monitor latches flash
    st.ctl.kernel.state[4] = GREEN
    st.tick(100, presence)
    assert st.ctl.flashing
    old = st.ctl
    assert st.request_boot()
    assert st.ctl is not old and all(s == RED for s in st.outputs)


@pytest.mark.micropython
def test_resets_and_uploads_at_random_moments_over_the_wire(micropython: str, tmp_path: Path) -> None:
    from firmware.host_virtual import VirtualBoard
    from hil.proxy import DeviceController

    a, b = configs()
    ixs = [load_dict(a), load_dict(b)]
    rnd = random.Random(5)
    actions = {"reset0": 0, "reset1": 0, "upload": 0}
    with VirtualBoard(config=EXAMPLE_CONFIG) as port, DeviceController(port, ixs[0]) as dev:
        chk = InvariantChecker(a, bytes(dev.outputs))
        presence = bytearray(ixs[0].n_detectors)
        for k in range(4000):
            for i in range(len(presence)):
                if rnd.random() < (0.3 if presence[i] else 0.02):
                    presence[i] ^= 1
            chk.step(100, dev.step(100, presence))
            if k > 100 and rnd.random() < 0.004:
                what = rnd.choice(("reset0", "reset1", "upload"))
                actions[what] += 1
                dev.switch_ticks.clear()
                if what == "upload":
                    dev.use_config(ixs[rnd.randrange(2)])
                else:
                    dev.reset(wm.RESET_CLEAR_FAULT if what == "reset0" else wm.RESET_POWER_CYCLE)
                for elapsed, states in dev.switch_ticks:  # the ticks that carried it through the ending
                    chk.step(elapsed, states)
        status = dev.status()
    assert chk.violations == [], chk.violations[:3]
    assert not status["flashing"] and status["internal_errors"] == 0
    assert min(actions.values()) >= 2, actions
    assert chk.green_starts > 20
