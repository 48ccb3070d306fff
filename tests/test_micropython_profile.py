"""A regional profile's red-amber on the real MicroPython interpreter: the portable
unit tests (tests/controller/test_red_amber.py) and a heap-locked de-rilsa run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG, ROOT

pytestmark = pytest.mark.micropython


def de_rilsa_example() -> dict:
    """examples/four_leg.json under the de-rilsa profile: 50 km/h approaches, the profile's timings."""
    raw = json.loads(Path(EXAMPLE_CONFIG).read_text())
    raw["profile"] = "de-rilsa"
    for g in raw["signal_groups"]:
        if g.get("kind") != "pedestrian":
            for k in ("yellow_ms", "min_green_ms"):
                g.pop(k, None)
            g["approach_speed_kmh"] = 50
    return raw


def custom_flashing_example() -> dict:
    """examples/four_leg.json under the custom profile: every vehicle group with 1 s red-amber and
    2 s flashing green (Austria's sequence)."""
    raw = json.loads(Path(EXAMPLE_CONFIG).read_text())
    raw["profile"] = "custom"
    for g in raw["signal_groups"]:
        if g.get("kind") != "pedestrian":
            g["red_amber_ms"] = 1000
            g["flashing_green_ms"] = 2000
    return raw


def _heap_locked_run(micropython: str, tmp_path: Path, raw: dict, strategy: str) -> dict:
    """tests/micropython_profile_heap_check.py on raw for 20000 ticks: its counts by name."""
    cfg = tmp_path / "profiled.json"
    cfg.write_text(json.dumps(raw))
    r = subprocess.run([micropython, "tests/micropython_profile_heap_check.py", str(cfg), strategy, "20000"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "heap-locked ticks: 20000" in r.stdout
    return {k: int(v) for k, v in (line.split(": ", 1) for line in r.stdout.strip().splitlines())}


def _portable_tests_pass(micropython: str, module: str, at_least: int) -> None:
    r = subprocess.run([micropython, "tests/micropython_runner.py", module], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and int(last.split()[0]) >= at_least, last


def test_flashing_green_unit_tests_pass_under_micropython(micropython: str) -> None:
    _portable_tests_pass(micropython, "tests.controller.test_flashing_green", 17)


def test_red_amber_unit_tests_pass_under_micropython(micropython: str) -> None:
    _portable_tests_pass(micropython, "tests.controller.test_red_amber", 15)


@pytest.mark.parametrize("strategy", ["actuated", "fixed", "adaptive"])
@pytest.mark.parametrize("example", ["de-rilsa", "custom-flashing-green"])
def test_profiled_sequence_allocates_nothing_per_tick(micropython: str, tmp_path: Path, example: str,
                                                      strategy: str) -> None:
    flashing = example == "custom-flashing-green"
    lines = _heap_locked_run(micropython, tmp_path, custom_flashing_example() if flashing else de_rilsa_example(),
                             strategy)
    # 20000 ticks of 100 ms = 2000 s: dozens of changes of stage, each with 1 s of red-amber (10 ticks) or more
    assert lines["red-amber to green"] >= 20, lines
    assert lines["red-amber ticks"] >= 10 * lines["red-amber to green"], lines
    if flashing:  # and greens ended by 2 s (20 ticks) of flashing green
        assert lines["flashing green to yellow"] >= 20, lines
        assert lines["flashing-green ticks"] >= 20 * lines["flashing green to yellow"], lines
