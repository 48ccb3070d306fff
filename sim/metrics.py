"""Traffic metrics of one SUMO run, from its tripinfo.xml, statistics.xml and edgedata.xml. Host only.

Headline, as in RESCO (Ault & Sharon 2021): mean delay per *scheduled*
vehicle, so a controller that gridlocks the net cannot look good by keeping
cars out of it:

  delay_s = sum over vehicles scheduled in [begin, end] of (timeLoss + departDelay) / their count

SUMO writes a tripinfo for every vehicle when run with
--tripinfo-output.write-unfinished and --tripinfo-output.write-undeparted:
  * arrived vehicles: their timeLoss and departDelay;
  * vehicles still driving at the end (arrival=-1): time loss so far + departDelay;
  * vehicles never inserted (depart=-1): SUMO sets departDelay = end - scheduled
    depart and timeLoss 0, which is exactly "end minus scheduled depart".
    Loaded vehicles scheduled after the end (departDelay < 0) are not in the window.

Per approach (incoming edge of a controlled junction): edgedata time loss on the
edge divided by the vehicles that drove on it (entered + departed there).
All times in seconds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable


class MetricsError(Exception):
    """An output file is missing or not what SUMO writes."""


def _parse(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except FileNotFoundError:
        raise MetricsError("%s not found: the run did not finish (look at the SUMO messages above)" % path) from None
    except ET.ParseError as e:
        raise MetricsError("%s is not complete XML (%s): the run was interrupted" % (path, e)) from None


def trip_metrics(tripinfo: Path) -> dict:
    """Delay and trip figures from a tripinfo.xml written with unfinished and undeparted vehicles."""
    return trip_figures(_parse(tripinfo).iter("tripinfo"))


def trip_figures(trips: Iterable[ET.Element]) -> dict:
    """Delay and trip figures of some <tripinfo> elements (all of a run, or one vehicle class's)."""
    arrived = running = never_inserted = 0
    delay_sum = duration_sum = waiting_sum = 0.0
    for el in trips:
        depart_delay = float(el.get("departDelay", 0))
        if float(el.get("depart", 0)) < 0:
            if depart_delay < 0:
                continue  # scheduled after the end of the window
            never_inserted += 1
            delay_sum += depart_delay
            continue
        delay_sum += float(el.get("timeLoss", 0)) + depart_delay
        if float(el.get("arrival", -1)) >= 0:
            arrived += 1
            duration_sum += float(el.get("duration", 0))
            waiting_sum += float(el.get("waitingTime", 0))
        else:
            running += 1
    scheduled = arrived + running + never_inserted
    return {
        "vehicles_scheduled": scheduled,
        "delay_s": delay_sum / scheduled if scheduled else 0.0,
        "arrived": arrived,
        "running_at_end": running,
        "never_inserted": never_inserted,
        "mean_trip_duration_s": duration_sum / arrived if arrived else 0.0,
        "mean_waiting_time_s": waiting_sum / arrived if arrived else 0.0,
    }


def statistic_metrics(statistics: Path) -> dict:
    """Teleports, collisions and emergency braking from SUMO's --statistic-output."""
    root = _parse(statistics)
    teleports = root.find("teleports")
    safety = root.find("safety")
    if teleports is None or safety is None:
        raise MetricsError("%s has no <teleports>/<safety> element: not a SUMO statistic-output file" % statistics)
    return {
        "teleports": int(teleports.get("total", 0)),
        "collisions": int(safety.get("collisions", 0)),
        "emergency_stops": int(safety.get("emergencyStops", 0)),
        "emergency_braking": int(safety.get("emergencyBraking", 0)),
    }


def approach_delays(edgedata: Path, approaches: dict[str, Iterable[str]]) -> dict[str, dict[str, float]]:
    """Mean time loss per vehicle on each incoming edge: {tls_id: {edge_id: seconds}}.

    Edges no vehicle used are left out.
    """
    loss: dict[str, float] = {}
    count: dict[str, int] = {}
    for interval in _parse(edgedata).iter("interval"):
        for e in interval.iter("edge"):
            eid = e.get("id", "")
            n = int(float(e.get("entered", 0))) + int(float(e.get("departed", 0)))
            loss[eid] = loss.get(eid, 0.0) + float(e.get("timeLoss", 0))
            count[eid] = count.get(eid, 0) + n
    out: dict[str, dict[str, float]] = {}
    for tls, edges in approaches.items():
        row = {}
        for eid in edges:
            if count.get(eid):
                row[eid] = loss[eid] / count[eid]
        out[tls] = row
    return out


def run_metrics(out_dir: Path, approaches: dict[str, Iterable[str]] | None = None) -> dict:
    """All metrics of one run directory (tripinfo.xml, statistics.xml, edgedata.xml)."""
    out_dir = Path(out_dir)
    m = trip_metrics(out_dir / "tripinfo.xml")
    if not m["vehicles_scheduled"]:
        # the figures are then zeros that measure nothing, not a perfect controller
        m["warnings"] = ["no vehicle was scheduled in the simulated window: the scenario has no demand there "
                         "(check its route files, --begin/--end and --scale); delay 0.0 s measures nothing"]
    m.update(statistic_metrics(out_dir / "statistics.xml"))
    from sim.class_metrics import class_metrics

    classes = class_metrics(out_dir / "tripinfo.xml")
    if classes:
        m["classes"] = classes
    if approaches is not None and (out_dir / "edgedata.xml").exists():
        m["approach_delay_s"] = approach_delays(out_dir / "edgedata.xml", approaches)
    return m
