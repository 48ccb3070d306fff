"""Independent safety check of the signals SUMO showed. Host only.

Reads signals.csv (time_s, tls_id, state string; one row per change). For every
traffic light with an imported config it maps links back to signal groups
through the config's source.sumo.group_links and checks:
  * conflicts: no two conflicting groups green or yellow at the same time
    (flashing and dark heads are not "open": flash is the fail-safe mode in
    which every approach has to yield);
  * intergreen: from a group's end of green to a conflicting group's start of
    green at least intergreen_ms;
  * clearance: every yellow lasts at least yellow_ms (ped_clearance_ms for
    pedestrian groups), green never goes straight to red, and no link goes
    from yellow straight to green (G or g): a red must be seen between;
  * mapping: all links of a group show the same colour, always-red links stay red;
  * red-amber ('u', a regional profile's sequence): a stop display, so not open
    for the foe checks, but only after red, only before green, and never beside
    a conflicting group's green or yellow.
  * flashing green (a profile's flashing_green_ms) reaches SUMO as the link's
    G/g, so it is checked as the green it is part of: a go display that
    conflicts like green, its end of green the start of the yellow.
With the net's own facts (``net_facts``: the junctions' foe matrices and what
the net's programs show) it also checks every pair of foe links:
  * conflicting greens: the two signals a pair of foes shows together must
    occur in some phase of the net's programs, or be a weaker form of such a
    pair (each link's signal lowered along G > g > s > y > red): priority green
    where the program only gives a permissive one is a conflict;
  * the yellow trap: a link yellow beside a foe's G or g only where the
    program itself shows that link yellow beside that foe's green.
Times are quantised to SUMO steps, so durations get one step of tolerance.
Times in seconds (file) and ms (configs).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GREEN, YELLOW, RED, RED_AMBER, OTHER = "green", "yellow", "red", "red-amber", "other"
# strength of a link's signal: priority green, permissive green, stop-then-go, yellow; red, flash, dark: 0
RANK = {"G": 4, "g": 3, "s": 2, "y": 1, "Y": 1}


def colour(ch: str) -> str:
    """Class of one SUMO link character: green, yellow, red, red-amber or other (flash, dark)."""
    if ch in "Gg":
        return GREEN
    if ch in "yY":
        return YELLOW
    if ch == "r" or ch == "s":  # s: stop, then turn on red; a red display
        return RED
    if ch == "u":
        return RED_AMBER
    return OTHER


@dataclass
class TlsFacts:
    """What a traffic light's net says: foe link pairs, and the signal pairs its programs show them."""

    foes: set[tuple[int, int]] = field(default_factory=set)  # (i, j), i < j
    shown: dict[tuple[int, int], set[tuple[int, int]]] = field(default_factory=dict)  # (i, j) -> {(rank i, rank j)}

    def allowed(self, i: int, j: int, ri: int, rj: int) -> bool:
        """May foe links i < j show signals of ranks ri and rj together?"""
        pairs = self.shown.get((i, j), ())
        if not any(ri <= x and rj <= y for x, y in pairs):
            return False
        if (ri == 1) != (rj == 1) and max(ri, rj) >= 3:
            # one yellow beside the other's green: only the very pattern the program shows
            return any((x == 1) == (ri == 1) and min(x, y) == 1 and max(ri, rj) <= max(x, y) for x, y in pairs)
        return True


def program_pairs(states: list[str]) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """(i, j) -> every (rank i, rank j) with both non-red that some state string shows."""
    out: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for st in states:
        ranks = [RANK.get(c, 0) for c in st]
        lit = [i for i, r in enumerate(ranks) if r]
        for a, i in enumerate(lit):
            for j in lit[a + 1:]:
                out.setdefault((i, j), set()).add((ranks[i], ranks[j]))
    return out


def net_facts(net_file: Path, tls_ids: list[str] | None = None) -> dict[str, TlsFacts]:
    """Foe pairs and program signal pairs of the net's traffic lights (sumolib)."""
    import sumolib

    from sim.net_import import foe_pairs, link_connections

    net = sumolib.net.readNet(str(net_file), withPrograms=True, withPedestrianConnections=True)
    out = {}
    for tls in net.getTrafficLights():
        if tls_ids is not None and tls.getID() not in tls_ids:
            continue
        states = [p.state for prog in tls.getPrograms().values() for p in prog.getPhases()]
        out[tls.getID()] = TlsFacts(foe_pairs(link_connections(tls)), program_pairs(states))
    return out


