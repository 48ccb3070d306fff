"""A third implementation of the safety rules (docs/core.md), independent of the kernel and the
monitor: follows a controller's outputs tick by tick and records every violation. Used by the
property tests, the wire tests and bench/safety_fuzz.py."""

from __future__ import annotations

from controller.config_defaults import with_defaults
from controller.signal_states import GREEN, RED, YELLOW


class InvariantChecker:
    """Follows the outputs tick by tick and records every safety violation."""

    def __init__(self, raw: dict) -> None:
        raw = with_defaults(raw)  # the explicit values the controller runs with
        groups = raw["signal_groups"]
        self.ids = [g["id"] for g in groups]
        self.n = len(self.ids)
        idx = {g: i for i, g in enumerate(self.ids)}
        self.ped = [g["kind"] == "pedestrian" for g in groups]
        self.min_green = [g["walk_ms"] if self.ped[i] else g["min_green_ms"] for i, g in enumerate(groups)]
        self.clear = [g["ped_clearance_ms"] if self.ped[i] else g["yellow_ms"] for i, g in enumerate(groups)]
        self.red_clear = [g["red_clearance_ms"] for g in groups]
        self.red_revert = [g["red_revert_ms"] for g in groups]
        self.ig = {}
        for a, row in raw["intergreen_ms"].items():
            for b, v in row.items():
                self.ig[(idx[a], idx[b])] = v
        # (p, c): p yields to c when both are green
        self.yields = [(idx[g["id"]], idx[c]) for g in groups for c in g["yields_to"]]
        self.now = 0
        self.state: list[int | None] = [None] * self.n  # None: not known yet, or flashing
        self.since = [0] * self.n  # when the current state began
        self.green_end = [0] * self.n  # when the group last left green (power-up counts as all red)
        self.violations: list[str] = []
        self.green_starts = 0
        self.ticks = 0

    def step(self, elapsed: int, out: bytes) -> None:
        self.ticks += 1
        self.now += max(0, min(elapsed, 60000))  # the core clamps a broken clock the same way
        t = self.now
        if any(s > GREEN for s in out):
            if not all(s > GREEN for s in out):
                self.violations.append("%d: partial flash %r" % (t, list(out)))
            self.state = [None] * self.n
            self.since = [t] * self.n
            self.green_end = [t] * self.n  # leaving flash counts like leaving green
            return
        for (a, b), _ in self.ig.items():
            if a < b and out[a] != RED and out[b] != RED:
                self.violations.append("%d: conflicting %s and %s both out of red" % (t, self.ids[a], self.ids[b]))
        for p, c in self.yields:
            if out[p] == YELLOW and self.state[p] == GREEN and out[c] == GREEN:
                self.violations.append("%d: yellow trap: %s ended while %s, which it yields to, stays green"
                                       % (t, self.ids[p], self.ids[c]))
            for a, b in ((p, c), (c, p)):
                if out[a] == GREEN and self.state[a] != GREEN and out[b] == YELLOW:
                    self.violations.append("%d: %s started green beside %s's clearance" % (t, self.ids[a], self.ids[b]))
                if out[a] == GREEN and self.state[a] != GREEN and out[b] == RED and self.state[b] == RED \
                        and t - self.since[b] < self.red_clear[b] and self.since[b] > 0:
                    self.violations.append("%d: %s started green %d ms into %s's red clearance" % (
                        t, self.ids[a], t - self.since[b], self.ids[b]))
        for g in range(self.n):
            prev, new = self.state[g], out[g]
            if prev == new:
                continue
            dur = t - self.since[g]
            if prev == GREEN:
                if new != YELLOW:
                    self.violations.append("%d: %s green->%d" % (t, self.ids[g], new))
                if dur < self.min_green[g]:
                    self.violations.append("%d: %s green %d < min %d" % (t, self.ids[g], dur, self.min_green[g]))
                self.green_end[g] = t
            elif prev == YELLOW:
                if new != RED:
                    self.violations.append("%d: %s yellow->%d" % (t, self.ids[g], new))
                if dur < self.clear[g]:
                    self.violations.append("%d: %s clearance %d < %d" % (t, self.ids[g], dur, self.clear[g]))
            if new == GREEN:
                self.green_starts += 1
                if prev != RED:
                    self.violations.append("%d: %s green after %r" % (t, self.ids[g], prev))
                elif dur < self.red_revert[g]:
                    self.violations.append("%d: %s green after %d ms of red, red revert %d" % (
                        t, self.ids[g], dur, self.red_revert[g]))
                for c in range(self.n):
                    need = self.ig.get((c, g))
                    if need is None:
                        continue
                    end = self.green_end[c]
                    if out[c] != RED or t - end < need:
                        self.violations.append("%d: %s green %d ms after %s (intergreen %d)" % (
                            t, self.ids[g], t - end, self.ids[c], need))
                    red_since = self.since[c] if self.state[c] == RED else t
                    if t - red_since < self.red_clear[c]:
                        self.violations.append("%d: %s green %d ms into %s's red clearance of %d" % (
                            t, self.ids[g], t - red_since, self.ids[c], self.red_clear[c]))
            self.state[g] = new
            self.since[g] = t
