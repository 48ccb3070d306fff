"""Independent safety check of the signals SUMO showed, against the imported configs. Host only.

Reads signals.csv (time_s, tls_id, state string; one row per change) and, for
every traffic light with a config, maps links back to signal groups through
the config's source.sumo.group_links and checks:
  * conflicts: no two conflicting groups green or yellow at the same time
    (flashing and dark heads are not "open": flash is the fail-safe mode in
    which every approach has to yield);
  * intergreen: from a group's end of green to a conflicting group's start of
    green at least intergreen_ms;
  * clearance: every yellow lasts at least yellow_ms (ped_clearance_ms for
    pedestrian groups), and green never goes straight to red;
  * mapping: all links of a group show the same colour, always-red links stay red.
Times are quantised to SUMO steps, so durations get one step of tolerance.
Times in seconds (file) and ms (configs).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from controller.config_schema import VEHICLE_TIMING

GREEN, YELLOW, RED, OTHER = "green", "yellow", "red", "other"


def colour(ch: str) -> str:
    """Class of one SUMO link character: green, yellow, red or other (flash, dark, red-yellow)."""
    if ch in "Gg":
        return GREEN
    if ch in "yY":
        return YELLOW
    if ch == "r" or ch == "s":  # s: stop, then turn on red; a red display
        return RED
    return OTHER


class _Junction:
    def __init__(self, tls: str, raw: dict, step_s: float) -> None:
        src = raw["source"]["sumo"]
        self.tls = tls
        self.tol = step_s + 1e-6
        self.groups = [g["id"] for g in raw["signal_groups"]]
        self.links = {g: list(src["group_links"].get(g, [])) for g in self.groups}
        self.always_red = list(src.get("always_red_links", []))
        self.clearance_s = {}
        for g in raw["signal_groups"]:
            if g.get("kind", "vehicle") == "pedestrian":
                self.clearance_s[g["id"]] = g["ped_clearance_ms"] / 1000
            else:
                self.clearance_s[g["id"]] = g.get("yellow_ms", VEHICLE_TIMING["yellow_ms"][0]) / 1000
        self.pedestrian = {g["id"] for g in raw["signal_groups"] if g.get("kind") == "pedestrian"}
        self.intergreen = {(a, b): v / 1000 for a, row in raw.get("intergreen_ms", {}).items() for b, v in row.items()}
        self.conflicts = {tuple(sorted(p)) for p in raw.get("conflicts", [])} | {tuple(sorted(p)) for p in self.intergreen}
        self.state = {g: None for g in self.groups}
        self.since = {g: 0.0 for g in self.groups}
        self.green_end: dict[str, float] = {}

    def row(self, t: float, state: str, problems: list[str]) -> None:
        where = "%s at %.3f s" % (self.tls, t)
        now = {}
        for g in self.groups:
            cols = {colour(state[i]) for i in self.links[g] if i < len(state)}
            if len(cols) > 1:
                problems.append("%s: links of group %s show different colours %s" % (where, g, sorted(cols)))
            now[g] = cols.pop() if cols else RED
        for i in self.always_red:
            if i < len(state) and state[i] not in "rs":
                problems.append("%s: always-red link %d shows %r" % (where, i, state[i]))
        for g in self.groups:
            old, new = self.state[g], now[g]
            if old == new:
                continue
            if old == GREEN:
                self.green_end[g] = t
                if new == RED and g not in self.pedestrian:
                    problems.append("%s: group %s went from green to red without yellow" % (where, g))
            if old == YELLOW and t - self.since[g] < self.clearance_s[g] - self.tol:
                problems.append("%s: group %s yellow lasted %.3f s, configured %.3f s"
                                % (where, g, t - self.since[g], self.clearance_s[g]))
            if new == GREEN:
                for a in self.groups:
                    need = self.intergreen.get((a, g))
                    if need is None or a not in self.green_end:
                        continue
                    if t - self.green_end[a] < need - self.tol:
                        problems.append("%s: group %s green %.3f s after %s's green ended, intergreen %.3f s"
                                        % (where, g, t - self.green_end[a], a, need))
            self.state[g], self.since[g] = new, t
        for a, b in self.conflicts:
            if now[a] in (GREEN, YELLOW) and now[b] in (GREEN, YELLOW):
                problems.append("%s: conflicting groups %s (%s) and %s (%s) open together" % (where, a, now[a], b, now[b]))


def check_signals(signals_csv: Path, configs: dict[str, dict | Path], step_s: float) -> list[str]:
    """Every safety problem in signals.csv for the traffic lights in ``configs`` (raw dicts or JSON paths)."""
    junctions = {}
    for tls, cfg in configs.items():
        raw = cfg if isinstance(cfg, dict) else json.loads(Path(cfg).read_text())
        junctions[tls] = _Junction(tls, raw, step_s)
    problems: list[str] = []
    with open(signals_csv, newline="") as f:
        for rec in csv.DictReader(f):
            j = junctions.get(rec["tls_id"])
            if j is not None:
                j.row(float(rec["time_s"]), rec["state"], problems)
    return problems
