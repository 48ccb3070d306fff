"""Generate docs/benchmarks.md: every network, controller, seed and demand scale, run for real.

    python bench/benchmarks.py [--out runs/benchmarks] [--seeds 1,2,3] [--scales 0.7,1.0,1.3]
                               [--sets bundled,resco,suite-tuning,suite-validation | --scenarios ...]
                               [--controllers ...] [--sequence free|fixed] [--jobs N | --scheduler tcp://HOST:PORT]
                               [--report-only]
                               [--before OLD_BENCHMARKS_MD]

Runs `sim.compare` once per demand scale (SUMO --scale) into <out>/scale<X>/
(skipped with --report-only, which only re-renders the document from runs
already on disk; the simulations run as Dask tasks on --jobs local processes, or
on the workers of a running Dask scheduler with --scheduler, docs/sim.md), then
writes docs/benchmarks.md: the verdict per network and
scale against the issue-4 criteria, the geometric mean of delay, the mean table
and every single run, the command, SUMO version and seeds, and a chart
(docs/benchmarks_delay.png). Nothing in the document is typed by hand.
RESCO networks need `ampelwerk scenarios fetch` first; the generated suite
(sim/suite.py) is built into the cache here if it is not there yet.
Sets: ``bundled`` (single4, arterial5), ``resco`` (the eight RESCO nets),
``suite-tuning`` and ``suite-validation`` (the two halves of the generated
suite), ``suite`` (both halves); default: all of them.
"""

from __future__ import annotations

import argparse
import csv
import math
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PEERS = ("fixed", "sumo-actuated", "sumo-delay-based", "max-pressure")
OURS = "ampelwerk-adaptive"
ALSO_OURS = ("ampelwerk-actuated",)  # run and safety-checked too; the verdict is on OURS
DEFAULT_SETS = "bundled,resco,suite-tuning,suite-validation"


def scenario_sets() -> dict[str, tuple[str, ...]]:
    """Set name -> scenario names, in benchmark order."""
    from sim import suite
    from sim.scenarios import BUNDLED, RESCO

    return {"bundled": BUNDLED, "resco": RESCO, "suite-tuning": suite.TUNING, "suite-validation": suite.VALIDATION,
            "suite": suite.NAMES}


def set_of(name: str) -> str:
    """The set a scenario belongs to (a suite net: its half), or "other"."""
    for key, names in scenario_sets().items():
        if key != "suite" and name in names:
            return key
    return "other"


def run_all(args: argparse.Namespace) -> None:
    """One sim.compare per scale, all scenarios, controllers and seeds."""
    from sim.compare import compare
    from sim import suite
    from sim.runner import RunOptions
    from sim.scenarios import resolve

    wanted = tuple(s for s in args.scenarios if s in suite.NAMES)
    if wanted:
        suite.build(wanted, log=lambda m: print(m, flush=True))
    scenarios = [resolve(s) for s in args.scenarios]
    for scale in args.scales:
        out = args.out / ("scale%g" % scale)
        template = RunOptions(scenario=scenarios[0], controller=OURS, out_dir=out, scale=scale,
                              sequence=args.sequence, progress=False)
        print("scale %g -> %s" % (scale, out), flush=True)
        compare(scenarios, args.controllers, args.seeds, out, template, jobs=args.jobs,
                log=lambda m: print(m, flush=True), scheduler=args.scheduler)


