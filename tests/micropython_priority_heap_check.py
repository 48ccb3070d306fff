# Preemption and transit priority on the tick path under micropython.heap_lock():
# check-in / check-out loops pulse and requests arrive the wire's way
# (PriorityService.request) while the heap is locked; any allocation raises
# MemoryError. Usage:
#   micropython tests/micropython_priority_heap_check.py CONFIG STRATEGY TICKS
# The config has the priority classes and loops of
# tests/controller/priority_support.py (ems, rail, bus). Prints
# "heap-locked priority ticks: N", the preemptions entered, the transit
# adjustments given and the requests timed out.
import gc
import sys

import micropython

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

from controller.config import loading as config  # noqa: E402
from controller.core import Controller  # noqa: E402
from controller.safety.signal_states import GREEN  # noqa: E402

path, strategy, ticks = sys.argv[1], sys.argv[2], int(sys.argv[3])
ix = config.load_file(path)
config.unload()
del config
ctl = Controller(ix, strategy, event_capacity=256)
ix.raw = None
gc.collect()
ids = ix.detector_ids
plain = bytearray(1 if ids[d][0] == "d" else 0 for d in range(ix.n_detectors))
bus_in = ids.index("bus_in")
bus_out = ids.index("bus_out")
ems_in = ids.index("ems_in")
ems_out = ids.index("ems_out")
rail_in = ids.index("rail_in")
rail_out = ids.index("rail_out")
pres = bytearray(ix.n_detectors)
greens = bytearray(ix.n_groups)
seed = 777


def drive(n):
    global seed
    prio = ctl.priority
    for t in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        i = seed % (4 * ix.n_detectors)
        if i < ix.n_detectors and plain[i]:
            pres[i] ^= 1
        # a bus every 90 s (out 20 s later), an emergency every 7 min (out 40 s
        # later), a train every 13 min (one in three never checks out: timeout)
        k = t % 900
        pres[bus_in] = 1 if k == 0 else 0
        pres[bus_out] = 1 if k == 200 else 0
        k = t % 4200
        pres[ems_in] = 1 if k == 1000 else 0
        pres[ems_out] = 1 if k == 1400 else 0
        k = t % 7800
        pres[rail_in] = 1 if k == 3000 else 0
        pres[rail_out] = 1 if k == 3500 and (t // 7800) % 3 else 0
        if t % 5000 == 2500:
            prio.request(0, True)  # the emergency class over the wire
        elif t % 5000 == 2800:
            prio.request(0, False)
        out = ctl.step(100, pres)
        for g in range(ix.n_groups):
            if out[g] == GREEN:
                greens[g] = 1


drive(200)
gc.collect()
micropython.heap_lock()
try:
    drive(ticks)
finally:
    micropython.heap_unlock()
assert not ctl.flashing, "monitor latched"
p = ctl.priority
print("heap-locked priority ticks: %d" % ticks)
print("preemptions: %d transit adjustments: %d timeouts: %d groups served: %d" % (
    p.preemption.entries, p.transit.adjustments, p.requests.timeouts, sum(greens)))
