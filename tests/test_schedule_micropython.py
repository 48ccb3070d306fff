"""The time-of-day program on the real MicroPython interpreter: two days of plan changes
(strategy swaps, flash and back, midnight, the clock set again) with the heap locked."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.micropython


def test_plan_changes_allocate_nothing_per_tick(micropython: str) -> None:
    r = subprocess.run([micropython, "tests/micropython_schedule_heap_check.py",
                        str(ROOT / "examples" / "four_leg_schedule.json"), "48"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "heap-locked ticks: 172800" in r.stdout
    changes = int(r.stdout.split("plan changes: ")[1].split()[0])
    assert changes >= 10, r.stdout  # Monday and a holiday Tuesday: flash, early, peak, day, offpeak
    assert "plans seen: 1 2 3 4 5" in r.stdout


def test_schedule_unit_tests_pass_under_micropython(micropython: str) -> None:
    r = subprocess.run([micropython, "tests/micropython_runner.py", "tests.controller.test_schedule"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1].endswith(" 0 failed")