def load_runs(out: Path, scales: list[float]) -> list[dict]:
    rows = []
    for scale in scales:
        path = out / ("scale%g" % scale) / "runs.csv"
        if not path.exists():
            raise SystemExit("no runs for scale %g at %s: run without --report-only first" % (scale, path))
        with open(path) as f:
            runs = list(csv.DictReader(f))
        # the wall times live in timings.csv (in runs.csv itself before it was split off)
        timings = path.with_name("timings.csv")
        if timings.exists():
            with open(timings) as f:
                wall = {(t["scenario"], t["controller"], t["seed"]): t["wall_s"] for t in csv.DictReader(f)}
            for r in runs:
                r["wall_s"] = wall[(r["scenario"], r["controller"], r["seed"])]
        for r in runs:
            r["scale"] = scale
            rows.append(r)
    return rows


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def summarise(rows: list[dict]) -> dict[tuple[float, str, str], dict]:
    """Mean over seeds per (scale, scenario, controller)."""
    from sim.report import scenario_label

    groups: dict[tuple[float, str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["scale"], scenario_label(r["scenario"]), r["controller"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        out[key] = {
            "seeds": len(rs),
            "delay": _mean([float(r["delay_s"]) for r in rs]),
            "unfinished": _mean([float(r["running_at_end"]) + float(r["never_inserted"]) for r in rs]),
            "teleports": _mean([float(r["teleports"]) for r in rs]),
            "collisions": _mean([float(r["collisions"]) for r in rs]),
            # sim/signal_check.py on each ampelwerk-* run ("" for peers: not checked)
            "checked": sum(1 for r in rs if r.get("signal_violations", "") != ""),
            "violations": sum(int(r["signal_violations"]) for r in rs if r.get("signal_violations", "") != ""),
        }
    return out


def safety_lines(summary: dict, controllers: list[str]) -> list[str]:
    """Per ampelwerk-* controller: runs checked by sim/signal_check.py and the violations found."""
    lines = ["| controller | runs checked | violations |", "|---|---:|---:|"]
    for ctl in controllers:
        if not ctl.startswith("ampelwerk-"):
            continue
        rows = [v for (_, _, c), v in summary.items() if c == ctl]
        lines.append("| %s | %d | %d |" % (ctl, sum(v["checked"] for v in rows), sum(v["violations"] for v in rows)))
    return lines


def previous_means(doc: Path) -> dict[tuple[float, str, str], float]:
    """Mean delay per (scale, network, controller) from the "Mean over seeds" table of an earlier benchmarks.md."""
    out = {}
    section = False
    for line in doc.read_text().splitlines():
        if line.startswith("## "):
            section = line.strip() == "## Mean over seeds"
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if section and len(cells) >= 5 and cells[0][:1].isdigit():
            out[(float(cells[0]), cells[1], cells[2])] = float(cells[4])
    return out


def before_after_lines(summary: dict, before: dict, scales: list[float], scenarios: list[str],
                       controllers: list[str]) -> list[str]:
    """Mean delay now next to an earlier run's, per Ampelwerk controller, network and scale."""
    lines = ["| scale | network | controller | delay s before | delay s now | change |", "|---|---|---|---:|---:|---:|"]
    for scale in scales:
        for scen in scenarios:
            for ctl in controllers:
                now = summary.get((scale, scen, ctl))
                old = before.get((scale, scen, ctl))
                if ctl.startswith("ampelwerk-") and now and old is not None:
                    lines.append("| %g | %s | %s | %.1f | %.1f | %+.1f %% |" % (
                        scale, scen, ctl, old, now["delay"], 100 * (now["delay"] / old - 1) if old else 0.0))
    return lines


def verdicts(summary: dict, scales: list[float], scenarios: list[str]) -> list[str]:
    """The issue-4 criteria, checked per network and scale; and the geometric means."""
    lines = ["| scale | network | adaptive delay s | best peer | its delay s | lower delay | unfinished <= best peer | "
             "collisions 0 | teleports <= best peer |", "|---|---|---:|---|---:|---|---|---|---|"]
    met = 0
    total = 0
    for scale in scales:
        for scen in scenarios:
            ours = summary.get((scale, scen, OURS))
            peers = {p: summary[(scale, scen, p)] for p in PEERS if (scale, scen, p) in summary}
            if not ours or not peers:
                continue
            total += 1
            best_name, best = min(peers.items(), key=lambda kv: kv[1]["delay"])
            lower = all(ours["delay"] < p["delay"] for p in peers.values())
            unfinished_ok = ours["unfinished"] <= min(p["unfinished"] for p in peers.values())
            collisions_ok = ours["collisions"] == 0
            teleports_ok = ours["teleports"] <= min(p["teleports"] for p in peers.values())
            ok = lower and unfinished_ok and collisions_ok and teleports_ok
            met += ok
            yn = lambda b: "yes" if b else "**no**"  # noqa: E731
            lines.append("| %g | %s | %.1f | %s | %.1f | %s | %s (%.1f vs %.1f) | %s | %s |" % (
                scale, scen, ours["delay"], best_name, best["delay"], yn(lower), yn(unfinished_ok), ours["unfinished"],
                min(p["unfinished"] for p in peers.values()), yn(collisions_ok), yn(teleports_ok)))
    lines += ["", "Criteria met on %d of %d network-scale pairs." % (met, total), ""]
    lines += ["| scale | geometric mean of delay: adaptive | sumo-actuated | adaptive vs sumo-actuated |",
              "|---|---:|---:|---:|"]
    for scale in scales:
        pairs = [(summary[(scale, s, OURS)]["delay"], summary[(scale, s, "sumo-actuated")]["delay"])
                 for s in scenarios if (scale, s, OURS) in summary and (scale, s, "sumo-actuated") in summary]
        if not pairs:
            continue
        g_ours = math.exp(_mean([math.log(a) for a, _ in pairs]))
        g_act = math.exp(_mean([math.log(b) for _, b in pairs]))
        lines.append("| %g | %.1f | %.1f | %+.1f %% (target: -20 %% or better) |" % (
            scale, g_ours, g_act, 100 * (g_ours / g_act - 1)))
    return lines


def best_peer_ratios(summary: dict, scales: list[float], scenarios: list[str]) -> list[str]:
    """Per set and scale: geometric mean over networks of adaptive delay / the best peer's delay."""
    lines = ["| set | scale | networks | geometric mean of adaptive delay / best peer's delay |", "|---|---|---:|---:|"]
    for key in scenario_sets():
        if key == "suite":
            continue
        for scale in scales:
            ratios = []
            for scen in scenarios:
                ours = summary.get((scale, scen, OURS))
                peers = [summary[(scale, scen, p)]["delay"] for p in PEERS if (scale, scen, p) in summary]
                if set_of(scen) == key and ours and peers and min(peers) > 0:
                    ratios.append(ours["delay"] / min(peers))
            if ratios:
                lines.append("| %s | %g | %d | %.3f |" % (key, scale, len(ratios),
                                                         math.exp(_mean([math.log(r) for r in ratios]))))
    return lines


def chart(summary: dict, scales: list[float], scenarios: list[str], controllers: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(scales), 1, figsize=(max(12, 0.6 * len(scenarios)), 3.6 * len(scales)), squeeze=False)
    width = 0.8 / len(controllers)
    for ax, scale in zip(axes[:, 0], scales):
        for k, ctl in enumerate(controllers):
            xs, ys = [], []
            for i, scen in enumerate(scenarios):
                s = summary.get((scale, scen, ctl))
                if s:
                    xs.append(i + k * width)
                    ys.append(s["delay"])
            ax.bar(xs, ys, width, label=ctl)
        ax.set_yscale("log")
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(scenarios))])
        ax.set_xticklabels(scenarios, rotation=20)
        ax.set_ylabel("delay s per vehicle (log)")
        ax.set_title("delay, demand scale %g, mean over seeds" % scale)
        ax.legend(fontsize=7, ncol=len(controllers))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_doc(args: argparse.Namespace, rows: list[dict]) -> Path:
    from sim.report import scenario_label

    summary = summarise(rows)
    scenarios = [s for s in args.scenarios if any(scenario_label(r["scenario"]) == s for r in rows)]
    doc = ROOT / "docs" / "benchmarks.md"
    png = ROOT / "docs" / "benchmarks_delay.png"
    chart(summary, args.scales, scenarios, args.controllers, png)
    sumo = sorted({r.get("sumo_version", "") for r in rows})
    code = sorted({r.get("ampelwerk_version", "") for r in rows if r.get("ampelwerk_version")})
    seeds = sorted({int(r["seed"]) for r in rows})
    lines = [
        "# Benchmarks: adaptive control against its peers in SUMO",
        "",
        "Generated by `%s` (do not edit by hand)." % args.command,
        "",
        "- %s, Python %s, seeds %s, demand scales %s (SUMO `--scale`), 1 s steps, core tick 100 ms." % (
            ", ".join(sumo), platform.python_version(), ",".join(map(str, seeds)), ",".join("%g" % s for s in args.scales)),
        "- Ampelwerk: %s." % (", ".join(code) if code else "version not recorded by these runs"),
        "- Delay: RESCO-compatible, per scheduled vehicle (time loss + departure delay; vehicles still driving",
        "  count with their time loss so far; vehicles never inserted count as end minus scheduled depart).",
        "- Unfinished: vehicles running at the end plus vehicles never inserted, mean over seeds.",
        "- `max-pressure` counts vehicles on 50 m lane areas in and out, `sumo-delay-based` reads every vehicle's",
        "  time loss on 100 m lane areas: both sense more than the loops Ampelwerk sees (docs/sim.md).",
        "- Sets: bundled (%s), RESCO, the generated suite's tuning and validation halves (docs/scenarios.md)." %
        ", ".join(scenario_sets()["bundled"]),
        "- Ampelwerk's configs are imported with `--sequence %s`; `fixed`, `sumo-actuated` and" % args.sequence,
        "  `sumo-delay-based` run the program's own phase order.",
        "",
        "## Verdict (issue 4 criteria)",
        "",
    ] + verdicts(summary, args.scales, scenarios) + [
        "",
        "Against the best peer (lowest mean delay among %s) per set of networks:" % ", ".join(PEERS),
        "",
    ] + best_peer_ratios(summary, args.scales, scenarios) + [
        "",
        "## Signal safety (sim/signal_check.py on every Ampelwerk run)",
        "",
        "Each run's signals.csv against the imported configs and the net's own foes and programs: conflicting",
        "greens, the yellow trap, yellow straight to green, yellows shorter than configured (docs/core.md).",
        "",
    ] + safety_lines(summary, args.controllers) + ([
        "",
        "## Delay before and after the safety rules of docs/core.md (no yellow trap, red revert)",
        "",
        "Before: %s." % args.before_label,
        "",
    ] + before_after_lines(summary, previous_means(args.before), args.scales, scenarios, args.controllers)
        if args.before else []) + [
        "",
        "![delay per network and controller](benchmarks_delay.png)",
        "",
        "## Mean over seeds",
        "",
        "| scale | network | controller | seeds | delay s | unfinished | teleports | collisions |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for scale in args.scales:
        for scen in scenarios:
            for ctl in args.controllers:
                s = summary.get((scale, scen, ctl))
                if s:
                    lines.append("| %g | %s | %s | %d | %.1f | %.1f | %.1f | %.1f |" % (
                        scale, scen, ctl, s["seeds"], s["delay"], s["unfinished"], s["teleports"], s["collisions"]))
    lines += ["", "## Every run", "",
              "| scale | network | controller | seed | delay s | arrived | running at end | never inserted | "
              "teleports | collisions | wall s |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append("| %g | %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %.1f |" % (
            r["scale"], scenario_label(r["scenario"]), r["controller"], r["seed"], float(r["delay_s"]), r["arrived"],
            r["running_at_end"], r["never_inserted"], r["teleports"], r["collisions"], float(r["wall_s"])))
    doc.write_text("\n".join(lines) + "\n" + kept_section(doc))
    return doc


