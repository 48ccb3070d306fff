# Coordination messages are checked field by field when decoded (issue 14):
# every out-of-range or mistyped value is refused with an error naming the
# message, the field, the value and the allowed range; a plan's seq is
# bounded, and one far ahead of the controller's clock never blocks later
# plans. Portable: plain asserts, also run under MicroPython.
import json

from controller.coordination.agent import CoordinationAgent
from controller.coordination.messages import (
    MODE_FREE,
    PLAN_ACCEPTED,
    PLAN_MALFORMED,
    PLAN_OUT_OF_BOUNDS,
    PLAN_REPLAYED,
    MessageError,
    Report,
    decode_plan,
    decode_plan_status,
    decode_report,
    encode_plan_status,
    encode_report,
)
from controller.coordination.message_fields import MESSAGE_MAX_BYTES, SEQ_MAX, TEXT_MAX_CHARS
from controller.coordination.plan_validation import PlanGate
from tests.controller.coordination_support import KEY, WALL0, plan_payload, signed_plan
from tests.controller.core_support import two_group_raw
from tests.controller.test_coordination_agent import _holder
from controller.config.loading import load_dict


def _good_report():
    return json.loads(encode_report(Report("J3", 7, WALL0, 60000, MODE_FREE, 0, ["K1", "K2"], [5, 9], [10, 20],
                                           [], [30000, 20000], [20000, 5000], [[5], [4, 5]])))


def _refused(decode, d, *words):
    # decode(payload of d) raises MessageError(PLAN_MALFORMED) whose text has every word
    payload = d if isinstance(d, bytes) else json.dumps(d).encode()
    try:
        decode(payload)
    except MessageError as e:
        text = str(e)
        assert e.reason == PLAN_MALFORMED, text
        for w in words:
            assert w in text, (w, text)
        return text
    assert False, "accepted: %s" % payload[:200]


def _with(d, **change):
    d = dict(d)
    d.update(change)
    return d


def test_the_good_report_decodes():
    r = decode_report(json.dumps(_good_report()).encode())
    assert r.counts == [5, 9] and r.loop_counts == [[5], [4, 5]] and r.used_green_ms == [20000, 5000]


def test_report_values_that_broke_the_flow_computation_are_refused():
    # issue 14, finding 1: each of these was accepted and then broke every later poll of the coordinator
    good = _good_report()
    big = 10 ** 400
    _refused(decode_report, _with(good, counts=[big, 9]), "report", "counts[0]=", "outside 0..536870911")
    _refused(decode_report, _with(good, period_ms=big), "period_ms=", "outside 0..536870912 ms")
    _refused(decode_report, _with(good, loop_counts=[[big], [4, 5]]), "loop_counts[0][0]=", "outside 0..")
    _refused(decode_report, _with(good, groups=[[1], "K2"]), "groups[0]=[1]", "non-empty string")


def test_report_fields_are_bounded_one_by_one():
    good = _good_report()
    cases = [
        (_with(good, counts=[5, -1]), "counts[1]=-1"),
        (_with(good, counts=[5, 9.0]), "counts[1]=9.0 is not an integer"),
        (_with(good, counts=[5, True]), "counts[1]=True is not an integer"),
        (_with(good, counts=[5]), "counts has 1 items, allowed 2..2"),
        (_with(good, occupancy_permille=[1001, 0]), "occupancy_permille[0]=1001 is outside 0..1000"),
        (_with(good, seq=SEQ_MAX + 1), "seq=9007199254740992 is outside 0..9007199254740991"),
        (_with(good, plan_seq=-1), "plan_seq=-1"),
        (_with(good, wall_ms=2 ** 64), "wall_ms="),
        (_with(good, groups=["K1", "K1"]), "groups[1]='K1' repeats"),
        (_with(good, groups=[]), "groups has 0 items"),
        (_with(good, groups=["K%d" % i for i in range(65)]), "groups has 65 items, allowed 1..64"),
        (_with(good, groups=["K1", "x" * 65]), "groups[1]=", "65 characters long"),
        (_with(good, faults=[3]), "faults[0]=3"),
        (_with(good, controller=None), "controller=None"),
        (_with(good, mode="party"), "mode='party' is not one of"),
        (_with(good, used_green_ms=[20000, 25000]), "used_green_ms[1]=25000 is above green_ms[1]=20000"),
        (_with(good, green_ms=None), "green_ms=None is not a list"),
        (_with(good, loop_counts=[[5], [4, 4]]), "loop_counts[1] sums to 8, but counts[1]=9"),
        (_with(good, loop_counts=[[5], "4,5"]), "loop_counts[1]="),
        (_with(good, format="ampelwerk-report/2"), "format is 'ampelwerk-report/2'"),
    ]
    for d, *words in cases:
        _refused(decode_report, d, *words)


def test_payloads_that_are_not_reports_are_refused_by_name():
    _refused(decode_report, b"\xff\xfe\x00", "report is not JSON")
    _refused(decode_report, b"[" * 3000, "report is not JSON")  # deep nesting: no RecursionError
    _refused(decode_report, b"[1, 2]", "report is a JSON list, expected an object")
    _refused(decode_report, b"1" * 5000, "report")  # CPython: too long to read; MicroPython: not an object
    _refused(decode_report, b" " * (MESSAGE_MAX_BYTES + 1), "above the 65536-byte maximum")
    _refused(decode_report, json.dumps(_with(_good_report(), format="x" * 10000)).encode(), "characters)")


