"""Benchmark: wall time of ampelwerk-actuated versus SUMO's own fixed programs on one scenario.

Usage: python bench/sim_overhead.py [--scenario ingolstadt21] [--seed 1] [--end S] [--tick-ms MS] [--out DIR]
(ingolstadt21 needs `ampelwerk scenarios fetch` first.) One run each, one after
the other in this process's children, libsumo, step 1 s, core tick 100 ms unless --tick-ms:
fixed, ampelwerk-actuated, and ampelwerk-actuated with --merge-ticks.
Prints both wall times (including the import of the traffic lights for the
ampelwerk run), their ratio (target: at most 1.5) and the command, seed and
versions. Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _one(args: tuple[str, str, int, float | None, int, bool, str]) -> dict:
    from sim.runner import RunOptions, run

    scenario, controller, seed, end, tick_ms, merge, out = args
    return run(RunOptions(Path(scenario), controller, Path(out), seed=seed, end=end, tick_ms=tick_ms,
                          merge_ticks=merge, progress=False))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="ingolstadt21")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end", type=float, help="simulation end (s; default: the scenario's)")
    ap.add_argument("--tick-ms", type=int, default=100, help="core tick (ms, default 100)")
    ap.add_argument("--out", help="directory for the runs (default: a temporary one)")
    a = ap.parse_args()

    from ampelwerk import __version__
    from sim.scenarios import resolve

    cfg = resolve(a.scenario)
    out = Path(a.out or tempfile.mkdtemp(prefix="ampelwerk-bench-"))
    ctx = multiprocessing.get_context("spawn")
    results = {}
    runs = (("fixed", "fixed", False), ("ampelwerk-actuated", "ampelwerk-actuated", False),
            ("ampelwerk-actuated --merge-ticks", "ampelwerk-actuated", True))
    for name, controller, merge in runs:  # one after the other: no competition for cores
        with ctx.Pool(1) as pool:
            results[name] = pool.apply(_one, ((str(cfg), controller, a.seed, a.end, a.tick_ms, merge,
                                               str(out / name.replace(" --", "-"))),))
    fixed, ours = results["fixed"], results["ampelwerk-actuated"]
    print("command: python bench/sim_overhead.py %s" % " ".join(sys.argv[1:]))
    print("scenario %s (%s), window %g..%g s, seed %d, step %g s, tick %d ms, %d traffic lights" % (
        a.scenario, cfg, ours["begin_s"], ours["end_s"], a.seed, ours["step_length_s"], ours["tick_ms"],
        len(ours["traffic_lights"])))
    print("versions: ampelwerk %s, %s, Python %s, %s, %d cores" % (
        __version__, ours["sumo_version"], platform.python_version(), platform.platform(), os.cpu_count() or 0))
    for name, r in results.items():
        print("  %-33s wall %7.2f s   delay %6.1f s   arrived %d, running at end %d, never inserted %d" % (
            name, r["wall_s"], r["delay_s"], r["arrived"], r["running_at_end"], r["never_inserted"]))
    for name, r in results.items():
        if name != "fixed":
            print("ratio %s / fixed wall time: %.2f (target <= 1.5)" % (name, r["wall_s"] / fixed["wall_s"]))
    print("runs in %s" % out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