# The green-wave section is generated by bench/arterial_benchmarks.py; kept as it is here.
SECTION_BEGIN = "<!-- arterial_benchmarks.py: begin -->"
SECTION_END = "<!-- arterial_benchmarks.py: end -->"


def kept_section(doc: Path) -> str:
    """The generated green-wave section of the document on disk (with its markers), or ""."""
    text = doc.read_text() if doc.exists() else ""
    if SECTION_BEGIN not in text or SECTION_END not in text:
        return ""
    return "\n" + text[text.index(SECTION_BEGIN):text.index(SECTION_END) + len(SECTION_END)] + "\n"


def shown_command(script: str, argv: list[str]) -> str:
    """The command as run, for the document: without this machine's folders (an absolute path is shown by its
    last part), without --report-only and without where it ran (--scheduler ADDRESS)."""
    shown: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--scheduler":
            skip = True
        elif not a.startswith("--scheduler=") and a != "--report-only":
            shown.append(Path(a).name if a.startswith("/") else a)
    return " ".join(["python " + script] + shown)


def add_cluster_arguments(ap: argparse.ArgumentParser) -> None:
    """--jobs and --scheduler, as sim compare has them."""
    ap.add_argument("--jobs", type=int, help="local worker processes (default: number of cores)")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                    help="run the simulations on the workers of this running Dask scheduler (docs/sim.md)")


