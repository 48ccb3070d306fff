"""The firmware's lockstep tick path on the real MicroPython interpreter, from
mpy-cross output: it boots from flash and steps thousands of ticks heap-locked
(no allocation per tick). Speed and smallest heap: bench/firmware_bench.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from firmware.host_build import build
from firmware.host_flash import compact_config
from tests.conftest import EXAMPLE_CONFIG, ROOT

pytestmark = pytest.mark.micropython


def test_lockstep_tick_path_allocates_nothing_under_micropython(micropython: str, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    build(bundle)
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_bytes(compact_config(EXAMPLE_CONFIG))
    r = subprocess.run([micropython, str(ROOT / "tests" / "firmware" / "micropython_tick_path.py"), str(bundle),
                        str(flash), "5000", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "us_per_tick" in r.stdout and "heap_in_use" in r.stdout


def test_board_logic_unit_tests_pass_under_micropython(micropython: str) -> None:
    r = subprocess.run([micropython, "tests/micropython_runner.py", "tests.firmware.test_board_logic"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-1000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and int(last.split()[0]) >= 6, last
