# The coordinated strategy's tick path under micropython.heap_lock(): plans are
# offered between ticks (heap unlocked, as a transport would), the ticks and
# the agent's advance() run locked through a transition, in step, the plan
# running out (free operation) and a new plan. Any allocation raises
# MemoryError. Usage:
#   micropython tests/micropython_coordinated_heap_check.py CONFIG TICKS_PER_PHASE
# Prints "heap-locked coordinated ticks: N" and the modes seen.
import gc
import sys

import micropython

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

from controller.config.loading import load_file  # noqa: E402
from controller.coordination.agent import CoordinationAgent  # noqa: E402
from controller.coordination.messages import MODE_NAMES, Plan, encode_plan  # noqa: E402
from controller.core import Controller  # noqa: E402
from controller.coordination.plan_validation import stage_minimum_ms  # noqa: E402

KEY = b"0123456789abcdef0123456789abcdef"
WALL0 = 1795305600000
path, ticks = sys.argv[1], int(sys.argv[2])
ix = load_file(path)
ctl = Controller(ix, "coordinated", event_capacity=256)
agent = CoordinationAgent(ctl, KEY, report_period_ms=60000)
pres = bytearray(ix.n_detectors)
seed = 4242
now = 0
modes = []
due = 0


def plan(seq, offset_ms, valid_ms):
    k = len(ix.sequence)
    ids = []
    splits = []
    for p in range(k):
        s = ix.sequence[p]
        ids.append(ix.stage_ids[s])
        splits.append(stage_minimum_ms(ix, s, ix.sequence[(p + 1) % k]) + 8000)
    cycle = sum(splits)
    wall = WALL0 + now
    return encode_plan(Plan(ix.id, "main", seq, WALL0, wall, wall + valid_ms, cycle, offset_ms % cycle, ids, splits), KEY)


def drive(n):
    global seed, now, due
    for _ in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        i = seed % (3 * ix.n_detectors + 1)
        if i < ix.n_detectors:
            pres[i] ^= 1
        ctl.step(100, pres)
        now += 100
        if agent.advance(100):
            due += 1
            agent.since_report_ms = 0  # a transport would publish report() here, unlocked


def locked(n):
    gc.collect()
    micropython.heap_lock()
    try:
        drive(n)
    finally:
        micropython.heap_unlock()
    modes.append(MODE_NAMES[agent.mode])


drive(1000)  # startup, free operation
# random loop toggling looks like spilled-back side queues: the oversaturation
# fallback is exercised separately at the end, so the plan modes stay checkable
ctl.strategy.fallback_cycles = 0
assert b'"reason": 0' in agent.offer_plan(plan(1, 23000, 100 * ticks + 50000), WALL0 + now)
locked(ticks)  # transition and in step
assert b'"reason": 0' in agent.offer_plan(plan(2, 61000, 100 * ticks + 50000), WALL0 + now)
locked(ticks)  # another transition, in step
locked(ticks)  # the plan ran out: free operation
assert b'"reason": 0' in agent.offer_plan(plan(3, 5000, 100 * ticks + 50000), WALL0 + now)
locked(ticks)
assert modes == ["coordinated", "coordinated", "free", "coordinated"], modes
ctl.strategy.fallback_cycles = 2
locked(ticks)  # the oversaturation fallback (free for a while, back to the plan) allocates nothing either
assert ctl.strategy.fallbacks > 0, "the fallback never ran"
assert not ctl.flashing, "monitor latched"
print("heap-locked coordinated ticks: %d" % (4 * ticks))
print("modes: %s; reports due: %d" % (" ".join(modes), due))