def check_cluster_arguments(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.jobs is not None and args.scheduler:
        ap.error("--jobs goes without --scheduler: the scheduler's workers run the simulations")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/benchmarks"))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--scales", default="0.7,1.0,1.3")
    ap.add_argument("--sets", default=DEFAULT_SETS,
                    help="comma-separated sets: bundled, resco, suite-tuning, suite-validation, suite (default: %s)"
                    % DEFAULT_SETS)
    ap.add_argument("--scenarios", help="comma-separated scenario names (instead of --sets)")
    ap.add_argument("--controllers", default=",".join(PEERS + ALSO_OURS + (OURS,)))
    add_cluster_arguments(ap)
    ap.add_argument("--sequence", choices=("fixed", "free"), default="free",
                    help="stage order of Ampelwerk's imported configs (default free)")
    ap.add_argument("--report-only", action="store_true", help="only re-render the document from runs on disk")
    ap.add_argument("--before", type=Path, metavar="MD",
                    help="an earlier docs/benchmarks.md: its mean delays are shown next to the new ones")
    ap.add_argument("--before-label", default="",
                    help="what --before is (e.g. the commit it was generated at), printed with the table")
    args = ap.parse_args()
    check_cluster_arguments(ap, args)
    args.command = shown_command("bench/benchmarks.py", sys.argv[1:])
    if args.before and not args.before_label:
        args.before_label = str(args.before)
    args.seeds = [int(x) for x in args.seeds.split(",")]
    args.scales = [float(x) for x in args.scales.split(",")]
    sets = scenario_sets()
    if args.scenarios:
        args.scenarios = args.scenarios.split(",")
    else:
        unknown = [k for k in args.sets.split(",") if k not in sets]
        if unknown:
            ap.error("--sets: unknown set %s (known: %s)" % (", ".join(unknown), ", ".join(sets)))
        args.scenarios = list(dict.fromkeys(n for k in args.sets.split(",") for n in sets[k]))
    args.controllers = args.controllers.split(",")
    if not args.report_only:
        run_all(args)
    doc = write_doc(args, load_runs(args.out, args.scales))
    print("wrote %s" % doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
