"""Benchmark: wall time of ampelwerk-actuated versus SUMO's own fixed programs on one scenario.

Usage: python bench/sim_overhead.py [--scenario ingolstadt21] [--seed 1] [--end S] [--tick-ms MS] [--out DIR]
(ingolstadt21 needs `ampelwerk scenarios fetch` first.) One run each, one after
the other in this process's children, libsumo, step 1 s, core tick 100 ms unless --tick-ms:
fixed, ampelwerk-actuated, and ampelwerk-actuated with --merge-ticks.
Each is repeated (--repeats, interleaved, since this machine's speed drifts
between runs); prints the median wall and CPU time of each (including the
import of the traffic lights for the ampelwerk runs), the ratios to fixed per
repeat and their medians (target: at most 1.5), and the command, seed and
versions. Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
from statistics import median
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _one(args: tuple[str, str, int, float | None, int, bool, str]) -> dict:
    import time

    from sim.runner import RunOptions, run

    scenario, controller, seed, end, tick_ms, merge, out = args
    cpu = time.process_time()
    r = run(RunOptions(Path(scenario), controller, Path(out), seed=seed, end=end, tick_ms=tick_ms,
                       merge_ticks=merge, progress=False))
    r["cpu_s"] = time.process_time() - cpu  # this process: SUMO (libsumo) and the cores
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="ingolstadt21")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end", type=float, help="simulation end (s; default: the scenario's)")
    ap.add_argument("--tick-ms", type=int, default=100, help="core tick (ms, default 100)")
    ap.add_argument("--out", help="directory for the runs (default: a temporary one)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats of every run (default 3; medians)")
    a = ap.parse_args()

    from ampelwerk import __version__
    from sim.scenarios import resolve

    cfg = resolve(a.scenario)
    out = Path(a.out or tempfile.mkdtemp(prefix="ampelwerk-bench-"))
    ctx = multiprocessing.get_context("spawn")
    runs = (("fixed", "fixed", False), ("ampelwerk-actuated", "ampelwerk-actuated", False),
            ("ampelwerk-actuated --merge-ticks", "ampelwerk-actuated", True))
    results: dict[str, list[dict]] = {name: [] for name, _, _ in runs}
    for rep in range(a.repeats):  # interleaved, one at a time: the machine's speed drifts, both see it
        for name, controller, merge in runs:
            with ctx.Pool(1) as pool:
                results[name].append(pool.apply(_one, ((str(cfg), controller, a.seed, a.end, a.tick_ms, merge,
                                                        str(out / ("%s-%d" % (name.replace(" --", "-"), rep)))),)))
    ours = results["ampelwerk-actuated"][0]
    print("command: python bench/sim_overhead.py %s" % " ".join(sys.argv[1:]))
    print("scenario %s (%s), window %g..%g s, seed %d, step %g s, tick %d ms, %d traffic lights, %d repeats" % (
        a.scenario, cfg, ours["begin_s"], ours["end_s"], a.seed, ours["step_length_s"], ours["tick_ms"],
        len(ours["traffic_lights"]), a.repeats))
    print("versions: ampelwerk %s, %s, Python %s, %s, %d cores" % (
        __version__, ours["sumo_version"], platform.python_version(), platform.platform(), os.cpu_count() or 0))
    med = {name: (median(r["wall_s"] for r in rs), median(r["cpu_s"] for r in rs)) for name, rs in results.items()}
    for name, rs in results.items():
        r = rs[0]
        print("  %-33s wall %7.2f s  cpu %7.2f s (medians)  delay %6.1f s  arrived %d, running at end %d, never inserted %d" % (
            name, med[name][0], med[name][1], r["delay_s"], r["arrived"], r["running_at_end"], r["never_inserted"]))
    for name, rs in results.items():
        if name == "fixed":
            continue
        walls = [o["wall_s"] / f["wall_s"] for o, f in zip(rs, results["fixed"])]
        cpus = [o["cpu_s"] / f["cpu_s"] for o, f in zip(rs, results["fixed"])]
        print("ratio %s / fixed: cpu %.2f (median of %s), wall %.2f (median of %s)  (target <= 1.5)" % (
            name, median(cpus), ", ".join("%.2f" % x for x in cpus), median(walls), ", ".join("%.2f" % x for x in walls)))
    print("runs in %s" % out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