class _Junction:
    def __init__(self, tls: str, raw: dict, step_s: float, facts: TlsFacts | None) -> None:
        src = raw["source"]["sumo"]
        self.tls = tls
        self.facts = facts
        self.tol = step_s + 1e-6
        groups = raw["signal_groups"]
        self.groups = [g["id"] for g in groups]
        self.links = {g: list(src["group_links"].get(g, [])) for g in self.groups}
        self.always_red = list(src.get("always_red_links", []))
        self.pedestrian = {g["id"] for g in groups if g.get("kind") == "pedestrian"}
        self.clearance_s = {}
        for g in groups:
            if g["id"] in self.pedestrian:
                self.clearance_s[g["id"]] = g["ped_clearance_ms"] / 1000
            else:
                self.clearance_s[g["id"]] = _yellow_ms(g) / 1000
        self.intergreen = {(a, b): v / 1000 for a, row in raw.get("intergreen_ms", {}).items() for b, v in row.items()}
        self.conflicts = {tuple(sorted(p)) for p in raw.get("conflicts", [])} | {tuple(sorted(p)) for p in self.intergreen}
        self.state = {g: None for g in self.groups}
        self.since = {g: 0.0 for g in self.groups}
        self.green_end: dict[str, float] = {}
        self.last = ""  # the state string of the previous row

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
        for i in range(min(len(state), len(self.last))):
            if colour(self.last[i]) == YELLOW and colour(state[i]) == GREEN:
                problems.append("%s: link %d went from yellow straight to %r (no red between)" % (where, i, state[i]))
        for g in self.groups:
            old, new = self.state[g], now[g]
            if old == new:
                continue
            if new == RED_AMBER and old not in (RED, None):
                problems.append("%s: group %s showed red-amber after %s" % (where, g, old))
            if old == RED_AMBER and new != GREEN:
                problems.append("%s: group %s went from red-amber to %s, not green" % (where, g, new))
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
            elif RED_AMBER in (now[a], now[b]) and {now[a], now[b]} & {GREEN, YELLOW}:
                problems.append("%s: red-amber beside a conflicting green or yellow: %s (%s), %s (%s)"
                                % (where, a, now[a], b, now[b]))
        if self.facts is not None:
            self._foes(where, state, problems)
        self.last = state

    def _foes(self, where: str, state: str, problems: list[str]) -> None:
        n = len(state)
        for i, j in self.facts.foes:
            if j >= n:
                continue
            ri, rj = RANK.get(state[i], 0), RANK.get(state[j], 0)
            if not (ri and rj) or self.facts.allowed(i, j, ri, rj):
                continue
            if (ri == 1) != (rj == 1):
                y, other = (i, j) if ri == 1 else (j, i)
                problems.append("%s: yellow trap: link %d yellow beside foe link %d %r, which the net's program never "
                                "shows (%s)" % (where, y, other, state[other], state))
            else:
                problems.append("%s: foe links %d %r and %d %r together, which the net's program never shows (%s)"
                                % (where, i, state[i], j, state[j], state))


def _yellow_ms(group: dict) -> int:
    from controller.config.schema import VEHICLE_TIMING

    return group.get("yellow_ms", VEHICLE_TIMING["yellow_ms"][0])


def check_signals(signals_csv: Path, configs: dict[str, dict | Path], step_s: float,
                  facts: dict[str, TlsFacts] | None = None) -> list[str]:
    """Every safety problem in signals.csv for the traffic lights in ``configs`` (raw dicts or JSON paths).

    ``facts`` (from ``net_facts``) adds the checks against the net's own foes and programs.
    """
    junctions = {}
    for tls, cfg in configs.items():
        raw: Any = cfg if isinstance(cfg, dict) else json.loads(Path(cfg).read_text())
        junctions[tls] = _Junction(tls, raw, step_s, (facts or {}).get(tls))
    problems: list[str] = []
    with open(signals_csv, newline="") as f:
        for rec in csv.DictReader(f):
            j = junctions.get(rec["tls_id"])
            if j is not None:
                j.row(float(rec["time_s"]), rec["state"], problems)
    return problems
