"""Hypothesis strategy for random *valid* intersection configs (used by the property tests)."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from controller.config.validation import validate


def random_config(rnd: random.Random, strategy: str) -> dict:
    """A random valid config: a random conflict graph, stages covering every group."""
    n_veh = rnd.randint(2, 8)
    n_ped = rnd.randint(0, 2)
    vids = ["K%d" % (i + 1) for i in range(n_veh)]
    pids = ["P%d" % (i + 1) for i in range(n_ped)]
    groups, clearance = [], {}
    for g in vids:
        if rnd.random() < 0.15:  # every optional timing left out: the defaults, filled in at load
            groups.append({"id": g})
            clearance[g] = 3000 + 1000
            continue
        mn = rnd.randint(1000, 10000)
        y, rc = rnd.randint(3000, 5000), rnd.randint(0, 3000)
        groups.append({"id": g, "min_green_ms": mn, "max_green_ms": mn + rnd.randint(0, 30000),
                       "passage_ms": rnd.randint(0, 5000), "yellow_ms": y, "red_clearance_ms": rc,
                       "recall": rnd.choice(["none", "none", "min", "max"])})
        if rnd.random() < 0.3:
            groups[-1]["red_revert_ms"] = rnd.randint(1000, 5000)
        clearance[g] = y + rc
    for g in pids:
        pc, rc = rnd.randint(1000, 8000), rnd.randint(0, 3000)
        groups.append({"id": g, "kind": "pedestrian", "walk_ms": rnd.randint(1000, 8000), "ped_clearance_ms": pc,
                       "red_clearance_ms": rc, "recall": rnd.choice(["none", "ped"])})
        clearance[g] = pc + rc
    ids = vids + pids
    p = rnd.uniform(0.2, 0.9)
    conflicts = set()
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if rnd.random() < p:
                conflicts.add((ids[i], ids[j]))
    for ped in pids:  # a pedestrian group needs a compatible vehicle group to share a stage with
        v = rnd.choice(vids)
        conflicts.discard((v, ped))
    intergreen: dict = {}
    for a, b in conflicts:
        for x, y in ((a, b), (b, a)):
            intergreen.setdefault(x, {})[y] = clearance[x] + rnd.randint(0, 3000)

    def compatible(x, members):
        return all((min(x, m), max(x, m)) not in conflicts for m in members)

    stages, covered = [], set()
    order = ids[:]
    rnd.shuffle(order)
    for g in vids + [x for x in order if x in pids]:
        if g in covered:
            continue
        members = [g]
        if g in pids:  # start from a compatible vehicle group
            members = [next(v for v in vids if compatible(v, [g])), g]
        for x in order:
            if x not in members and compatible(x, members):
                members.append(x)
        covered.update(members)
        stages.append({"id": "S%d" % (len(stages) + 1), "groups": members})
    # permissive turns: some vehicle groups give way to others of their stage (rule 5), either
    # derived from the stage's permissive list or named in yields_to
    by_id = {g["id"]: g for g in groups}
    if rnd.random() < 0.6:
        for stage in stages:
            vehicles = [x for x in stage["groups"] if x in vids]
            if len(stage["groups"]) < 2 or not vehicles or rnd.random() < 0.4:
                continue
            p = rnd.choice(vehicles)
            others = [x for x in stage["groups"] if x != p]
            if rnd.random() < 0.5:
                stage["permissive"] = [p]
            else:
                ys = by_id[p].setdefault("yields_to", [])
                for x in rnd.sample(others, rnd.randint(1, len(others))):
                    if x not in ys:
                        ys.append(x)
    dets = []
    for g in vids:
        dets.append({"id": "d%s_s" % g, "group": g, "kind": "stop_bar"})
        if rnd.random() < 0.5:
            dets.append({"id": "d%s_a" % g, "group": g, "kind": "advance", "distance_m": 40})
    for g in pids:
        dets.append({"id": "pb%s" % g, "group": g, "kind": "pedestrian"})
    if rnd.random() < 0.4:  # exit loops: some loops' lanes lead onto them
        exits = ["x%d" % k for k in range(rnd.randint(1, 3))]
        for det in dets:
            if det["kind"] != "pedestrian" and rnd.random() < 0.7:
                det["exits"] = rnd.sample(exits, rnd.randint(1, len(exits)))
        dets += [{"id": x, "kind": "exit"} for x in exits]
    raw = {
        "id": "random", "strategy": strategy, "startup_flash_ms": rnd.choice([0, 3000]),
        "signal_groups": groups, "conflicts": [list(c) for c in sorted(conflicts)], "intergreen_ms": intergreen,
        "stages": stages, "sequence": {"mode": rnd.choice(["fixed", "free"])}, "detectors": dets,
        "detector_diagnostics": {"no_activity_ms": 60000, "max_presence_ms": 10000, "erratic_counts_per_min": 40,
                                 "occupancy_window_ms": 30000},
    }
    if rnd.random() < 0.3:  # a custom regional profile: red-amber before green on some groups
        raw["profile"] = "custom"
        for g in groups:
            if g["id"] in vids and rnd.random() < 0.7:
                g["red_amber_ms"] = rnd.choice([0, 1000, 2000, rnd.randint(1, 3000)])
        if rnd.random() < 0.5:  # flashing green before yellow; a yielding pair's groups flash alike
            paired = {x for g in groups for x in g.get("yields_to", ())} | {g["id"] for g in groups if g.get("yields_to")}
            paired |= {x for s in stages if s.get("permissive") for x in s["groups"]}
            shared = rnd.choice([1000, 2000, rnd.randint(1, 4000)])
            for g in groups:
                if g["id"] in vids:
                    g["flashing_green_ms"] = shared if g["id"] in paired else rnd.choice([0, 2000, rnd.randint(1, 4000)])
    if strategy == "fixed":
        from controller.config.defaults import with_defaults
        from controller.intersection import Intersection

        model = Intersection(with_defaults(raw))
        k = model.n_stages
        splits = {}
        for s in range(k):
            need = model.transition_ms(s, (s + 1) % k) + model.stage_min_green_ms(s)
            splits[model.stage_ids[s]] = need + rnd.randint(0, 15000)
        cycle = sum(splits.values())
        if cycle < 20000:
            splits[model.stage_ids[0]] += 20000 - cycle
            cycle = 20000
        raw["fixed_time"] = {"cycle_ms": cycle, "offset_ms": rnd.randint(0, cycle - 1), "splits_ms": splits}
    place_loops(rnd, raw)
    errors = validate(raw)
    assert not errors, errors
    return raw


def place_loops(rnd: random.Random, raw: dict) -> None:
    """In half the configs, put most vehicle loops on approaches (a lane per group, some turn
    pockets), with witness counts and idle limits short enough for a test's run to reach."""
    if rnd.random() < 0.5:
        return
    n_approaches = rnd.randint(1, 3)
    where: dict = {}
    for det in raw["detectors"]:
        if det["kind"] in ("pedestrian", "exit") or rnd.random() < 0.1:
            continue  # a loop on no approach: the classic check
        g = det["group"]
        if g not in where:
            where[g] = ("a%d" % rnd.randint(1, n_approaches), "lane_" + g, rnd.random() < 0.3)
        approach, lane, pocket = where[g]
        det.update(approach=approach, lane=lane, turn_pocket=pocket)
        if rnd.random() < 0.1:
            det["idle_ms"] = rnd.choice([0, rnd.randint(60000, 300000)])
    diag = raw["detector_diagnostics"]
    diag["witness_count"] = rnd.randint(1, 8)
    for name in ("idle_stop_bar_ms", "idle_advance_ms", "idle_turn_pocket_ms"):
        diag[name] = rnd.choice([0, rnd.randint(60000, 300000)])


