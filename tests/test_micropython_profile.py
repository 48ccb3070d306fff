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


def test_flashing_green_unit_tests_pass_under_micropython(micropython: str) -> None:
    r = subprocess.run([micropython, "tests/micropython_runner.py", "tests.controller.test_flashing_green"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and int(last.split()[0]) >= 16, last


@pytest.mark.parametrize("strategy", ["actuated", "fixed", "adaptive"])
def test_flashing_green_allocates_nothing_per_tick(micropython: str, tmp_path: Path, strategy: str) -> None:
    cfg = tmp_path / "custom-flashing.json"
    cfg.write_text(json.dumps(custom_flashing_example()))
    r = subprocess.run([micropython, "tests/micropython_profile_heap_check.py", str(cfg), strategy, "20000"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "heap-locked ticks: 20000" in r.stdout
    lines = dict(line.split(": ", 1) for line in r.stdout.strip().splitlines())
    # dozens of changes of stage in 2000 s, each ending greens with 2 s (20 ticks) of flashing green
    assert int(lines["flashing green to yellow"]) >= 20, r.stdout
    assert int(lines["flashing-green ticks"]) >= 20 * int(lines["flashing green to yellow"]), r.stdout
    assert int(lines["red-amber to green"]) >= 20, r.stdout


def test_red_amber_unit_tests_pass_under_micropython(micropython: str) -> None:
    r = subprocess.run([micropython, "tests/micropython_runner.py", "tests.controller.test_red_amber"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and int(last.split()[0]) >= 15, last


@pytest.mark.parametrize("strategy", ["actuated", "fixed", "adaptive"])
def test_de_rilsa_red_amber_allocates_nothing_per_tick(micropython: str, tmp_path: Path, strategy: str) -> None:
    cfg = tmp_path / "de-rilsa.json"
    cfg.write_text(json.dumps(de_rilsa_example()))
    r = subprocess.run([micropython, "tests/micropython_profile_heap_check.py", str(cfg), strategy, "20000"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "heap-locked ticks: 20000" in r.stdout
    lines = dict(line.split(": ", 1) for line in r.stdout.strip().splitlines())
    # 20000 ticks of 100 ms = 2000 s: dozens of changes of stage, each with 1 s of red-amber (10 ticks) or more
    assert int(lines["red-amber to green"]) >= 20, r.stdout
    assert int(lines["red-amber ticks"]) >= 10 * int(lines["red-amber to green"]), r.stdout

