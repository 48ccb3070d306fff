# A regional profile's sequence under micropython.heap_lock(): steps a config
# with red-amber (e.g. de-rilsa) and perhaps flashing green (custom) for many
# ticks, allocating nothing, and counts the ticks that showed red-amber and
# flashing green, and the red-amber -> green and flashing green -> yellow
# changes, so the run is known to have exercised them. Usage:
#   micropython tests/micropython_profile_heap_check.py CONFIG STRATEGY TICKS
# Prints "heap-locked ticks: N", "red-amber ticks: N", "red-amber to green: N",
# "flashing-green ticks: N", "flashing green to yellow: N".
import gc
import sys

import micropython

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

from controller.core import Controller  # noqa: E402
from controller.safety.signal_states import FLASHING_GREEN, GREEN, RED_AMBER, YELLOW  # noqa: E402
from controller.config import loading as config  # noqa: E402

path, strategy, ticks = sys.argv[1], sys.argv[2], int(sys.argv[3])
ix = config.load_file(path)
config.unload()
del config
gc.collect()
ctl = Controller(ix, strategy, event_capacity=256)
ix.raw = None
n = ix.n_groups
pres = bytearray(ix.n_detectors)
last = bytearray(n)
seed = 4242
red_amber_ticks = 0
red_amber_to_green = 0
flashing_ticks = 0
flashing_to_yellow = 0


def drive(k):
    global seed, red_amber_ticks, red_amber_to_green, flashing_ticks, flashing_to_yellow
    out = ctl.outputs
    for _ in range(k):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        i = seed % (3 * ix.n_detectors + 1)
        if i < ix.n_detectors:
            pres[i] ^= 1
        ctl.step(100, pres)
        for g in range(n):
            s = out[g]
            if s == RED_AMBER:
                red_amber_ticks += 1
            elif s == GREEN and last[g] == RED_AMBER:
                red_amber_to_green += 1
            elif s == FLASHING_GREEN:
                flashing_ticks += 1
            elif s == YELLOW and last[g] == FLASHING_GREEN:
                flashing_to_yellow += 1
            last[g] = s


drive(1000)
gc.collect()
micropython.heap_lock()
try:
    drive(ticks)
finally:
    micropython.heap_unlock()
assert not ctl.flashing, "monitor latched"
print("heap-locked ticks: %d" % ticks)
print("red-amber ticks: %d" % red_amber_ticks)
print("red-amber to green: %d" % red_amber_to_green)
print("flashing-green ticks: %d" % flashing_ticks)
print("flashing green to yellow: %d" % flashing_to_yellow)