def random_plan(rnd: random.Random, ix, seq: int, wall_ms: int, key: bytes) -> bytes:
    """A signed plan payload for the intersection `ix` at wall time `wall_ms`: mostly
    valid (random coordinated stage, splits, offset, validity of 20 s to 15 min),
    sometimes out of bounds, stale, or not yet valid."""
    from controller.coordination.messages import Plan, encode_plan
    from controller.coordination.plan_validation import stage_minimum_ms

    k = len(ix.sequence)
    first = rnd.randrange(k)
    order = [ix.sequence[(first + p) % k] for p in range(k)]
    splits = [stage_minimum_ms(ix, s, order[(p + 1) % k]) + rnd.choice([0, rnd.randint(0, 30000)])
              for p, s in enumerate(order)]
    if sum(splits) < 20000:
        splits[0] += 20000 - sum(splits)
    if rnd.random() < 0.1:  # out of bounds: a split below its minimum
        splits[rnd.randrange(k)] -= 1
    cycle = sum(splits)
    valid_from = wall_ms - rnd.randint(0, 5000)
    valid_until = wall_ms + rnd.choice([20000, 60000, 200000, 900000, rnd.randint(1000, 900000)])
    if rnd.random() < 0.05:
        valid_from, valid_until = wall_ms + 60000, wall_ms + 120000  # not yet valid
    ref = wall_ms - rnd.randint(0, 10**9)
    plan = Plan(ix.id, "main", seq, ref, valid_from, valid_until, cycle, rnd.randrange(cycle),
                [ix.stage_ids[s] for s in order], splits)
    return encode_plan(plan, key)


@st.composite
def configs(draw, strategies=("actuated", "fixed", "adaptive")) -> dict:
    seed = draw(st.integers(0, 2**32 - 1))
    strategy = draw(st.sampled_from(strategies))
    return random_config(random.Random(seed), strategy)
