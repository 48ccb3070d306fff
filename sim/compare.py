"""Compare controllers over scenarios and seeds: parallel SUMO runs, then tables and charts. Host only.

Every (scenario, controller, seed) is one Dask task (sim/study_cluster.py):
on a LocalCluster of --jobs worker processes by default, or on the workers of
a running Dask scheduler. A task carries its inputs as content and brings its
run folder back as bytes (sim/run_shipping.py), so a worker needs only the
project installed and the scenario cache, not the caller's filesystem. Each
scenario's traffic lights are imported once, before the runs, and shared by
all ampelwerk-* runs of it. Output directory:
  <out>/<scenario>/<controller>/seed<N>/   one run directory each (sim/runner.py)
  <out>/runs.csv                          every run (the same wherever it ran)
  <out>/timings.csv                       every run's wall time
  <out>/compare.md                        mean over seeds per scenario and controller
  <out>/delay_<scenario>.png, approaches_<scenario>.png
Times in seconds.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from sim import report
from sim.run_shipping import RunFunction, pack, run_shipped, scenario_content, unpack_run_folder
from sim.runner import Imported, RunOptions, import_for_run
from sim.study_cluster import describe, study_client


def plan(scenarios: list[Path], controllers: list[str], seeds: list[int], out: Path,
         template: RunOptions) -> list[RunOptions]:
    """One RunOptions per (scenario, controller, seed), each with its own run directory."""
    jobs = []
    for scen in scenarios:
        for ctl in controllers:
            for seed in seeds:
                d = out / report.scenario_label(scen) / ctl / ("seed%d" % seed)
                jobs.append(replace(template, scenario=Path(scen), controller=ctl, seed=seed, out_dir=d, progress=False))
    return jobs


def compare(scenarios: list[Path], controllers: list[str], seeds: list[int], out: Path,
            template: RunOptions, jobs: int | None = None, log=print,
            runners: dict[str, RunFunction] | None = None,
            derive_corridors: bool = False, scheduler: str | None = None) -> tuple[list[dict], list[dict]]:
    """Run everything, write runs.csv, compare.md and charts; returns (runs, failures).

    ``runners`` maps a controller name to the function that runs it (``fn(opts, imported)``,
    a module-level function so worker processes can import it; default: sim.runner.run).
    ``derive_corridors``: when the template has no corridor file, derive each scenario's
    arterial (sim/corridor_import.py) once and give it to all its runs, so every controller
    gets arterial metrics on the same corridor.
    ``scheduler``: address of a running Dask scheduler (tcp://HOST:PORT) whose workers run the
    simulations; None: ``jobs`` local worker processes (default: one per core).
    """
    out.mkdir(parents=True, exist_ok=True)
    planned = plan(scenarios, controllers, seeds, out, template)
    imported: dict[Path, Imported] = {}
    if any(c.startswith("ampelwerk-") for c in controllers) or derive_corridors:
        for scen in scenarios:
            opts = replace(template, scenario=Path(scen), out_dir=out / report.scenario_label(scen))
            imported[Path(scen)] = import_for_run(opts)
    if derive_corridors and template.corridor_file is None:
        from sim.corridor_import import write_corridor

        corridor = {scen: write_corridor(scen, imp.configs, out / report.scenario_label(scen) / "corridor.json")[0]
                    for scen, imp in imported.items()}
        planned = [replace(o, corridor_file=corridor[o.scenario]) for o in planned]
    runners = runners or {}
    shipped = {scen: scenario_content(scen) for scen in dict.fromkeys(o.scenario for o in planned)}
    work = [pack(o, shipped[o.scenario], imported.get(o.scenario) if o.controller.startswith("ampelwerk-") else None,
                 runners.get(o.controller)) for o in planned]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    results = []
    with study_client(jobs, scheduler) as client:
        if scheduler is None:
            log("running %d simulations in %d process%s" % (len(work), jobs, "" if jobs == 1 else "es"))
        else:
            log("running %d simulations on the Dask scheduler %s (now %d workers, %d threads)" % (
                (len(work), scheduler) + describe(client)))
        from distributed import as_completed

        futures = {client.submit(run_shipped, job, pure=False): job.opts for job in work}
        for future in as_completed(futures):
            r = _gathered(future, futures.pop(future))
            results.append(r)
            if "error" in r:
                log("  FAILED %s %s seed %s: %s" % (Path(r["scenario"]).name, r["controller"], r["seed"], r["error"]))
            else:
                log("  %s %s seed %d: delay %.1f s, running at end %d, never inserted %d (%.1f s wall)%s" % (
                    report.scenario_label(r["scenario"]), r["controller"], r["seed"], r["delay_s"], r["running_at_end"],
                    r["never_inserted"], r["wall_s"], "".join("\n    warning: " + w for w in r.get("warnings", ()))))
    order = {(str(o.scenario), o.controller, o.seed): i for i, o in enumerate(planned)}
    results.sort(key=lambda r: order.get((r["scenario"], r["controller"], r["seed"]), 0))
    runs = [r for r in results if "error" not in r]
    failures = [r for r in results if "error" in r]
    write_outputs(runs, failures, out)
    return runs, failures


def _gathered(future, opts: RunOptions) -> dict:
    """A finished task's summary (or failure), its run folder written under opts.out_dir."""
    try:
        r = future.result()
    except Exception as e:  # the task itself failed: e.g. its worker died (KilledWorker) or could not unpickle it
        return {"error": "%s: %s" % (type(e).__name__, e), "scenario": str(opts.scenario),
                "controller": opts.controller, "seed": opts.seed}
    finally:
        future.release()  # the run folder's bytes leave the worker's memory
    unpack_run_folder(r.pop("files"), Path(opts.out_dir))
    return r.get("summary", r)


def write_outputs(runs: list[dict], failures: list[dict], out: Path) -> list[dict]:
    """runs.csv, compare.md (with failures listed) and the PNG charts; returns the aggregate rows."""
    report.write_runs_csv(runs, out / "runs.csv")
    agg = report.aggregate(runs)
    md = ["# Controller comparison", "", report.markdown_table(agg)]
    if failures:
        md += ["", "## Failed runs", ""] + ["- %s %s seed %s: %s" % (Path(f["scenario"]).name, f["controller"],
                                                                    f["seed"], f["error"]) for f in failures]
    warned = [(r, w) for r in runs for w in r.get("warnings", ())]
    if warned:
        md += ["", "## Warnings", ""] + ["- %s %s seed %s: %s" % (Path(r["scenario"]).name, r["controller"], r["seed"], w)
                                         for r, w in warned]
    from sim.class_metrics import class_rows, class_table, write_class_csv

    rows = class_rows(runs)
    if rows:  # runs with buses or emergency vehicles: the delay per class
        write_class_csv(rows, out / "classes.csv")
        md += ["", "## Delay per vehicle class", "", class_table(rows)]
    (out / "compare.md").write_text("\n".join(md) + "\n")
    (out / "failures.json").write_text(json.dumps(failures, indent=1) + "\n")
    for scen in dict.fromkeys(r["scenario"] for r in agg):
        report.chart_delay(agg, out / ("delay_%s.png" % scen), scen)
        report.chart_approaches(runs, out / ("approaches_%s.png" % scen), scen)
    return agg
