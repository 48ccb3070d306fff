"""Free-running mode on the unix port: the board's own clock drives the core,
states and events go out as STATE_REPORT frames, lockstep ticks are refused."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from controller.wire import frame as wf
from controller.wire import messages as wm
from tests.conftest import EXAMPLE_CONFIG, ROOT

pytestmark = pytest.mark.micropython


def test_free_running_board_reports_its_states_by_itself(micropython: str, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(json.loads(EXAMPLE_CONFIG.read_text())))
    p = subprocess.Popen([micropython, "firmware/main.py", "--flash", str(tmp_path), "--mode", "free"], cwd=ROOT,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    dec = wf.FrameDecoder()
    frames: list = []
    try:
        p.stdin.write(wf.encode_frame(wm.TICK, 1, wm.tick_request(100, bytearray(18))))
        end = time.monotonic() + 30
        while time.monotonic() < end and sum(1 for f in frames if f[0] == wm.STATE_REPORT) < 12:
            frames.extend(dec.feed(os.read(p.stdout.fileno(), 4096)))
    finally:
        p.stdin.close()
        p.wait(timeout=10)
    reports = [wm.parse_tick_reply(b) for t, _, b in frames if t == wm.STATE_REPORT]
    errors = [b for t, _, b in frames if t == wm.ERROR]
    assert len(reports) >= 12
    ticks = [r[0] for r in reports]
    assert ticks == sorted(ticks) and ticks[-1] >= 12  # its own clock, one report per tick
    assert all(len(r[3]) == 10 for r in reports)
    assert reports[0][2] == 0  # startup flash first
    assert errors and errors[0][0] == wm.ERR_NOT_ALLOWED and b"free-running" in errors[0]
    assert "free-running mode" in p.stderr.read().decode()
