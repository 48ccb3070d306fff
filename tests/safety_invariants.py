"""A third implementation of the safety rules (docs/core.md), independent of the kernel and the
monitor: follows a controller's outputs tick by tick and records every violation. Used by the
property tests, the wire tests and bench/safety_fuzz.py."""

from __future__ import annotations

from controller.config.defaults import with_defaults
from controller.safety.signal_states import FLASHING_GREEN, GREEN, RED, RED_AMBER, YELLOW, is_flash


class InvariantChecker:
    """Follows the outputs tick by tick and records every safety violation."""

    def __init__(self, raw: dict, initial: bytes | None = None) -> None:
        # initial: the outputs shown at power-up, before the first step (unknown if None)
        raw = with_defaults(raw)  # the explicit values the controller runs with
        groups = raw["signal_groups"]
        self.ids = [g["id"] for g in groups]
        self.n = len(self.ids)
        idx = {g: i for i, g in enumerate(self.ids)}
        self.ped = [g["kind"] == "pedestrian" for g in groups]
        self.min_green = [g["walk_ms"] if self.ped[i] else g["min_green_ms"] for i, g in enumerate(groups)]
        # a preemption may end any green after the shortest preempt_min_green_ms of the priority block
        preempt = [c["preempt_min_green_ms"] for c in (raw.get("priority") or {}).get("classes", [])
                   if c["kind"] != "transit"]
        if preempt:
            self.min_green = [min(v, min(preempt)) for v in self.min_green]
        self.clear = [g["ped_clearance_ms"] if self.ped[i] else g["yellow_ms"] for i, g in enumerate(groups)]
        self.red_clear = [g["red_clearance_ms"] for g in groups]
        self.red_revert = [g["red_revert_ms"] for g in groups]
        self.red_amber = [g.get("red_amber_ms", 0) for g in groups]  # a profile's red-amber before green
        self.flashing_green = [g.get("flashing_green_ms", 0) for g in groups]  # a profile's flashing green before yellow
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
        if initial is not None and not any(is_flash(x) for x in initial):
            self.state = list(initial)

    def step(self, elapsed: int, out: bytes) -> None:
        self.ticks += 1
        self.now += max(0, min(elapsed, 60000))  # the core clamps a broken clock the same way
        t = self.now
        if any(is_flash(s) for s in out):
            if not all(is_flash(s) for s in out):
                self.violations.append("%d: partial flash %r" % (t, list(out)))
            self.state = [None] * self.n
            self.since = [t] * self.n
            self.green_end = [t] * self.n  # leaving flash counts like leaving green
            return
        for (a, b), _ in self.ig.items():
            if a < b and out[a] != RED and out[b] != RED:
                self.violations.append("%d: conflicting %s and %s both out of red" % (t, self.ids[a], self.ids[b]))
        # a flashing green lets vehicles go: for the yellow trap it is green
        go = [GREEN if s == FLASHING_GREEN else s for s in out]
        was = [GREEN if s == FLASHING_GREEN else s for s in self.state]
        for p, c in self.yields:
            if go[p] == YELLOW and was[p] == GREEN and go[c] == GREEN:
                self.violations.append("%d: yellow trap: %s ended while %s, which it yields to, stays green"
                                       % (t, self.ids[p], self.ids[c]))
            for a, b in ((p, c), (c, p)):
                if go[a] == GREEN and was[a] != GREEN and go[b] == YELLOW:
                    self.violations.append("%d: %s started green beside %s's clearance" % (t, self.ids[a], self.ids[b]))
                if go[a] == GREEN and was[a] != GREEN and out[b] == RED and self.state[b] == RED \
                        and t - self.since[b] < self.red_clear[b] and self.since[b] > 0:
                    self.violations.append("%d: %s started green %d ms into %s's red clearance" % (
                        t, self.ids[a], t - self.since[b], self.ids[b]))
        for g in range(self.n):
            prev, new = self.state[g], out[g]
            if prev == new:
                continue
            dur = t - self.since[g]
            if prev == GREEN:
                want = FLASHING_GREEN if self.flashing_green[g] else YELLOW
                if new != want:
                    self.violations.append("%d: %s green->%d (expected %d)" % (t, self.ids[g], new, want))
                if dur < self.min_green[g]:
                    self.violations.append("%d: %s green %d < min %d" % (t, self.ids[g], dur, self.min_green[g]))
                if new != FLASHING_GREEN:
                    self.green_end[g] = t
            elif prev == FLASHING_GREEN:
                # Austria's flashing green: the last part of the green, its full time, then yellow
                if new != YELLOW:
                    self.violations.append("%d: %s flashing green->%d" % (t, self.ids[g], new))
                if dur < self.flashing_green[g]:
                    self.violations.append("%d: %s flashing green %d < %d" % (t, self.ids[g], dur,
                                                                               self.flashing_green[g]))
                self.green_end[g] = t
            elif prev == YELLOW:
                if new != RED:
                    self.violations.append("%d: %s yellow->%d" % (t, self.ids[g], new))
                if dur < self.clear[g]:
                    self.violations.append("%d: %s clearance %d < %d" % (t, self.ids[g], dur, self.clear[g]))
            elif prev == RED_AMBER:
                if new != GREEN:
                    self.violations.append("%d: %s red-amber->%d" % (t, self.ids[g], new))
                if dur < self.red_amber[g]:
                    self.violations.append("%d: %s red-amber %d < %d" % (t, self.ids[g], dur, self.red_amber[g]))
            if new == GREEN:
                self.green_starts += 1
                if self.red_amber[g] and prev != RED_AMBER:
                    self.violations.append("%d: %s green after %r without red-amber" % (t, self.ids[g], prev))
            if new == FLASHING_GREEN and prev != GREEN:
                self.violations.append("%d: %s flashing green after %r" % (t, self.ids[g], prev))
            if new == RED_AMBER and not self.red_amber[g]:
                self.violations.append("%d: %s red-amber, which its config does not show" % (t, self.ids[g]))
            if new == RED_AMBER or (new == GREEN and prev != RED_AMBER):
                # the start of the entry (red-amber, or green without it): after red only
                if prev != RED:
                    self.violations.append("%d: %s %d after %r" % (t, self.ids[g], new, prev))
                elif dur < self.red_revert[g]:
                    self.violations.append("%d: %s green after %d ms of red, red revert %d" % (
                        t, self.ids[g], dur, self.red_revert[g]))
                for c in range(self.n):
                    if (c, g) not in self.ig:
                        continue
                    red_since = self.since[c] if self.state[c] == RED else t
                    if out[c] != RED or t - red_since < self.red_clear[c]:
                        self.violations.append("%d: %s entry (%d) %d ms into %s's red clearance of %d" % (
                            t, self.ids[g], new, t - red_since, self.ids[c], self.red_clear[c]))
            if new == RED_AMBER or new == GREEN:
                # RiLSA: the intergreen ends at the start of green; red-amber runs in its last red_amber ms
                lead = self.red_amber[g] if new == RED_AMBER else 0
                for c in range(self.n):
                    need = self.ig.get((c, g))
                    if need is None:
                        continue
                    gap = t - self.green_end[c]
                    if out[c] != RED or gap + lead < need:
                        self.violations.append("%d: %s %s %d ms after %s's green (intergreen %d)" % (
                            t, self.ids[g], "red-amber" if lead else "green", gap, self.ids[c], need))
            self.state[g] = new
            self.since[g] = t


