# Runs on MicroPython (or CPython): times the core's step() over a random trace.
#   micropython bench/mp_tick_bench.py CONFIG STRATEGY TICKS SEED
# Prints "us_per_tick=<float> ticks=<n>".
import sys

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

try:
    from time import ticks_diff, ticks_us
except ImportError:  # CPython
    from time import perf_counter_ns

    def ticks_us():
        return perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b

from controller.config.loading import load_file  # noqa: E402
from controller.core import Controller  # noqa: E402

path, strategy, ticks, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ix = load_file(path)
ctl = Controller(ix, strategy)
m = ix.n_detectors
# precompute the detector stream so only step() is timed
toggles = bytearray(ticks)
for k in range(ticks):
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    toggles[k] = seed % (4 * m)
pres = bytearray(m)
t0 = ticks_us()
for k in range(ticks):
    i = toggles[k]
    if i < m:
        pres[i] ^= 1
    ctl.step(100, pres)
dt = ticks_diff(ticks_us(), t0)
print("us_per_tick=%.2f ticks=%d flashing=%d" % (dt / ticks, ticks, 1 if ctl.flashing else 0))
