"""Safety invariants of the core over random valid configs and random detector
streams (hypothesis). The checker here is a third implementation, independent
of both the safety kernel and the conflict monitor."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.config import load_dict
from controller.core import Controller
from controller.signal_states import GREEN, RED, YELLOW
from tests.core_config_strategy import configs, random_plan


class InvariantChecker:
    """Follows the outputs tick by tick and records every safety violation."""

    def __init__(self, raw: dict) -> None:
        self.ids = [g["id"] for g in raw["signal_groups"]]
        self.n = len(self.ids)
        idx = {g: i for i, g in enumerate(self.ids)}
        self.ped = [g.get("kind") == "pedestrian" for g in raw["signal_groups"]]
        self.min_green = [g.get("walk_ms", 7000) if self.ped[i] else g.get("min_green_ms", 5000)
                          for i, g in enumerate(raw["signal_groups"])]
        self.clear = [g["ped_clearance_ms"] if self.ped[i] else g.get("yellow_ms", 3000)
                      for i, g in enumerate(raw["signal_groups"])]
        self.red_clear = [g.get("red_clearance_ms", 1000) for g in raw["signal_groups"]]
        self.ig = {}
        for a, row in raw["intergreen_ms"].items():
            for b, v in row.items():
                self.ig[(idx[a], idx[b])] = v
        self.now = 0
        self.state = [None] * self.n
        self.since = [0] * self.n  # when the current state began
        self.green_end = [0] * self.n  # when the group last left green (power-up counts as all red)
        self.violations: list[str] = []
        self.green_starts = 0

    def step(self, elapsed: int, out: bytes) -> None:
        self.now += elapsed
        t = self.now
        if any(s > GREEN for s in out):
            if not all(s > GREEN for s in out):
                self.violations.append("%d: partial flash %r" % (t, list(out)))
            self.state = [None] * self.n
            self.green_end = [t] * self.n  # leaving flash counts like leaving green
            return
        for (a, b), _ in self.ig.items():
            if a < b and out[a] != RED and out[b] != RED:
                self.violations.append("%d: conflicting %s and %s both out of red" % (t, self.ids[a], self.ids[b]))
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


def drive(raw: dict, seed: int, ticks: int, tick_ms: int = 100):
    """Run the core on a random detector stream; returns (checker, controller, trace)."""
    ctl = Controller(load_dict(raw))
    chk = InvariantChecker(raw)
    rnd = random.Random(seed)
    pres = bytearray(ctl.ix.n_detectors)
    busy = rnd.uniform(0.005, 0.1)
    trace = []
    for _ in range(ticks):
        for i in range(len(pres)):
            if rnd.random() < (0.3 if pres[i] else busy):
                pres[i] ^= 1
        if rnd.random() < 0.0005:
            pres[rnd.randrange(len(pres))] = 1  # sometimes a loop sticks on for a while
        elapsed = rnd.choice((tick_ms, tick_ms, tick_ms, tick_ms - 37, tick_ms + 53, 0, 1000))
        out = ctl.step(elapsed, pres)
        chk.step(elapsed, out)
        trace.append(bytes(out))
    return chk, ctl, trace


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(), seed=st.integers(0, 2**31))
def test_safety_invariants_hold_on_random_configs(raw: dict, seed: int) -> None:
    chk, ctl, _ = drive(raw, seed, ticks=6000)
    assert chk.violations == []
    assert not ctl.flashing, "monitor tripped on kernel output: fault %d" % ctl.monitor.fault
    assert chk.green_starts > 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(), seed=st.integers(0, 2**31))
def test_long_runs_stay_safe_and_serve_every_stage(raw: dict, seed: int) -> None:
    # two hours at 100 ms ticks; with random demand every vehicle group gets green
    chk, ctl, trace = drive(raw, seed, ticks=72000)
    assert chk.violations == [] and not ctl.flashing
    served = {g for out in trace for g, s in enumerate(out) if s == GREEN}
    vehicles = {i for i in range(ctl.ix.n_groups) if not ctl.ix.is_pedestrian[i]}
    assert vehicles <= served


@settings(max_examples=15, deadline=None)
@given(raw=configs(), seed=st.integers(0, 2**31))
def test_same_inputs_give_the_same_trace(raw: dict, seed: int) -> None:
    a = drive(raw, seed, ticks=3000)
    b = drive(raw, seed, ticks=3000)
    assert a[2] == b[2]
    assert a[1].drain_events() == b[1].drain_events()


def drive_coordinated(raw: dict, seed: int, ticks: int, tick_ms: int = 100):
    """Like drive(), with a coordination agent offered random plans at random times
    (valid ones, refreshes, out-of-bounds, not yet valid, replays) and sometimes a
    cleared plan; plans run out by their validity on the controller's clock."""
    from controller.coordination_agent import CoordinationAgent
    from controller.coordination_messages import MODE_COORDINATED, MODE_TRANSITION

    key = b"k" * 32
    ctl = Controller(load_dict(raw))
    agent = CoordinationAgent(ctl, key)
    chk = InvariantChecker(raw)
    rnd = random.Random(seed)
    pres = bytearray(ctl.ix.n_detectors)
    busy = rnd.uniform(0.005, 0.1)
    wall = 1795305600000 + rnd.randint(0, 10**9)
    seq = 0
    last = None
    modes = set()
    for _ in range(ticks):
        for i in range(len(pres)):
            if rnd.random() < (0.3 if pres[i] else busy):
                pres[i] ^= 1
        elapsed = rnd.choice((tick_ms, tick_ms, tick_ms, tick_ms - 37, tick_ms + 53, 0, 1000))
        out = ctl.step(elapsed, pres)
        agent.advance(elapsed)
        wall += elapsed
        chk.step(elapsed, out)
        modes.add(agent.mode)
        u = rnd.random()
        if u < 0.002:
            seq += 1
            last = random_plan(rnd, ctl.ix, seq, wall, key)
            agent.offer_plan(last, wall)
        elif u < 0.0025 and last is not None:
            agent.offer_plan(last, wall)  # a replay
        elif u < 0.0027:
            ctl.strategy.clear_plan()
    return chk, ctl, modes & {MODE_COORDINATED, MODE_TRANSITION}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("coordinated",)), seed=st.integers(0, 2**31))
def test_safety_invariants_hold_under_random_plans(raw: dict, seed: int) -> None:
    chk, ctl, coordinated = drive_coordinated(raw, seed, ticks=12000)
    assert chk.violations == []
    assert not ctl.flashing, "monitor tripped on kernel output: fault %d" % ctl.monitor.fault
    assert chk.green_starts > 0
    assert coordinated, "no plan was ever in force"