def drive_with_faults(raw: dict, seed: int, days: float, resets: bool = True):
    """Step a controller through `days` of time-compressed operation on a random, faulty detector
    stream: loops that work, stick on, die or chatter (switching at random moments), ticks from
    0 to the 60 s clamp and beyond it or negative, and resets at random moments (safe endings
    of a running program, restarts from flash). Returns (checker, controller, ticks)."""
    import random

    from controller.config.loading import load_dict
    from controller.core import Controller

    ctl = Controller(load_dict(raw))
    chk = InvariantChecker(raw, bytes(ctl.outputs))
    rnd = random.Random(seed)
    n = ctl.ix.n_detectors
    pres = bytearray(n)
    behaviour = [0] * n  # 0 works, 1 stuck on, 2 dead, 3 chatters
    busy = rnd.uniform(0.005, 0.2)
    end_ms = int(days * 86400000)
    t = 0
    ticks = 0
    while t < end_ms:
        if n and rnd.random() < 0.002:
            behaviour[rnd.randrange(n)] = rnd.choice((0, 0, 1, 2, 3))
        for i in range(n):
            b = behaviour[i]
            if b == 0:
                if rnd.random() < (0.3 if pres[i] else busy):
                    pres[i] ^= 1
            else:
                pres[i] = 1 if b == 1 else 0 if b == 2 else pres[i] ^ 1
        u = rnd.random()
        if u < 0.4:
            elapsed = 100
        elif u < 0.6:
            elapsed = 1000
        elif u < 0.8:
            elapsed = 60000
        elif u < 0.99:
            elapsed = rnd.randint(0, 60000)
        else:
            elapsed = rnd.choice((-5, 60001, 90000, 2**31))  # a broken clock: clamped and counted
        out = ctl.step(elapsed, pres)
        chk.step(elapsed, out)
        ticks += 1
        t += max(0, min(elapsed, 60000))
        if resets and rnd.random() < 0.0005:
            ctl.reset()
    return chk, ctl, ticks
