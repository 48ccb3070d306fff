"""Host-side helpers for tests: random detector traces and running the replay tools."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def write_random_trace(ix, path: Path, ticks: int, seed: int, tick_ms: int = 100, jitter_ms: int = 0) -> None:
    """A detector trace with vehicles arriving at random on every loop (one row per tick)."""
    rnd = random.Random(seed)
    on_left = [0] * ix.n_detectors
    with open(path, "w") as f:
        f.write("elapsed_ms," + ",".join(ix.detector_ids) + "\n")
        for _ in range(ticks):
            bits = []
            for i in range(ix.n_detectors):
                if on_left[i] > 0:
                    on_left[i] -= 1
                elif rnd.random() < 0.03:
                    on_left[i] = rnd.randint(2, 8)  # a vehicle occupies the loop 0.2-0.8 s
                bits.append("1" if on_left[i] else "0")
            elapsed = tick_ms + (rnd.randint(-jitter_ms, jitter_ms) if jitter_ms else 0)
            f.write("%d,%s\n" % (elapsed, ",".join(bits)))


def cpython_replay(config: Path, trace: Path, signals: Path, events: Path, strategy: str | None = None) -> None:
    """Replay through the in-process core with the same CLI users run."""
    cmd = [sys.executable, "-m", "ampelwerk", "replay", str(config), str(trace), "--out", str(signals), "--events", str(events)]
    if strategy:
        cmd += ["--strategy", strategy]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)


def micropython_replay(micropython: str, config: Path, trace: Path, signals: Path, events: Path, strategy: str | None = None) -> None:
    """Replay through the core on the real MicroPython interpreter."""
    cmd = [micropython, str(ROOT / "tests" / "micropython_replay.py"), str(config), str(trace), str(signals), str(events)]
    if strategy:
        cmd.append(strategy)
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
