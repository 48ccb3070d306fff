# Steps a controller with a time-of-day and week program across its plan
# changes under micropython.heap_lock(): a change of strategy, to flash and
# back through the startup sequence, a fixed-time plan with its own splits,
# midnight into the next date, and set_local_time between locked ticks must
# allocate nothing. Usage:
#   micropython tests/micropython_schedule_heap_check.py CONFIG HOURS
# CONFIG: a config with a "schedule" block (examples/four_leg_schedule.json).
# Prints "heap-locked ticks: N", "plan changes: N" and the plan numbers seen.
import gc
import sys

import micropython

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

from tests.micropython_traffic import next_presence  # noqa: E402
from controller.core import Controller  # noqa: E402
from controller.events import codes as ev  # noqa: E402
from controller.config import loading as config  # noqa: E402

path, hours = sys.argv[1], int(sys.argv[2])
ix = config.load_file(path)
config.unload()  # as the firmware does: the loader goes before the controller is built
del config
gc.collect()
ctl = Controller(ix, event_capacity=256)
ix.raw = None  # as the firmware does (Station._build)
gc.collect()
pres = bytearray(ix.n_detectors)
seed = 4242
numbers = bytearray(256)  # plan numbers seen in event 131 (no list to append to while locked)


def drive(n):
    global seed
    for _ in range(n):
        seed = next_presence(seed, pres, ix.n_detectors)
        ctl.step(1000, pres)
        events = ctl.events
        # read the ring in place (drain() would build a list), then empty it
        for k in range(events.size):
            i = events._slot(k)
            if events.codes[i] == ev.COORD_PATTERN_CHANGE:
                numbers[events.params[i]] = 1
        events.clear()


ctl.set_local_time(20261207, 0, 4 * 3600000)  # Monday 04:00: the night's flash
drive(60)  # warm up
gc.collect()
micropython.heap_lock()
try:
    drive(hours * 1800)
    ctl.set_local_time(20261208, 1, 15 * 3600000)  # the clock set again (Tuesday, a holiday): between ticks
    drive(hours * 1800)
finally:
    micropython.heap_unlock()
assert not ctl.flashing, "monitor latched"
print("heap-locked ticks: %d" % (hours * 3600))
print("plan changes: %d" % ctl.plans.changes)
print("plans seen: %s" % " ".join(str(p) for p in range(256) if numbers[p]))
