# Steps the core for many ticks under micropython.heap_lock(): any allocation
# inside step() raises MemoryError. Usage:
#   micropython [-X heapsize=N] tests/micropython_heap_check.py CONFIG STRATEGY TICKS [MODULE_DIR]
# MODULE_DIR (optional) holds mpy-cross output to import instead of the sources,
# as a board would. Like the firmware, it drops the loader once the config is
# loaded, and the config dict once the controller is built. Prints "heap-locked ticks: N" and the heap in use
# (with a priority block also the preemptions, transit adjustments and timeouts).
import gc
import sys

import micropython

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, sys.argv[4] if len(sys.argv) > 4 else root)

from controller.core import Controller  # noqa: E402
from controller.strategies.registry import make_strategy  # noqa: E402

path, strategy, ticks = sys.argv[1], sys.argv[2], int(sys.argv[3])
make_strategy  # the strategy module is imported when the controller is built
gc.collect()
code_bytes = gc.mem_alloc()  # the core's modules (bytecode lives in the heap on the unix port)

from controller.config import loading as config  # noqa: E402

ix = config.load_file(path)
config.unload()  # as the firmware does (Station._build): the loader goes before the controller is built
del config
gc.collect()
ctl = Controller(ix, strategy, event_capacity=256)
ix.raw = None
gc.collect()
pres = bytearray(ix.n_detectors)
seed = 4242
tick = 0
# A priority block: its check-in / check-out loops pulse on a schedule (class c
# every 90 + 70c s, checked out 20 s later, every third time never: it times
# out), and requests come the wire's way (PriorityService.request) too.
prio = ctl.priority
loop_class = prio.classes.detector_class if prio is not None else bytearray(ix.n_detectors)


def drive(n):
    global seed, tick
    for _ in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        i = seed % (3 * ix.n_detectors + 1)
        if i < ix.n_detectors and (prio is None or loop_class[i] == 255):
            pres[i] ^= 1
        if prio is not None:
            tick += 1
            for d in prio.classes.loops:
                period = 900 + 700 * loop_class[d]
                k = tick % period
                if prio.classes.detector_checks_in[d]:
                    pres[d] = 1 if k == 0 else 0
                else:
                    pres[d] = 1 if k == 200 and (tick // period) % 3 else 0
            if tick % 5000 == 2500:
                prio.request(0, True)
            elif tick % 5000 == 2800:
                prio.request(0, False)
        ctl.step(100, pres)


drive(1000)  # warm up: startup, first windows, first stages
gc.collect()
micropython.heap_lock()
try:
    drive(ticks)
finally:
    micropython.heap_unlock()
assert not ctl.flashing, "monitor latched"
gc.collect()
print("heap-locked ticks: %d" % ticks)
if prio is not None:
    print("priority: preemptions %d transit adjustments %d timeouts %d" % (
        prio.preemption.entries, prio.transit.adjustments if prio.transit else 0, prio.requests.timeouts))
print("heap in use: %d bytes (core modules %d, controller data %d)" % (
    gc.mem_alloc(), code_bytes, gc.mem_alloc() - code_bytes))
