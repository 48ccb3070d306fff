"""The three field features together (hypothesis): a random config, with a regional profile's
red-amber on some, a random priority block and a random time-of-day program, driven with
random loop and wire requests, random local times set at any moment, jumps to just before a
plan change, and resets. The independent InvariantChecker (tests/safety_invariants.py) and
the conflict monitor must see nothing."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.config.loading import load_dict
from controller.config.validation import validate
from controller.core import Controller
from controller.local_calendar import DAY_MS
from tests.core_config_strategy import configs
from tests.safety_invariants import InvariantChecker
from tests.test_priority_properties import add_random_priority, random_traffic, toggle_presence
from tests.test_schedule_properties import random_local_time, random_schedule


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("actuated", "fixed", "adaptive")), seed=st.integers(0, 2**31))
def test_priority_plan_changes_and_profiles_together_keep_every_rule(raw: dict, seed: int) -> None:
    rnd = random.Random(seed)
    raw = add_random_priority(rnd, raw)
    raw["schedule"] = random_schedule(rnd, raw)
    assert validate(raw) == [], validate(raw)
    ctl = Controller(load_dict(raw))
    chk = InvariantChecker(raw, bytes(ctl.outputs))
    pres, plain, loops, busy, rate = random_traffic(rnd, ctl.ix)
    ctl.set_local_time(*random_local_time(rnd))
    changes = preemptions = 0
    for _ in range(6000):
        toggle_presence(rnd, pres, plain, loops, busy, rate)
        u = rnd.random()
        if u < rate:
            ctl.priority.request(rnd.randrange(ctl.priority.classes.n), rnd.random() < 0.6)
        elif u < rate + 0.003:
            ctl.set_local_time(*random_local_time(rnd))
        elif u < rate + 0.004:
            ctl.reset()
        elif u < rate + 0.01:  # jump to just before the next entry of the day
            sched = ctl.plans.schedule
            if sched.known and sched.next_change_ms < DAY_MS:
                sched.ms_of_day = sched.next_change_ms - rnd.randint(1, 300)
        elapsed = rnd.choice((100, 100, 100, 63, 153, 0, 1000))
        out = ctl.step(elapsed, pres)
        chk.step(elapsed, out)
        for _, code, _ in ctl.drain_events():
            changes += code == 131  # COORD_PATTERN_CHANGE: a plan change
            preemptions += code == 105  # preempt entry started
    assert chk.violations == [], chk.violations[:5]
    assert not ctl.flashing, "monitor tripped: fault %d on group %d" % (ctl.monitor.fault, ctl.monitor.fault_group)
    if any(p["strategy"] != "flash" for p in raw["schedule"]["plans"].values()):
        assert chk.green_starts > 0, raw["schedule"]
    assert changes + preemptions > 0  # the run did exercise the features
