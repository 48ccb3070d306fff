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
    r = subprocess.run([micropython, "tests/micropython_heap_check.py", str(cfg), strategy, "40000"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "heap-locked ticks: 40000" in r.stdout
    line = next(x for x in r.stdout.splitlines() if x.startswith("priority:")).split()
    preemptions, adjustments, timeouts = int(line[2]), int(line[5]), int(line[7])
    # the locked run went through preemptions, transit adjustments and timeouts
    assert preemptions >= 10 and adjustments >= 10 and timeouts >= 1, line
