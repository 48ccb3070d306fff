"""Per-junction view of one priority vehicle: signal groups over time, its check-in and its passage. Host only.

`ampelwerk sim junction-view RUN_DIR --out PNG` (docs/priority.md). From a run
of `sim run ... --priority-demand ems --priority ems`:

* one bar per signal group of the traffic light, green, yellow or red over
  time, from signals.csv and the config's link mapping (sim/timespace.py's
  colours and intervals);
* the vehicle's check-in (entering its check-in loop: the request) and its
  check-out (entering the check-out loop past the stop line: it has passed),
  from priority_loops.csv, the run's log of what the class loops saw;
* the stage the check-in loop asks for, named in the title.

The data (JunctionView) is built apart from the drawing, so tests assert on
intervals and marks rather than pixels. Units: seconds.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from sim.timespace import SIGNAL_COLOURS, read_signals, signal_intervals

MARGIN_S = 40.0  # shown before the check-in and after the check-out


class JunctionViewError(Exception):
    """A run directory without what the view needs; the message says what to run."""


@dataclass
class JunctionView:
    tls: str
    vehicle: str
    vtype: str
    check_in_s: float
    check_out_s: float | None  # None: not past the stop line before the run ended
    stage: str  # the stage its check-in loop asks for
    stage_groups: list[str]
    groups: dict[str, list[tuple[float, float, str]]]  # group id -> (start, end, colour), in config order
    t0: float
    t1: float


def _passages(run_dir: Path) -> list[dict]:
    path = run_dir / "priority_loops.csv"
    if not path.is_file():
        raise JunctionViewError("%s not found: run with --priority-demand and --priority (an ampelwerk-* controller "
                                "with check-in loops) to get the class loops' log" % path)
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def build(run_dir: Path, vtype: str = "ems", tls: str | None = None, vehicle: str | None = None) -> JunctionView:
    """The view of ``vehicle`` (default: the first of ``vtype`` to check in) at ``tls`` (default: where it
    checked in first)."""
    run_dir = Path(run_dir)
    rows = _passages(run_dir)
    ins = [r for r in rows if r["kind"] == "check_in" and (r["vehicle_id"] == vehicle if vehicle else r["vtype"] == vtype)
           and (tls is None or r["tls_id"] == tls)]
    if not ins:
        raise JunctionViewError("no %s checked in%s in %s" % (vehicle or "vehicle of type %s" % vtype,
                                                             " at %s" % tls if tls else "", run_dir))
    first = min(ins, key=lambda r: float(r["time_s"]))
    tls, vehicle = first["tls_id"], first["vehicle_id"]
    check_in = float(first["time_s"])
    outs = [float(r["time_s"]) for r in rows if r["kind"] == "check_out" and r["vehicle_id"] == vehicle
            and r["tls_id"] == tls and float(r["time_s"]) >= check_in]
    check_out = min(outs) if outs else None
    summary = json.loads((run_dir / "summary.json").read_text())
    raw = json.loads(Path(summary["configs"][tls]).read_text())
    stage = next(d["stage"] for d in raw["detectors"] if d["id"] == first["loop_id"])
    t0 = check_in - MARGIN_S
    t1 = (check_out if check_out is not None else check_in + 120.0) + MARGIN_S
    changes = read_signals(run_dir / "signals.csv", [tls])[tls]
    links = raw["source"]["sumo"]["group_links"]
    groups = {g["id"]: signal_intervals(changes, links[g["id"]], t0, t1) for g in raw["signal_groups"]}
    stage_groups = next(s["groups"] for s in raw["stages"] if s["id"] == stage)
    return JunctionView(tls, vehicle, first["vtype"], check_in, check_out, stage, stage_groups, groups, t0, t1)


def plot(view: JunctionView, out_png: Path) -> Path:
    """Draw the view (matplotlib, Agg) and write it as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = list(view.groups)
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(ids) + 2.2))
    for k, g in enumerate(ids):
        for a, b, colour in view.groups[g]:
            ax.broken_barh([(a, b - a)], (k - 0.35, 0.7), color=SIGNAL_COLOURS[colour])
    ax.set_yticks(range(len(ids)))
    ax.set_yticklabels(["%s%s" % (g, " *" if g in view.stage_groups else "") for g in ids])
    ax.invert_yaxis()
    ax.axvline(view.check_in_s, color="#1f5fbf", linestyle="--", linewidth=1.5,
               label="%s checks in (%.0f s)" % (view.vehicle, view.check_in_s))
    if view.check_out_s is not None:
        ax.axvline(view.check_out_s, color="#7b2d8e", linewidth=1.5,
                   label="passes the stop line (%.0f s, %.0f s after check-in)" % (
                       view.check_out_s, view.check_out_s - view.check_in_s))
    ax.set_xlim(view.t0, view.t1)
    ax.set_xlabel("simulation time (s)")
    ax.set_title("traffic light %s: %s (%s), requested stage %s (* its groups)" % (
        view.tls, view.vehicle, view.vtype, view.stage))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return Path(out_png)
