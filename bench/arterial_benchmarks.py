"""Generate the green-wave section of docs/benchmarks.md: coordinated vs free adaptive vs fixed on arterials.

    python bench/arterial_benchmarks.py [--out runs/arterial] [--seeds 1,2,3]
                                        [--scenarios arterial5,arterial4x4]
                                        [--jobs N | --scheduler tcp://HOST:PORT] [--report-only]

Runs `sim.compare` with fixed, ampelwerk-adaptive and ampelwerk-coordinated (the
in-process coordinator) on each scenario (on local worker processes, or on the
workers of a running Dask scheduler with --scheduler, docs/sim.md); every run of a scenario gets the same
corridor, derived from the net (sim/corridor_import.py), so SUMO writes the
corridor's FCD and the arterial metrics (sim/arterial_metrics.py) for every
controller alike. Then it writes, between its markers in docs/benchmarks.md
(bench/benchmarks.py keeps them when it regenerates the rest): per network
and controller the network delay, unfinished vehicles, and per direction
the stops per vehicle and travel time from the first to the last stop line;
the verdict against the criterion (stops on the main direction at least 30 %
below free adaptive, network delay not above it); every run; a chart
(docs/benchmarks_arterial.png) and time-space diagrams of seed 1
(docs/timespace_<network>_<controller>.png). Nothing is typed by hand.
arterial4x4 needs `ampelwerk scenarios fetch` first.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmarks import (SECTION_BEGIN, SECTION_END, add_cluster_arguments,  # noqa: E402
                              check_cluster_arguments, shown_command)

CONTROLLERS = ("fixed", "ampelwerk-adaptive", "ampelwerk-coordinated")
FREE, COORDINATED = "ampelwerk-adaptive", "ampelwerk-coordinated"
STOPS_CUT = 0.30  # the criterion: stops on the main direction at least 30 % below free adaptive


def run_all(args: argparse.Namespace) -> None:
    from ampelwerk.sim_coordination import run_in_compare
    from sim.compare import compare
    from sim.runner import RunOptions
    from sim.scenarios import resolve

    scenarios = [resolve(s) for s in args.scenarios]
    template = RunOptions(scenario=scenarios[0], controller=FREE, out_dir=args.out, sequence="free", progress=False)
    compare(scenarios, list(CONTROLLERS), args.seeds, args.out, template, jobs=args.jobs,
            log=lambda m: print(m, flush=True), runners={COORDINATED: run_in_compare}, derive_corridors=True,
            scheduler=args.scheduler)


def load(args: argparse.Namespace) -> dict[tuple[str, str], list[dict]]:
    """(network, controller) -> the summaries of its seeds."""
    runs = {}
    for scen in args.scenarios:
        for ctl in CONTROLLERS:
            found = []
            for seed in args.seeds:
                p = args.out / scen / ctl / ("seed%d" % seed) / "summary.json"
                if not p.exists():
                    raise SystemExit("no run at %s: run without --report-only first" % p)
                found.append(json.loads(p.read_text()))
            runs[(scen, ctl)] = found
    return runs


def _dir(s: dict, d: str, key: str) -> float | None:
    m = s["arterial"][d]["inner"]
    return m[key] if m["vehicles"] else None


def _mean(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return mean(xs) if xs else None


def _fmt(x: float | None, f: str = "%.2f") -> str:
    return "-" if x is None else f % x


def aggregate(runs: list[dict]) -> dict:
    a = {"delay": mean(r["delay_s"] for r in runs),
         "unfinished": mean(r["running_at_end"] + r["never_inserted"] for r in runs),
         "teleports": mean(r["teleports"] for r in runs), "collisions": mean(r["collisions"] for r in runs)}
    for d in ("forward", "backward"):
        a[d + "_vehicles"] = _mean([r["arterial"][d]["inner"]["vehicles"] for r in runs])
        a[d + "_stops"] = _mean([_dir(r, d, "stops_per_vehicle") for r in runs])
        a[d + "_travel"] = _mean([_dir(r, d, "travel_time_s") for r in runs])
    return a


def chart(agg: dict, args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(args.scenarios), figsize=(5.5 * len(args.scenarios), 4), squeeze=False)
    for ax, scen in zip(axes[0], args.scenarios):
        width = 0.8 / len(CONTROLLERS)
        for k, ctl in enumerate(CONTROLLERS):
            vals = [agg[(scen, ctl)][d + "_stops"] or 0 for d in ("forward", "backward")]
            ax.bar([i + (k - 1) * width for i in range(2)], vals, width, label=ctl)
        ax.set_xticks(range(2), ["forward", "backward"])
        ax.set_ylabel("stops per vehicle, first to last stop line")
        ax.set_title("%s (main: %s)" % (scen, agg[(scen, COORDINATED)]["main"]))
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def timespace_pngs(args: argparse.Namespace) -> list[Path]:
    """Time-space diagrams of seed 1 (10 minutes from the middle of the run) per network and controller."""
    from sim.arterial_metrics import load_geometry
    from sim.timespace import build, plot

    pngs = []
    for scen in args.scenarios:
        for ctl in (FREE, COORDINATED):
            run_dir = args.out / scen / ctl / ("seed%d" % args.seeds[0])
            s = json.loads((run_dir / "summary.json").read_text())
            mid = (s["begin_s"] + s["end_s"]) / 2
            data = build(run_dir, load_geometry(Path(s["corridor_file"])), mid - 300, mid + 300)
            png = ROOT / "docs" / ("timespace_%s_%s.png" % (scen, ctl.replace("ampelwerk-", "")))
            plot(data, png, "%s, %s, seed %d" % (scen, ctl, args.seeds[0]))
            _shrink(png)
            pngs.append(png)
    return pngs


def _shrink(png: Path) -> None:
    """A 256-colour palette: thousands of trajectories make a full-colour PNG megabytes big."""
    from PIL import Image

    with Image.open(png) as im:
        small = im.convert("RGB").quantize(256)
    small.save(png, optimize=True)


def section(args: argparse.Namespace, runs: dict) -> str:
    agg = {k: aggregate(v) for k, v in runs.items()}
    for scen in args.scenarios:
        main = runs[(scen, COORDINATED)][0]["arterial"]["main_direction"]
        for ctl in CONTROLLERS:
            agg[(scen, ctl)]["main"] = main
    chart(agg, args, ROOT / "docs" / "benchmarks_arterial.png")
    pngs = timespace_pngs(args)
    every = [r for v in runs.values() for r in v]
    sumo = sorted({r["sumo_version"] for r in every})
    code = sorted({r["ampelwerk_version"] for r in every})
    lines = [SECTION_BEGIN, "", "## Green waves: coordinated against free adaptive and fixed (issue 6)", "",
             "Generated by `%s` (do not edit by hand)." % args.command, "",
             "- %s, Python %s, Ampelwerk %s, seeds %s, demand as in the scenario, 1 s steps, core tick 100 ms." % (
                 ", ".join(sumo), platform.python_version(), ", ".join(code), ",".join(map(str, args.seeds))),
             "- `ampelwerk-coordinated`: the corridor's lights run the coordinated strategy under the in-process",
             "  coordinator (docs/coordination.md); the other lights, and every light of `ampelwerk-adaptive`, run",
             "  free adaptive control. All three runs of a network measure the same corridor, derived from the net.",
             "- Stops and travel time: vehicles driving the corridor from leaving its first junction to its last",
             "  stop line (sim/arterial_metrics.py; a stop is SUMO's halting, speed below 0.1 m/s).",
             "- Delay: RESCO-compatible network delay per scheduled vehicle; unfinished: running at the end plus",
             "  never inserted.", "",
             "### Verdict", "",
             "| network | main direction | stops coordinated | stops free adaptive | cut | at least 30 % | "
             "delay coordinated s | delay free adaptive s | delay not raised |",
             "|---|---|---:|---:|---:|---|---:|---:|---|"]
    for scen in args.scenarios:
        c, f = agg[(scen, COORDINATED)], agg[(scen, FREE)]
        main = c["main"]
        sc, sf = c[main + "_stops"], f[main + "_stops"]
        cut = None if not sc or not sf else 1 - sc / sf
        lines.append("| %s | %s | %s | %s | %s | %s | %.1f | %.1f | %s |" % (
            scen, main, _fmt(sc), _fmt(sf), _fmt(None if cut is None else 100 * cut, "%.0f %%"),
            "yes" if cut is not None and cut >= STOPS_CUT else "**no**", c["delay"], f["delay"],
            "yes" if c["delay"] <= f["delay"] else "**no** (+%.1f %%)" % (100 * (c["delay"] / f["delay"] - 1))))
    lines += ["", "![stops per vehicle along the arterials](benchmarks_arterial.png)", "",
              "### Mean over seeds", "",
              "| network | controller | delay s | unfinished | teleports | forward veh | forward stops/veh | "
              "forward travel s | backward veh | backward stops/veh | backward travel s |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for scen in args.scenarios:
        for ctl in CONTROLLERS:
            a = agg[(scen, ctl)]
            lines.append("| %s | %s | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s | %s |" % (
                scen, ctl, a["delay"], a["unfinished"], a["teleports"], _fmt(a["forward_vehicles"], "%.0f"),
                _fmt(a["forward_stops"]), _fmt(a["forward_travel"], "%.1f"), _fmt(a["backward_vehicles"], "%.0f"),
                _fmt(a["backward_stops"]), _fmt(a["backward_travel"], "%.1f")))
    lines += ["", "### Every run", "",
              "| network | controller | seed | delay s | running at end | never inserted | teleports | collisions | "
              "forward stops/veh | backward stops/veh | plans accepted / refused |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for (scen, ctl), rs in runs.items():
        for r in rs:
            co = r.get("coordination")
            lines.append("| %s | %s | %d | %.1f | %d | %d | %d | %d | %s | %s | %s |" % (
                scen, ctl, r["seed"], r["delay_s"], r["running_at_end"], r["never_inserted"], r["teleports"],
                r["collisions"], _fmt(_dir(r, "forward", "stops_per_vehicle")),
                _fmt(_dir(r, "backward", "stops_per_vehicle")),
                "%d / %d" % (co["counters"]["accepted"], co["counters"]["rejected"]) if co else "-"))
    lines += ["", "### Time-space diagrams (seed %d, 10 minutes from the middle of the run)" % args.seeds[0], ""]
    lines += ["![%s](%s)" % (p.stem, p.name) for p in pngs]
    lines += ["", SECTION_END]
    return "\n".join(lines)


def write(args: argparse.Namespace, runs: dict) -> Path:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else ""
    new = section(args, runs)
    if SECTION_BEGIN in text and SECTION_END in text:
        text = text[:text.index(SECTION_BEGIN)] + new + text[text.index(SECTION_END) + len(SECTION_END):]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    doc.write_text(text)
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/arterial"))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--scenarios", default="arterial5,arterial4x4")
    add_cluster_arguments(ap)
    ap.add_argument("--report-only", action="store_true", help="only re-render the section from runs on disk")
    args = ap.parse_args()
    check_cluster_arguments(ap, args)
    args.command = shown_command("bench/arterial_benchmarks.py", sys.argv[1:])
    args.seeds = [int(x) for x in args.seeds.split(",")]
    args.scenarios = args.scenarios.split(",")
    if not args.report_only:
        run_all(args)
    print("wrote %s" % write(args, load(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
