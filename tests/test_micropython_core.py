"""The core on the real MicroPython interpreter: unit tests, heap-locked ticks,
a small heap, mpy-cross, and identical traces on CPython and MicroPython."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from controller.config.loading import load_file
from tests.conftest import EXAMPLE_CONFIG, ROOT
from tests.trace_tools import cpython_replay, micropython_replay, write_random_trace

pytestmark = pytest.mark.micropython

PORTABLE_TEST_MODULES = sorted(
    "tests.controller." + p.stem for p in (ROOT / "tests" / "controller").glob("test_*.py")
)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)


def test_core_unit_tests_pass_under_micropython(micropython: str) -> None:
    assert len(PORTABLE_TEST_MODULES) >= 6
    r = _run([micropython, "tests/micropython_runner.py", *PORTABLE_TEST_MODULES])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    last = r.stdout.strip().splitlines()[-1]
    passed = int(last.split()[0])
    assert last.endswith(" 0 failed") and passed >= 40, last
    # the plan HMAC is board code: RFC 4231's published vectors pass on MicroPython's hashlib too
    assert "ok   tests.controller.test_plan_signature.test_hmac_sha256_gives_the_rfc_4231_test_vectors" in r.stdout


@pytest.mark.parametrize("strategy", ["actuated", "fixed", "adaptive", "coordinated"])
def test_thousands_of_ticks_allocate_nothing(micropython: str, strategy: str) -> None:
    r = _run([micropython, "tests/micropython_heap_check.py", str(EXAMPLE_CONFIG), strategy, "20000"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert "heap-locked ticks: 20000" in r.stdout


@pytest.mark.parametrize("case", ["permissive_turns", "exit_loops"])
def test_adaptive_with_permissive_turns_or_exit_loops_allocates_nothing(micropython: str, tmp_path: Path,
                                                                       case: str) -> None:
    import json

    from tests.controller.test_adaptive import _left_turn_raw
    from tests.controller.test_exit_blocking import _raw as exit_raw

    # exit loops: blocked after 1 s, so that the random presence blocks lanes often
    raw = _left_turn_raw(True) if case == "permissive_turns" else exit_raw(blocked_ms=1000)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(raw))
    r = _run([micropython, "tests/micropython_heap_check.py", str(cfg), "adaptive", "20000"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert "heap-locked ticks: 20000" in r.stdout


@pytest.mark.parametrize("strategy", ["actuated", "adaptive"])
def test_witnessed_diagnostics_allocate_nothing(micropython: str, strategy: str) -> None:
    # loops on approaches: idle (kind 4), found dead by witnesses (1), idle turning dead, restored
    r = _run([micropython, "tests/micropython_diagnostics_heap_check.py", strategy])
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "heap-locked ticks: 5000" in r.stdout
    assert "fault events: 85 83" in r.stdout and "fault kinds: 0 1 4" in r.stdout
    # the pocket's stop bar (idle, then dead once its advance loop counted) stays dead; the rest came back
    assert "faults at the end: 0 0 1 0 0 0 0 0" in r.stdout


def test_coordinated_ticks_allocate_nothing_through_plans(micropython: str) -> None:
    # transition, in step, plan running out (free), new plan; plans offered between locked runs
    r = _run([micropython, "tests/micropython_coordinated_heap_check.py", str(EXAMPLE_CONFIG), "5000"])
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "heap-locked coordinated ticks: 20000" in r.stdout
    assert "modes: coordinated coordinated free coordinated" in r.stdout


def _mpy_bundle(dest: Path) -> Path:
    from firmware.host_tools import find_tool

    mpy_cross = find_tool("mpy-cross")  # next to this Python (the venv) first: CI does not activate it
    for src in sorted((ROOT / "controller").rglob("*.py")):
        out = dest / src.relative_to(ROOT).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        r = _run([mpy_cross, "-o", str(out), str(src)])
        assert r.returncode == 0, "%s: %s" % (src.name, r.stderr)
    return dest


def test_every_core_file_compiles_with_mpy_cross(tmp_path: Path) -> None:
    bundle = _mpy_bundle(tmp_path)
    compiled = {p.relative_to(bundle).with_suffix("").as_posix() for p in (bundle / "controller").rglob("*.mpy")}
    assert compiled == {p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "controller").rglob("*.py")}


def test_one_hour_in_a_small_heap_from_mpy(micropython: str, tmp_path: Path) -> None:
    # A board runs mpy-cross output; one hour of 100 ms ticks, heap-locked, in 128 KB
    # (bytecode included: the unix port keeps it in the heap). Smallest heap: bench/core_bench.py.
    bundle = _mpy_bundle(tmp_path / "bundle")
    compact = tmp_path / "config.json"
    import json

    compact.write_text(json.dumps(json.loads(EXAMPLE_CONFIG.read_text()), separators=(",", ":")))
    r = _run([micropython, "-X", "heapsize=128K", "tests/micropython_heap_check.py", str(compact), "actuated", "36000", str(bundle)])
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    assert "heap-locked ticks: 36000" in r.stdout


@pytest.mark.parametrize("strategy,seed", [("actuated", 1), ("fixed", 2), ("adaptive", 3)])
def test_same_trace_on_cpython_and_micropython(micropython: str, tmp_path: Path, strategy: str, seed: int) -> None:
    ix = load_file(EXAMPLE_CONFIG)
    trace = tmp_path / "trace.csv"
    write_random_trace(ix, trace, ticks=12000, seed=seed, jitter_ms=40)
    cpython_replay(EXAMPLE_CONFIG, trace, tmp_path / "cp.csv", tmp_path / "cp.events.csv", strategy)
    micropython_replay(micropython, EXAMPLE_CONFIG, trace, tmp_path / "mp.csv", tmp_path / "mp.events.csv", strategy)
    cp, mp = (tmp_path / "cp.csv").read_text(), (tmp_path / "mp.csv").read_text()
    assert cp.count("\n") == 12001
    assert len(set(line.split(",", 1)[1] for line in cp.splitlines()[1:])) > 10  # the signals really changed
    assert cp == mp
    assert (tmp_path / "cp.events.csv").read_text() == (tmp_path / "mp.events.csv").read_text()
