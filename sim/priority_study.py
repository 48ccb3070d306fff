"""With and without priority: the same scenarios, seeds and demand, priority block on and off. Host only.

`ampelwerk sim priority-study` (docs/priority.md). Both variants carry the same
emergency vehicles and buses (sim/priority_demand.py, drawn from each run's
seed) and run the same controller; "with" imports the traffic lights with the
classes' check-in/out loops and priority block (sim/priority_loops.py),
"without" imports them plain. Each variant is one `sim compare` (sim/compare.py)
into <out>/without and <out>/with; the study then writes
  <out>/study.csv   per scenario and class: delay without, with, change (mean over seeds)
  <out>/study.md    the same as a table, with the runs' signal-check violations
Times in seconds.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from sim.class_metrics import CLASSES, class_means, class_rows
from sim.compare import compare
from sim.report import signal_violations
from sim.runner import RunOptions

STUDY_COLUMNS = ("scenario", "controller", "class", "seeds", "vehicles", "delay_without_s", "delay_with_s",
                 "change_s", "change_pct")


def run_study(scenarios: list[Path], controller: str, seeds: list[int], out: Path, template: RunOptions,
              classes: tuple[str, ...], jobs: int | None = None, without_only: bool = False,
              log=print) -> tuple[list[dict], list[dict]]:
    """Run both variants (or only "without"); write study.csv and study.md; returns (study rows, failures)."""
    rows: list[dict] = []
    failures: list[dict] = []
    variants = [("without", ())] + ([] if without_only else [("with", tuple(classes))])
    for variant, prio in variants:
        log("%s priority:" % variant)
        runs, failed = compare(scenarios, [controller], seeds, out / variant,
                               replace(template, priority=prio, out_dir=out / variant), jobs, log=log)
        rows += class_rows(runs, variant)
        failures += failed
        for r in runs:
            n = signal_violations(r)
            if n:
                failures.append({"scenario": r["scenario"], "controller": variant, "seed": r["seed"],
                                 "error": "signal check: %d violation(s)" % n})
    study = study_rows(rows)
    write_study(study, failures, out)
    return study, failures


def study_rows(rows: list[dict]) -> list[dict]:
    """Per scenario, controller and class: the delay without and with priority and the change."""
    means = class_means(rows)
    out = []
    for (scen, ctl, variant, cls), m in means.items():
        if variant != "without":
            continue
        w = means.get((scen, ctl, "with", cls))
        row = {"scenario": scen, "controller": ctl, "class": cls, "seeds": m["seeds"],
               "vehicles": round(m["vehicles_scheduled"], 1), "delay_without_s": round(m["delay_s"], 2),
               "delay_with_s": "", "change_s": "", "change_pct": ""}
        if w is not None:
            row["delay_with_s"] = round(w["delay_s"], 2)
            row["change_s"] = round(w["delay_s"] - m["delay_s"], 2)
            row["change_pct"] = round(100 * (w["delay_s"] - m["delay_s"]) / m["delay_s"], 1) if m["delay_s"] else ""
        out.append(row)
    out.sort(key=lambda r: (r["scenario"], CLASSES.index(r["class"])))
    return out


def study_table(study: list[dict]) -> str:
    """Markdown table of study_rows."""
    lines = ["| scenario | controller | class | seeds | vehicles | delay without s | delay with s | change s | change % |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in study:
        lines.append("| %s | %s | %s | %d | %s | %s | %s | %s | %s |" % tuple(
            r[c] for c in STUDY_COLUMNS))
    return "\n".join(lines) + "\n"


def write_study(study: list[dict], failures: list[dict], out: Path) -> None:
    with open(out / "study.csv", "w", newline="") as f:
        w = csv.DictWriter(f, STUDY_COLUMNS)
        w.writeheader()
        w.writerows(study)
    md = ["# Priority study: delay per class with and without priority", "", study_table(study)]
    if failures:
        md += ["", "## Failed runs and signal-check violations", ""] + [
            "- %s %s seed %s: %s" % (Path(f["scenario"]).name, f["controller"], f["seed"], f["error"])
            for f in failures]
    (out / "study.md").write_text("\n".join(md) + "\n")
