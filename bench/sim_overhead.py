"""Benchmark: time of ampelwerk controllers versus SUMO's own fixed programs on one scenario.

Usage: python bench/sim_overhead.py [--scenario ingolstadt21] [--controller NAME ...] [--sequence fixed|free]
                                    [--seed 1] [--end S] [--tick-ms MS] [--repeats N] [--turn-steps N]
                                    [--merge-ticks] [--out DIR]
(ingolstadt21 needs `ampelwerk scenarios fetch` first.) libsumo, step 1 s,
core tick 100 ms unless --tick-ms; the imported configs' stage order as
`ampelwerk sim run` has it unless --sequence. --controller (repeatable;
default ampelwerk-adaptive and ampelwerk-actuated) names the controllers
measured. Each repeat runs, for each of them, `fixed` and that controller
(and, with --merge-ticks, also the controller with --merge-ticks) as a pair
of processes in lockstep: they take turns of --turn-steps SUMO steps each
(default 600, one to three seconds; the first also loads its scenario while
the other waits), so both see much the same speed of this machine, whose
speed drifts by up to 2x from second to second. Short turns flatter the
ratio, since every switch costs SUMO its warm caches: turns of 1 step gave
1.20, of 60 steps 1.38 to 1.50, of 600 steps 1.61 (docs/experiments/sim-overhead.md). Each
process's CPU time (SUMO in libsumo, the cores, the runner, the import of
the traffic lights for the ampelwerk runs) is measured on its own; the pairs
give the ratios to fixed (target: at most 1.5). Prints the median CPU time
of each run, the ratio per repeat and the median, and the command, seed and
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
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TURN_TIMEOUT_S = 600  # a partner silent this long has died


def _wait_turn(conn: Any) -> None:
    """Wait until the partner process hands the turn over."""
    if not conn.poll(TURN_TIMEOUT_S):
        raise SystemExit("lockstep partner silent for %d s" % TURN_TIMEOUT_S)
    conn.recv_bytes()


def _turn(conn: Any) -> None:
    """Hand the turn to the partner process and wait until it hands it back."""
    conn.send_bytes(b"t")
    _wait_turn(conn)


def _one(args: tuple, conn: Any, first: bool, results: Any) -> None:
    import time

    from sim.runner import RunOptions, run

    name, scenario, controller, seed, end, tick_ms, merge, sequence, turn_steps, out = args
    steps = [0]

    def hook(now_s: float) -> None:
        steps[0] += 1
        if steps[0] % turn_steps == 0:
            _turn(conn)

    if not first:
        _wait_turn(conn)  # the first process loads and steps first
    cpu = time.process_time()
    opts = RunOptions(Path(scenario), controller, Path(out), seed=seed, end=end, tick_ms=tick_ms,
                      merge_ticks=merge, progress=False)
    if sequence:
        opts.sequence = sequence
    r = run(opts, step_hooks=[hook])
    r["cpu_s"] = time.process_time() - cpu  # this process only: SUMO (libsumo), the cores, the runner
    conn.send_bytes(b"t")  # the partner's last step may still wait for its turn
    results.put((name, r))


def _pair(ctx: Any, fixed_args: tuple, ours_args: tuple) -> dict[str, dict]:
    """Run two configurations in lockstep processes; {name: summary}."""
    a, b = ctx.Pipe()
    results = ctx.Queue()
    procs = [ctx.Process(target=_one, args=(fixed_args, a, True, results)),
             ctx.Process(target=_one, args=(ours_args, b, False, results))]
    for p in procs:
        p.start()
    got = dict(results.get() for _ in procs)
    for p in procs:
        p.join()
    return got


CONTROLLERS = ("ampelwerk-adaptive", "ampelwerk-actuated")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="ingolstadt21")
    ap.add_argument("--controller", action="append", choices=("ampelwerk-adaptive", "ampelwerk-actuated",
                                                               "ampelwerk-fixed"),
                    help="controller to pair with fixed (repeatable; default: %s)" % " and ".join(CONTROLLERS))
    ap.add_argument("--sequence", choices=("fixed", "free"),
                    help="stage order of the imported configs (default: as `ampelwerk sim run` without --sequence)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end", type=float, help="simulation end (s; default: the scenario's)")
    ap.add_argument("--tick-ms", type=int, default=100, help="core tick (ms, default 100)")
    ap.add_argument("--out", help="directory for the runs (default: a temporary one)")
    ap.add_argument("--repeats", type=int, default=3, help="lockstep pairs per run (default 3; medians)")
    ap.add_argument("--turn-steps", type=int, default=600, help="SUMO steps per lockstep turn (default 600)")
    ap.add_argument("--merge-ticks", action="store_true", help="also pair fixed with each controller --merge-ticks")
    a = ap.parse_args()

    from ampelwerk import __version__
    from sim.scenarios import resolve

    cfg = resolve(a.scenario)
    out = Path(a.out or tempfile.mkdtemp(prefix="ampelwerk-bench-"))
    ctx = multiprocessing.get_context("spawn")
    ours = []  # (label, controller, merge)
    for controller in a.controller or CONTROLLERS:
        ours.append((controller, controller, False))
        if a.merge_ticks:
            ours.append((controller + " --merge-ticks", controller, True))
    results: dict[str, list[dict]] = {}
    for rep in range(a.repeats):
        for name, controller, merge in ours:
            run_dir = str(out / ("%s-%d" % (name.replace(" --", "-"), rep)))
            got = _pair(ctx, ("fixed", str(cfg), "fixed", a.seed, a.end, a.tick_ms, False, None, a.turn_steps,
                              run_dir + "-fixed"),
                        (name, str(cfg), controller, a.seed, a.end, a.tick_ms, merge, a.sequence, a.turn_steps,
                         run_dir))
            for label, r in got.items():
                results.setdefault(label if label != "fixed" else "fixed (paired with %s)" % name, []).append(r)
    first = results[ours[0][0]][0]
    print("command: python bench/sim_overhead.py %s" % " ".join(sys.argv[1:]))
    print("scenario %s (%s), window %g..%g s, seed %d, step %g s, tick %d ms, %d traffic lights, sequence %s, "
          "%d lockstep pairs, turns of %d steps" % (
              a.scenario, cfg, first["begin_s"], first["end_s"], a.seed, first["step_length_s"], first["tick_ms"],
              len(first["traffic_lights"]), a.sequence or "as sim run", a.repeats, a.turn_steps))
    print("versions: ampelwerk %s, %s, Python %s, %s, %d cores" % (
        first.get("ampelwerk_version", __version__), first["sumo_version"], platform.python_version(),
        platform.platform(), os.cpu_count() or 0))
    for label, rs in results.items():
        r = rs[0]
        print("  %-52s cpu %7.2f s (median)  delay %6.1f s  arrived %d, running at end %d, never inserted %d" % (
            label, median(x["cpu_s"] for x in rs), r["delay_s"], r["arrived"], r["running_at_end"],
            r["never_inserted"]))
    for name, _, _ in ours:
        cpus = [o["cpu_s"] / f["cpu_s"] for o, f in zip(results[name], results["fixed (paired with %s)" % name])]
        print("ratio %s / fixed: cpu %.2f (median of %s)  (target <= 1.5)" % (
            name, median(cpus), ", ".join("%.2f" % x for x in cpus)))
    print("runs in %s" % out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
