"""Safety under preemption and transit priority (hypothesis): random valid configs with a
random priority block, random requests from check-in / check-out loops and from the wire /
coordinator path (PriorityService.request) at random moments, random resets. The third checker
(tests/safety_invariants.py) and the conflict monitor must never see a violation."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.config.loading import load_dict
from controller.config.validation import validate
from controller.core import Controller
from controller.safety.signal_states import GREEN
from tests.core_config_strategy import random_config, random_plan
from tests.safety_invariants import InvariantChecker


def add_random_priority(rnd: random.Random, raw: dict) -> dict:
    """A random priority block (1-4 classes of random kinds, stages, limits) and its loops."""
    sids = [s["id"] for s in raw["stages"]]
    classes = []
    for k in range(rnd.randint(1, 4)):
        kind = rnd.choice(["railroad", "emergency", "transit", "transit"])
        c: dict = {"id": "c%d" % k, "kind": kind, "stage": rnd.choice(sids),
                   "request_timeout_ms": rnd.choice([10000, 30000, 120000])}
        if rnd.random() < 0.3:
            c["rank"] = rnd.randint(0, 99)
        if kind == "transit":
            stage = next(s for s in raw["stages"] if s["id"] == c["stage"])
            vehicles = [g for g in stage["groups"] if not g.startswith("P")]
            c["groups"] = rnd.sample(vehicles, rnd.randint(0, len(vehicles)))
            for name, hi in (("max_extension_ms", 20000), ("max_early_ms", 20000), ("max_per_cycle_ms", 30000)):
                if rnd.random() < 0.8:
                    c[name] = rnd.randint(0, hi)
        else:
            c["preempt_min_green_ms"] = rnd.randint(1000, 6000)
            c["max_dwell_ms"] = rnd.choice([0, 5000, 20000, 60000]) if kind == "railroad" else rnd.choice(
                [5000, 20000, 60000])
            if len(sids) > 1 and rnd.random() < 0.6:
                c["exit_stage"] = rnd.choice([s for s in sids if s != c["stage"]])
            if kind == "railroad" and len(sids) > 1 and rnd.random() < 0.7:
                c["track_clearance_stage"] = rnd.choice([s for s in sids if s != c["stage"]])
                c["track_clearance_ms"] = rnd.randint(1000, 20000)
        classes.append(c)
        raw["detectors"].append({"id": "in%d" % k, "kind": "check_in", "priority_class": c["id"]})
        if rnd.random() < 0.3:
            raw["detectors"][-1]["stage"] = rnd.choice(sids)
        raw["detectors"].append({"id": "out%d" % k, "kind": "check_out", "priority_class": c["id"]})
    raw["priority"] = {"classes": classes}
    errors = validate(raw)
    assert not errors, errors
    return raw


@st.composite
def priority_configs(draw, strategies=("actuated", "fixed", "adaptive", "coordinated")) -> dict:
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    return add_random_priority(rnd, random_config(rnd, draw(st.sampled_from(strategies))))


def random_traffic(rnd: random.Random, ix) -> tuple[bytearray, list[int], list[int], float, float]:
    """The loops of ix split into plain loops and check-in/check-out loops, with a random busyness of the
    plain ones and a random request rate: (presence, plain, loops, busy, rate) for toggle_presence()."""
    loops = [d for d in range(ix.n_detectors) if ix.raw["detectors"][d]["kind"] in ("check_in", "check_out")]
    plain = [d for d in range(ix.n_detectors) if d not in loops]
    return bytearray(ix.n_detectors), plain, loops, rnd.uniform(0.005, 0.1), rnd.uniform(0.0005, 0.01)


def toggle_presence(rnd: random.Random, pres: bytearray, plain: list[int], loops: list[int], busy: float,
                    rate: float) -> None:
    """One tick of random traffic: plain loops switch at random (busy: how often one comes on), a
    check-in or check-out loop comes on at `rate` per tick and drops soon after (a passing vehicle)."""
    for i in plain:
        if rnd.random() < (0.3 if pres[i] else busy):
            pres[i] ^= 1
    for i in loops:
        if pres[i] and rnd.random() < 0.3:
            pres[i] = 0
        elif rnd.random() < rate:
            pres[i] = 1


def drive(raw: dict, seed: int, ticks: int, resets: bool = True):
    ctl = Controller(load_dict(raw))
    agent = None
    if raw["strategy"] == "coordinated":
        from controller.coordination.agent import CoordinationAgent

        agent = CoordinationAgent(ctl, b"k" * 32)
    chk = InvariantChecker(raw, bytes(ctl.outputs))
    rnd = random.Random(seed)
    ix = ctl.ix
    prio = ctl.priority
    pres, plain, loops, busy, rate = random_traffic(rnd, ix)
    wall = 1795305600000
    seq = 0
    served = set()
    for _ in range(ticks):
        toggle_presence(rnd, pres, plain, loops, busy, rate)
        u = rnd.random()
        if u < rate:  # a request over the wire or from the coordinator
            prio.request(rnd.randrange(prio.classes.n), rnd.random() < 0.6)
        elif resets and u < rate + 0.0002:
            ctl.reset()
        elapsed = rnd.choice((100, 100, 100, 63, 153, 0, 1000))
        out = ctl.step(elapsed, pres)
        chk.step(elapsed, out)
        if agent is not None:
            agent.advance(elapsed)
            wall += elapsed
            if rnd.random() < 0.002:
                seq += 1
                agent.offer_plan(random_plan(rnd, ix, seq, wall, b"k" * 32), wall)
        for g in range(ix.n_groups):
            if out[g] == GREEN:
                served.add(g)
    return chk, ctl, served


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=priority_configs(), seed=st.integers(0, 2**31))
def test_safety_holds_with_random_priority_requests(raw: dict, seed: int) -> None:
    chk, ctl, _ = drive(raw, seed, ticks=6000)
    assert chk.violations == []
    assert not ctl.flashing, "monitor tripped: fault %d on group %d" % (ctl.monitor.fault, ctl.monitor.fault_group)
    assert chk.green_starts > 0


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=priority_configs(strategies=("actuated", "adaptive")), seed=st.integers(0, 2**31))
def test_transit_priority_starves_nobody(raw: dict, seed: int) -> None:
    # transit classes only (a preemption may hold its stage for as long as it is asked):
    # two hours with buses checking in all the time; every vehicle group still gets green
    raw["priority"]["classes"] = [c for c in raw["priority"]["classes"] if c["kind"] == "transit"] or [
        {"id": "bus", "kind": "transit", "stage": raw["stages"][0]["id"]}]
    ids = {c["id"] for c in raw["priority"]["classes"]}
    raw["detectors"] = [d for d in raw["detectors"] if d.get("priority_class", next(iter(ids))) in ids]
    assert validate(raw) == []
    chk, ctl, served = drive(raw, seed, ticks=72000, resets=False)
    assert chk.violations == [] and not ctl.flashing
    vehicles = {i for i in range(ctl.ix.n_groups) if not ctl.ix.is_pedestrian[i]}
    assert vehicles <= served
