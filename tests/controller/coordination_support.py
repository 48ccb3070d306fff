# Helpers for the coordination tests (portable: plain functions, run under
# pytest and under the MicroPython interpreter).
from controller.coordination.messages import Plan, encode_plan

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"
WALL0 = 1795305600000  # a Unix epoch ms, far beyond small-int range on a board


def make_plan(controller_id="two-groups", seq=1, ref_ms=WALL0, valid_from_ms=WALL0, valid_until_ms=WALL0 + 600000,
              cycle_ms=40000, offset_ms=0, splits=(("S1", 20000), ("S2", 20000)), corridor="main"):
    return Plan(controller_id, corridor, seq, ref_ms, valid_from_ms, valid_until_ms, cycle_ms, offset_ms,
                [s for s, _ in splits], [v for _, v in splits])


def plan_payload(key=KEY, **kw):
    return encode_plan(make_plan(**kw), key)


def signed_plan(key=KEY, **kw):
    # a Plan object carrying a valid signature
    plan = make_plan(**kw)
    encode_plan(plan, key)
    return plan
