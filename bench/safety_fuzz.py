"""Random property testing of the core's safety rules at scale (prints figures; not a test).

    python bench/safety_fuzz.py [--ticks 10000000] [--seed 1] [--jobs 2] [--days 3]

Random valid configs (tests/core_config_strategy.py: random conflict graphs, stages,
permissive turns and yields_to, groups with every optional timing left out; fixed,
actuated, adaptive and coordinated strategies) are each driven for --days of
time-compressed operation on a faulty detector stream (tests/safety_invariants.py
drive_with_faults: loops that stick on, die or chatter, ticks from 0 to the 60 s clamp and
beyond, negative ticks, resets at random moments), and every tick's outputs go through
the independent checker of docs/core.md's rules. Runs until --ticks ticks are done and
prints the count, the violations, the exceptions, the latched monitors and the first
failing config's seed. Exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRATEGIES = ("fixed", "actuated", "adaptive", "coordinated")


def one(args: tuple[int, float]) -> dict:
    """Drive the config of one seed; a dict of what happened."""
    from tests.core_config_strategy import random_config
    from tests.safety_invariants import drive_with_faults

    seed, days = args
    rnd = random.Random(seed)
    strategy = STRATEGIES[seed % len(STRATEGIES)]
    raw = random_config(rnd, strategy)
    try:
        chk, ctl, ticks = drive_with_faults(raw, seed, days)
    except Exception:  # step() must never raise: count it and say where
        return {"seed": seed, "strategy": strategy, "ticks": 0, "violations": [], "flash": False,
                "exception": traceback.format_exc(limit=3)}
    return {"seed": seed, "strategy": strategy, "ticks": ticks, "violations": chk.violations[:3],
            "n_violations": len(chk.violations), "flash": ctl.flashing, "exception": ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=10_000_000, help="run until this many ticks are done")
    ap.add_argument("--seed", type=int, default=1, help="first config seed (then +1 per config)")
    ap.add_argument("--days", type=float, default=3.0, help="time-compressed days per config")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    print("command: python bench/safety_fuzz.py --ticks %d --seed %d --days %g --jobs %d"
          % (args.ticks, args.seed, args.days, args.jobs))
    print("versions: CPython %s, %s" % (platform.python_version(), platform.machine()))
    t0 = time.perf_counter()
    done = configs = violations = exceptions = flashes = 0
    by_strategy = {s: 0 for s in STRATEGIES}
    first_bad = None
    seed = args.seed
    with multiprocessing.Pool(args.jobs) as pool:
        while done < args.ticks:
            batch = [(seed + k, args.days) for k in range(4 * args.jobs)]
            seed += len(batch)
            for r in pool.imap_unordered(one, batch):
                configs += 1
                done += r["ticks"]
                by_strategy[r["strategy"]] += r["ticks"]
                bad = r["exception"] or r["violations"] or r["flash"]
                violations += r.get("n_violations", 0)
                exceptions += 1 if r["exception"] else 0
                flashes += 1 if r["flash"] else 0
                if bad and first_bad is None:
                    first_bad = r
            print("  %d ticks, %d configs, %d violations, %d exceptions, %d latched monitors (%.0f s)"
                  % (done, configs, violations, exceptions, flashes, time.perf_counter() - t0), flush=True)
    print()
    print("ticks: %d over %d configs (%s), %g days each, %.0f s wall" % (
        done, configs, ", ".join("%s %d" % kv for kv in by_strategy.items()), args.days, time.perf_counter() - t0))
    print("violations: %d, exceptions: %d, latched monitors: %d" % (violations, exceptions, flashes))
    if first_bad is not None:
        print("first failing config: seed %d (%s): %s" % (first_bad["seed"], first_bad["strategy"],
                                                          first_bad["exception"] or first_bad["violations"]))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
