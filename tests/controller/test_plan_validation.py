# Plan gate: every refusal reason in the protocol's order, texts that name the
# field, the value and the range, and only an accepted plan moves the seq.
from controller.config.loading import load_dict
from controller.coordination.messages import (
    PLAN_ACCEPTED,
    PLAN_BAD_SIGNATURE,
    PLAN_NOT_YET_VALID,
    PLAN_OUT_OF_BOUNDS,
    PLAN_REPLAYED,
    PLAN_STALE,
    PLAN_WRONG_CONTROLLER,
)
from controller.coordination.plan_validation import MAX_VALIDITY_MS, PlanGate
from tests.controller.coordination_support import KEY, OTHER_KEY, WALL0, signed_plan
from tests.controller.core_support import example_raw, two_group_raw


def _gate(raw=None, **kw):
    return PlanGate(load_dict(raw or two_group_raw()), KEY, **kw)


FOUR = (("S1", 25000), ("S2", 15000), ("S3", 25000), ("S4", 15000))


def _four(**kw):
    kw.setdefault("controller_id", "example-4leg")
    kw.setdefault("cycle_ms", 80000)
    kw.setdefault("splits", FOUR)
    return signed_plan(**kw)


def test_a_good_plan_is_accepted_and_moves_the_seq():
    g = _gate()
    assert g.last_seq == 0
    assert g.check(signed_plan(seq=3), WALL0) == (PLAN_ACCEPTED, "")
    assert g.last_seq == 3 and g.accepted == 1


def test_wrong_controller_comes_first():
    g = _gate()
    reason, text = g.check(signed_plan(controller_id="J9", key=OTHER_KEY, cycle_ms=5), WALL0)
    assert reason == PLAN_WRONG_CONTROLLER
    assert "J9" in text and "two-groups" in text


def test_forged_or_altered_plan_has_a_bad_signature():
    g = _gate()
    assert g.check(signed_plan(key=OTHER_KEY), WALL0)[0] == PLAN_BAD_SIGNATURE
    plan = signed_plan()
    plan.offset_ms = 1000  # altered after signing
    assert g.check(plan, WALL0)[0] == PLAN_BAD_SIGNATURE
    plan = signed_plan()
    plan.signature = "zz" * 32
    assert g.check(plan, WALL0)[0] == PLAN_BAD_SIGNATURE
    plan.signature = ""
    assert g.check(plan, WALL0)[0] == PLAN_BAD_SIGNATURE
    assert g.last_seq == 0 and g.rejected == 4


def test_replayed_seq_is_refused_and_a_refusal_leaves_the_seq():
    g = _gate()
    assert g.check(signed_plan(seq=5), WALL0)[0] == PLAN_ACCEPTED
    reason, text = g.check(signed_plan(seq=5), WALL0 + 1000)
    assert reason == PLAN_REPLAYED and "seq=5" in text and "last accepted seq=5" in text
    assert g.check(signed_plan(seq=4), WALL0 + 1000)[0] == PLAN_REPLAYED
    # a refused newer plan does not move the seq: seq 7 refused, 6 still accepted
    assert g.check(signed_plan(seq=7, cycle_ms=1000), WALL0)[0] == PLAN_OUT_OF_BOUNDS
    assert g.last_seq == 5
    assert g.check(signed_plan(seq=6), WALL0)[0] == PLAN_ACCEPTED and g.last_seq == 6


def test_stale_and_not_yet_valid_with_skew_tolerance():
    g = _gate(skew_tolerance_ms=2000)
    plan = signed_plan(valid_from_ms=WALL0, valid_until_ms=WALL0 + 60000)
    reason, text = g.check(plan, WALL0 + 60000)
    assert reason == PLAN_STALE and "valid_until_ms=%d" % (WALL0 + 60000) in text
    reason, text = g.check(plan, WALL0 - 2001)
    assert reason == PLAN_NOT_YET_VALID and "2001 ms" in text and "skew tolerance 2000 ms" in text
    assert g.last_seq == 0
    assert g.check(plan, WALL0 - 2000)[0] == PLAN_ACCEPTED  # within the tolerance