def test_plan_fields_are_bounded():
    good = json.loads(plan_payload(seq=5))
    cases = [
        (_with(good, seq=2 ** 64), "plan", "seq=18446744073709551616 is outside 1..9007199254740991"),
        (_with(good, seq=0), "seq=0 is outside 1.."),
        (_with(good, cycle_ms=10 ** 400), "cycle_ms="),
        (_with(good, offset_ms=-1), "offset_ms=-1 is outside 0..536870912 ms"),
        (_with(good, splits=[["S1", 10 ** 30], ["S2", 20000]]), "splits[0][1]="),
        (_with(good, splits=[[["S1"], 20000], ["S2", 20000]]), "splits[0][0]="),
        (_with(good, splits=[["S1", 20000, 1]]), "splits[0]=", "is not [stage id, split_ms]"),
        (_with(good, splits=[]), "splits has 0 items"),
        (_with(good, valid_until_ms=1.5), "valid_until_ms=1.5 is not an integer"),
        (_with(good, sig="0" * 1000), "sig="),
        (_with(good, corridor=""), "corridor=''"),
    ]
    for d, *words in cases:
        _refused(decode_plan, d, *words)
    assert decode_plan(json.dumps(good).encode()).seq == 5


def test_plan_status_fields_are_bounded_and_last_seq_is_optional():
    st = decode_plan_status(encode_plan_status("J3", 12, PLAN_REPLAYED, WALL0, "replayed", 40))
    assert st["seq"] == 12 and st["reason"] == PLAN_REPLAYED and st["result"] == "replayed" and st["last_seq"] == 40
    old = json.loads(encode_plan_status("J3", 12, PLAN_ACCEPTED, WALL0))
    assert decode_plan_status(json.dumps(old).encode())["last_seq"] is None  # an older controller
    assert decode_plan_status(json.dumps(_with(old, reason=42)).encode())["result"] == "reason 42"
    _refused(decode_plan_status, _with(old, reason=256), "plan status", "reason=256 is outside 0..255")
    _refused(decode_plan_status, _with(old, last_seq=2 ** 64), "last_seq=")
    _refused(decode_plan_status, _with(old, text=["x"]), "text=['x'] is not text")
    _refused(decode_plan_status, _with(old, text="x" * (TEXT_MAX_CHARS + 1)), "1001 characters long")
    _refused(decode_plan_status, _with(old, seq="12"), "seq='12' is not an integer")
    # a long refusal text is cut, so a controller's answer always decodes
    long = encode_plan_status("J3", 12, PLAN_OUT_OF_BOUNDS, WALL0, "y" * 5000, 0)
    assert len(decode_plan_status(long)["text"]) == TEXT_MAX_CHARS


def test_a_plan_with_seq_2_64_is_refused_and_blocks_nothing():
    # issue 14, finding 3: a correctly signed plan with seq = 2**64 was accepted and then every later plan
    # was refused as replayed
    ctl = _holder()
    a = CoordinationAgent(ctl, KEY)
    st = decode_plan_status(a.offer_plan(plan_payload(seq=2 ** 64), WALL0))
    assert st["reason"] == PLAN_MALFORMED and "seq=18446744073709551616 is outside" in st["text"]
    st = decode_plan_status(a.offer_plan(plan_payload(seq=WALL0), WALL0))
    assert st["reason"] == PLAN_ACCEPTED and st["last_seq"] == WALL0 and a.plan_seq == WALL0


def test_a_seq_far_ahead_of_the_controllers_clock_is_refused():
    from controller.coordination.plan_validation import SEQ_LEAD_MS

    g = PlanGate(load_dict(two_group_raw()), KEY)
    reason, text = g.check(signed_plan(seq=WALL0 + SEQ_LEAD_MS + 1), WALL0)
    assert reason == PLAN_OUT_OF_BOUNDS and "seq=%d is above %d" % (WALL0 + SEQ_LEAD_MS + 1, WALL0 + SEQ_LEAD_MS) in text
    assert g.last_seq == 0
    assert g.check(signed_plan(seq=WALL0 + SEQ_LEAD_MS), WALL0)[0] == PLAN_ACCEPTED
    # an empty validity window is refused by name
    g = PlanGate(load_dict(two_group_raw()), KEY)
    reason, text = g.check(signed_plan(seq=WALL0, valid_from_ms=WALL0 + 1000, valid_until_ms=WALL0 + 500), WALL0)
    assert reason == PLAN_OUT_OF_BOUNDS and "valid_until_ms=%d is not after valid_from_ms" % (WALL0 + 500) in text


def test_a_plan_status_says_the_last_accepted_seq():
    ctl = _holder()
    a = CoordinationAgent(ctl, KEY)
    assert decode_plan_status(a.offer_plan(plan_payload(seq=WALL0 + 50), WALL0))["last_seq"] == WALL0 + 50
    st = decode_plan_status(a.offer_plan(plan_payload(seq=WALL0), WALL0 + 1000))
    assert st["reason"] == PLAN_REPLAYED and st["seq"] == WALL0 and st["last_seq"] == WALL0 + 50
