"""Delay per vehicle class (car, bus, emergency) of a SUMO run, and its tables. Host only.

The figures of sim/metrics.py (RESCO's delay per scheduled vehicle: timeLoss
+ departDelay, unfinished and never-inserted vehicles included) computed for
each class apart, from tripinfo.xml's ``vType`` attribute: the vehicle types of
sim/priority_demand.py's classes (``ems`` -> emergency, ``bus`` -> bus), every
other type -> car. This is analysis after the run: the controller never sees a
vehicle's type. A run without a bus or an emergency vehicle gets no per-class
figures. Times in seconds.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path
from statistics import mean

from sim.priority_demand import CLASS_TYPES

# vType id -> class name in summary.json
TYPE_CLASS = {vtype: ("emergency" if vclass == "emergency" else vclass) for vtype, vclass, _a in CLASS_TYPES.values()}
CLASSES = ("car", "bus", "emergency")
CLASS_COLUMNS = ("scenario", "controller", "seed", "variant", "class", "vehicles_scheduled", "delay_s",
                 "mean_waiting_time_s", "arrived", "running_at_end", "never_inserted")


def class_metrics(tripinfo: Path) -> dict[str, dict]:
    """{class: figures of sim.metrics.trip_figures} for car, bus and emergency; {} without a bus or an
    emergency vehicle in the run."""
    from sim.metrics import _parse, trip_figures

    by_class: dict[str, list[ET.Element]] = {c: [] for c in CLASSES}
    for el in _parse(tripinfo).iter("tripinfo"):
        by_class[TYPE_CLASS.get(el.get("vType", ""), "car")].append(el)
    if not by_class["bus"] and not by_class["emergency"]:
        return {}
    return {c: trip_figures(els) for c, els in by_class.items()}


def class_rows(runs: list[dict], variant: str = "") -> list[dict]:
    """One row per run and class (runs without per-class figures left out)."""
    from sim.report import scenario_label

    rows = []
    for r in runs:
        for c, m in r.get("classes", {}).items():
            row = {"scenario": scenario_label(r["scenario"]), "controller": r["controller"], "seed": r["seed"],
                   "variant": variant, "class": c}
            row.update({k: m[k] for k in CLASS_COLUMNS[5:]})
            rows.append(row)
    return rows


def write_class_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, CLASS_COLUMNS)
        w.writeheader()
        w.writerows(rows)


def class_means(rows: list[dict]) -> dict[tuple[str, str, str, str], dict]:
    """Mean over seeds per (scenario, controller, variant, class): delay, waiting, vehicles, seeds."""
    groups: dict[tuple[str, str, str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["controller"], r["variant"], r["class"]), []).append(r)
    return {k: {"seeds": len(rs), "delay_s": mean(float(r["delay_s"]) for r in rs),
                "mean_waiting_time_s": mean(float(r["mean_waiting_time_s"]) for r in rs),
                "vehicles_scheduled": mean(float(r["vehicles_scheduled"]) for r in rs)}
            for k, rs in groups.items()}


def class_table(rows: list[dict]) -> str:
    """Markdown: delay per class, mean over seeds, per scenario and controller (and variant)."""
    lines = ["| scenario | controller | variant | class | seeds | vehicles | delay s | waiting s |",
             "|---|---|---|---|---:|---:|---:|---:|"]
    for (scen, ctl, variant, cls), m in class_means(rows).items():
        lines.append("| %s | %s | %s | %s | %d | %.0f | %.1f | %.1f |" % (
            scen, ctl, variant or "-", cls, m["seeds"], m["vehicles_scheduled"], m["delay_s"],
            m["mean_waiting_time_s"]))
    return "\n".join(lines) + "\n"
