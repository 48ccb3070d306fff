"""Tables, CSV, markdown and PNG charts of SUMO run summaries. Host only.

Input is a list of run summaries (summary.json of sim/runner.py). Every table
puts the vehicles still driving at the end and the vehicles never inserted
next to the delay, so a controller that gridlocks the net cannot look good.
Reused by the compare command and by docs generators. Times in seconds.
"""

from __future__ import annotations

import csv
from pathlib import Path
from statistics import mean, pstdev

# columns of the per-run CSV, in order: what the run gives, the same wherever it ran (no wall time)
RUN_COLUMNS = ("scenario", "controller", "seed", "scale", "delay_s", "mean_trip_duration_s", "mean_waiting_time_s",
               "vehicles_scheduled", "arrived", "running_at_end", "never_inserted", "teleports", "collisions",
               "emergency_braking", "monitor_flash", "signal_violations", "sumo_version", "ampelwerk_version")
# the per-run wall time, which differs from machine to machine and run to run, goes to timings.csv
TIMING_COLUMNS = ("scenario", "controller", "seed", "scale", "wall_s")
MEAN_COLUMNS = ("delay_s", "mean_trip_duration_s", "mean_waiting_time_s", "arrived", "running_at_end",
                "never_inserted", "teleports", "collisions", "emergency_braking", "wall_s")


def scenario_label(scenario: str | Path) -> str:
    """Short scenario name: the .sumocfg file name without extension."""
    return Path(scenario).name.split(".")[0]


def aggregate(runs: list[dict]) -> list[dict]:
    """Mean over seeds per (scenario, controller), in first-seen order; delay also gets its spread."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((scenario_label(r["scenario"]), r["controller"]), []).append(r)
    out = []
    for (scen, ctl), rs in groups.items():
        row = {"scenario": scen, "controller": ctl, "seeds": len(rs)}
        for c in MEAN_COLUMNS:
            row[c] = mean(float(r[c]) for r in rs)
        row["delay_sd_s"] = pstdev(float(r["delay_s"]) for r in rs)
        row["monitor_flash"] = sum(len(r.get("monitor_flash", [])) for r in rs)
        row["signal_violations"] = sum(signal_violations(r) or 0 for r in rs)
        out.append(row)
    return out


def markdown_table(agg: list[dict]) -> str:
    """The comparison table as GitHub markdown (one row per scenario and controller)."""
    lines = ["| scenario | controller | seeds | delay s (sd) | trip s | waiting s | arrived | running at end "
             "| never inserted | teleports | collisions | wall s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in agg:
        lines.append("| %s | %s | %d | %.1f (%.1f) | %.1f | %.1f | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f |%s" % (
            r["scenario"], r["controller"], r["seeds"], r["delay_s"], r["delay_sd_s"], r["mean_trip_duration_s"],
            r["mean_waiting_time_s"], r["arrived"], r["running_at_end"], r["never_inserted"], r["teleports"],
            r["collisions"], r["wall_s"], _alarms(r)))
    return "\n".join(lines) + "\n"


def signal_violations(run: dict) -> int | None:
    """Violations sim/signal_check.py found in an ampelwerk-* run (None: not checked, e.g. a peer)."""
    check = run.get("signal_check")
    return None if check is None else int(check["violations"])


def _alarms(row: dict) -> str:
    out = ""
    if row["monitor_flash"]:
        out += "  MONITOR FLASH in %d run(s)" % row["monitor_flash"]
    if row.get("signal_violations"):
        out += "  SIGNAL CHECK: %d violation(s)" % row["signal_violations"]
    return out


def write_runs_csv(runs: list[dict], path: Path) -> None:
    """Every run, one row each, in `path` (runs.csv); their wall times in timings.csv beside it."""
    _write_csv(runs, path, RUN_COLUMNS)
    _write_csv(runs, path.with_name("timings.csv"), TIMING_COLUMNS)


def _write_csv(runs: list[dict], path: Path, columns: tuple[str, ...]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in runs:
            row = []
            for c in columns:
                if c == "scenario":
                    row.append(scenario_label(r["scenario"]))
                elif c == "monitor_flash":
                    row.append(";".join(r.get(c, [])))
                elif c == "signal_violations":
                    v = signal_violations(r)
                    row.append("" if v is None else v)
                else:
                    row.append(r.get(c, ""))
            w.writerow(row)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart_delay(agg: list[dict], path: Path, scenario: str) -> None:
    """Bar chart: mean delay per controller for one scenario, with unfinished counts in the labels."""
    plt = _pyplot()
    rows = [r for r in agg if r["scenario"] == scenario]
    fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(rows)), 4))
    ax.bar(range(len(rows)), [r["delay_s"] for r in rows], yerr=[r["delay_sd_s"] for r in rows], capsize=4)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(["%s\nrunning at end %.0f\nnever inserted %.0f" % (
        r["controller"], r["running_at_end"], r["never_inserted"]) for r in rows], fontsize=7)
    ax.set_ylabel("mean delay per scheduled vehicle (s)")
    ax.set_title("%s: delay per controller (mean over seeds)" % scenario)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def approach_table(runs: list[dict], scenario: str) -> dict[str, dict[str, float]]:
    """{"tls/edge": {controller: mean over seeds of approach delay}} for one scenario."""
    acc: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        if scenario_label(r["scenario"]) != scenario:
            continue
        for tls, edges in (r.get("approach_delay_s") or {}).items():
            for edge, v in edges.items():
                acc.setdefault("%s/%s" % (tls, edge), {}).setdefault(r["controller"], []).append(v)
    return {k: {c: mean(v) for c, v in per.items()} for k, per in acc.items()}


def chart_approaches(runs: list[dict], path: Path, scenario: str, most: int = 30) -> bool:
    """Horizontal bars: delay per approach and controller (the `most` worst approaches). False if no data."""
    table = approach_table(runs, scenario)
    if not table:
        return False
    plt = _pyplot()
    controllers = list(dict.fromkeys(r["controller"] for r in runs if scenario_label(r["scenario"]) == scenario))
    keys = sorted(table, key=lambda k: -max(table[k].values()))[:most]
    h = 0.8 / len(controllers)
    fig, ax = plt.subplots(figsize=(8, 1 + 0.25 * len(keys) * max(1, len(controllers) / 2)))
    for i, c in enumerate(controllers):
        ax.barh([k + i * h for k in range(len(keys))], [table[key].get(c, 0.0) for key in keys], height=h, label=c)
    ax.set_yticks([k + 0.4 - h / 2 for k in range(len(keys))])
    ax.set_yticklabels(keys, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("mean time loss per vehicle on the approach (s)")
    ax.set_title("%s: delay per approach" % scenario)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