def test_window_longer_than_a_day_is_refused():
    g = _gate()
    reason, text = g.check(signed_plan(valid_until_ms=WALL0 + MAX_VALIDITY_MS + 1), WALL0)
    assert reason == PLAN_OUT_OF_BOUNDS and "validity window" in text and str(MAX_VALIDITY_MS) in text
    assert g.check(signed_plan(valid_until_ms=WALL0 + MAX_VALIDITY_MS), WALL0)[0] == PLAN_ACCEPTED


def _bounds(plan, raw=None):
    g = _gate(raw)
    reason, text = g.check(plan, WALL0)
    assert g.last_seq == (plan.seq if reason == PLAN_ACCEPTED else 0)
    return reason, text


def test_cycle_out_of_range():
    r, text = _bounds(signed_plan(cycle_ms=400000, splits=(("S1", 200000), ("S2", 200000))))
    assert r == PLAN_OUT_OF_BOUNDS and "cycle_ms=400000 is outside 20000 to 300000 ms" in text
    r, text = _bounds(signed_plan(cycle_ms=19999, splits=(("S1", 9999), ("S2", 10000))))
    assert r == PLAN_OUT_OF_BOUNDS and "cycle_ms=19999" in text


def test_split_below_the_stage_minimum_names_stage_value_and_minimum():
    # S2: min green 6000 + intergreen B->A 7000 = 13000
    r, text = _bounds(signed_plan(splits=(("S1", 28000), ("S2", 12000))))
    assert r == PLAN_OUT_OF_BOUNDS
    assert 'plan seq=1 for two-groups: split of stage "S2"=12000 ms is below its 13000 ms minimum' in text
    assert "min green 6000 ms + intergreen" in text
    assert _bounds(signed_plan(splits=(("S1", 27000), ("S2", 13000))))[0] == PLAN_ACCEPTED


def test_splits_must_sum_to_the_cycle():
    r, text = _bounds(signed_plan(splits=(("S1", 20000), ("S2", 21000))))
    assert r == PLAN_OUT_OF_BOUNDS and "add up to 41000 ms but cycle_ms=40000" in text


def test_offset_must_be_below_the_cycle():
    r, text = _bounds(signed_plan(offset_ms=40000))
    assert r == PLAN_OUT_OF_BOUNDS and "offset_ms=40000 is outside 0 to 39999 ms" in text
    assert _bounds(signed_plan(offset_ms=-1))[0] == PLAN_OUT_OF_BOUNDS
    assert _bounds(signed_plan(offset_ms=39999))[0] == PLAN_ACCEPTED


def test_unknown_missing_and_repeated_stages():
    r, text = _bounds(signed_plan(splits=(("S1", 20000), ("S9", 20000))))
    assert r == PLAN_OUT_OF_BOUNDS and 'stage "S9" is not a stage' in text
    r, text = _bounds(signed_plan(splits=(("S1", 40000),)))
    assert r == PLAN_OUT_OF_BOUNDS and 'stage "S2" of the sequence is missing' in text
    r, text = _bounds(signed_plan(splits=(("S1", 20000), ("S2", 10000), ("S1", 10000))))
    assert r == PLAN_OUT_OF_BOUNDS and "3 splits for 2 stages" in text


def test_stage_order_is_the_sequence_rotated():
    raw = example_raw()
    assert _bounds(_four(), raw)[0] == PLAN_ACCEPTED
    rotated = (("S3", 25000), ("S4", 15000), ("S1", 25000), ("S2", 15000))
    assert _bounds(_four(splits=rotated), raw)[0] == PLAN_ACCEPTED
    swapped = (("S3", 25000), ("S1", 25000), ("S4", 15000), ("S2", 15000))
    r, text = _bounds(_four(splits=swapped), raw)
    assert r == PLAN_OUT_OF_BOUNDS and 'stage "S1" at place 2' in text and 'expected "S4"' in text
