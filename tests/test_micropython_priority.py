"""Preemption and transit priority on the real MicroPython interpreter: the tick path
allocates nothing while requests come and go (loops, the wire's way, timeouts)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.controller.priority_support import BUS, EMS, RAIL, loops, three_stage_raw

pytestmark = pytest.mark.micropython


@pytest.mark.parametrize("strategy", ["actuated", "adaptive", "coordinated"])
def test_priority_ticks_allocate_nothing(micropython: str, tmp_path: Path, strategy: str) -> None:
    raw = three_stage_raw({"classes": [EMS, RAIL, BUS]}, strategy=strategy,
                          extra_detectors=loops("ems", "rail", "bus"))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(raw))
    r = subprocess.run([micropython, "tests/micropython_priority_heap_check.py", str(cfg), strategy, "40000"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "heap-locked priority ticks: 40000" in r.stdout
    figures = r.stdout.strip().splitlines()[-1].split()
    preemptions, adjustments, timeouts, served = int(figures[1]), int(figures[4]), int(figures[6]), int(figures[9])
    # the run went through preemptions, transit adjustments and timeouts, and served every group
    assert preemptions >= 10 and adjustments >= 10 and timeouts >= 1 and served == 3
