"""Benchmark of the board firmware (prints figures; not a test).

    python bench/firmware_bench.py [--ticks N] [--pty-ticks N] [--seed S]

- bundle size: every mpy-cross file of `ampelwerk firmware build`, and the total;
- the firmware's lockstep tick path on MicroPython (unix port), run from the
  mpy bundle: frame decode + core step + reply encode, microseconds per tick
  (the host-side frame encoding in the same loop is timed alone and taken off);
- whether that path allocates (a heap-locked run: it fails if it does);
- the smallest MicroPython heap (-X heapsize, by bisection) that boots the
  firmware from flash (JSON parse + validation included) and runs N ticks;
- lockstep ticks per second over the pty to the virtual board (pyserial ->
  pty -> relay -> micropython -> back), against the 10 ticks/s a 100 ms tick needs.
"""

from __future__ import annotations

import argparse
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOOP = ROOT / "tests" / "firmware" / "micropython_tick_path.py"  # shared with the tests


def run_loop(mp: str, script: Path, bundle: Path, flash: Path, ticks: int, lock: bool, heap: str | None = None):
    cmd = [mp] + (["-X", "heapsize=" + heap] if heap else []) + [str(script), str(bundle), str(flash), str(ticks), "1" if lock else "0"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def smallest_heap(mp: str, script: Path, bundle: Path, flash: Path, ticks: int) -> int:
    lo, hi = 8, 512  # KB; hi must pass
    if run_loop(mp, script, bundle, flash, ticks, False, "%dK" % hi).returncode:
        return -1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if run_loop(mp, script, bundle, flash, ticks, False, "%dK" % mid).returncode == 0:
            hi = mid
        else:
            lo = mid
    return hi


def pty_rate(n: int, seed: int) -> float:
    from controller.config.loading import load_file
    from firmware.host_virtual import VirtualBoard
    from hil.proxy import DeviceController

    ix = load_file(str(ROOT / "examples" / "four_leg.json"))
    rnd = random.Random(seed)
    pres = bytearray(ix.n_detectors)
    with VirtualBoard() as port, DeviceController(port, ix) as dev:
        for _ in range(200):
            dev.step(100, pres)
        t0 = time.perf_counter()
        for _ in range(n):
            pres[rnd.randrange(ix.n_detectors)] ^= 1
            dev.step(100, pres)
            dev.drain_events()
        return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=5000, help="MicroPython loop ticks (default 5000)")
    ap.add_argument("--pty-ticks", type=int, default=3000, help="lockstep ticks over the pty (default 3000)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from firmware.host_build import build
    from firmware.host_flash import compact_config
    from firmware.host_virtual import find_micropython

    mp = find_micropython()
    mp_version = subprocess.run([mp, "-c", "import sys; print(sys.version)"], capture_output=True, text=True).stdout.strip()
    print("command: python bench/firmware_bench.py --ticks %d --pty-ticks %d --seed %d" % (args.ticks, args.pty_ticks, args.seed))
    print("python %s, micropython %s, %s" % (platform.python_version(), mp_version, platform.machine()))
    with tempfile.TemporaryDirectory() as tmp:
        bundle, flash, script = Path(tmp, "bundle"), Path(tmp, "flash"), LOOP
        sizes = build(bundle)
        flash.mkdir()
        (flash / "config.json").write_bytes(compact_config(ROOT / "examples" / "four_leg.json"))
        by_dir: dict[str, int] = {}
        for name, size in sizes:
            by_dir[name.split("/")[0] if "/" in name else name] = by_dir.get(name.split("/")[0] if "/" in name else name, 0) + size
        print("bundle: %d bytes in %d files (%s)" % (sum(s for _, s in sizes), len(sizes),
                                                     ", ".join("%s %d" % kv for kv in sorted(by_dir.items()))))
        r = run_loop(mp, script, bundle, flash, args.ticks, False)
        if r.returncode:
            sys.exit("loop failed: " + r.stderr[-2000:])
        figures = dict(line.split() for line in r.stdout.splitlines() if line.startswith(("us_", "heap_")))
        print("lockstep tick path on MicroPython (four_leg.json, 10 groups, 18 detectors, %d ticks): %s us/tick, heap in use %s bytes" % (
            args.ticks, figures["us_per_tick"], figures["heap_in_use"]))
        locked = run_loop(mp, script, bundle, flash, args.ticks, True)
        print("heap-locked tick path: %s" % ("0 allocations (passed)" if locked.returncode == 0 else "ALLOCATES: " + locked.stderr.strip().splitlines()[-1]))
        kb = smallest_heap(mp, script, bundle, flash, args.ticks)
        print("smallest heap that boots from flash and runs %d ticks: %d KB (bytecode included: the unix port keeps it in the heap)" % (args.ticks, kb))
    rate = pty_rate(args.pty_ticks, args.seed)
    print("lockstep over the pty to the virtual board: %.0f ticks/s (%d ticks; 100 ms ticks need 10/s: %.0fx margin)" % (
        rate, args.pty_ticks, rate / 10))


if __name__ == "__main__":
    main()
