# The witnessed no-activity diagnostics under micropython.heap_lock(): loops
# on approaches go idle, are found dead by their witnesses, turn from idle to
# dead, and come back, all inside the locked run (any allocation in step()
# raises MemoryError). Usage:
#   micropython tests/micropython_diagnostics_heap_check.py STRATEGY
# Prints the fault events seen while locked.
import sys

import micropython

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

from controller.events import codes as ev  # noqa: E402
from controller.config.loading import load_dict  # noqa: E402
from controller.core import Controller  # noqa: E402
from tests.controller.test_idle_lanes import idle_lanes_raw  # noqa: E402

strategy = sys.argv[1]
raw = idle_lanes_raw(second_lane=True)
raw["strategy"] = strategy
diag = raw["detector_diagnostics"]
diag["no_activity_ms"] = 60000
diag["idle_stop_bar_ms"] = 90000
diag["idle_advance_ms"] = 90000
diag["idle_turn_pocket_ms"] = 120000
ctl = Controller(load_dict(raw), event_capacity=256)
raw = None
pres = bytearray(ctl.ix.n_detectors)
seen = bytearray(256)  # event codes seen while locked
kinds = bytearray(8)  # fault kinds (detector_diagnostics.FAULT_*) seen while locked


def drive(t0, t1):
    # 100 ms ticks from t0 to t1 (ms): through lane n0 busy all along; the
    # pocket n1 idle until 200 s, then only its advance loop counts (its stop
    # bar is dead); the east approach idle until 300 s; the second through
    # lane n2 dead until 400 s
    t = t0
    while t < t1:
        t += 100
        k = t % 5000
        pres[0] = 1 if 3000 <= k < 3500 else 0
        pres[1] = 1 if k < 500 else 0
        pres[3] = 1 if t > 200000 and t % 8000 < 500 else 0
        on = t > 300000 and t % 9000 < 500
        pres[4] = 1 if on else 0
        pres[5] = 1 if on else 0
        on = t > 400000 and t % 7000 < 500
        pres[6] = 1 if on else 0
        pres[7] = 1 if on else 0
        ctl.step(100, pres)
        fault = ctl.diagnostics.fault
        for i in range(len(fault)):
            kinds[fault[i]] = 1


drive(0, 10000)  # warm up: startup, first stages
ctl.drain_events()
kinds = bytearray(8)
for k in range(50):  # 500 s in locked slices; the event ring is drained between them
    micropython.heap_lock()
    try:
        drive(10000 + k * 10000, 20000 + k * 10000)
    finally:
        micropython.heap_unlock()
    for _, code, _ in ctl.drain_events():
        seen[code] = 1
for _, code, _ in ctl.drain_events():
    seen[code] = 1
assert not ctl.flashing, "monitor latched"
print("heap-locked ticks: %d" % 5000)
print("fault events: %s" % " ".join(str(c) for c in (ev.DETECTOR_FAULT_NO_ACTIVITY, ev.DETECTOR_RESTORED) if seen[c]))
print("fault kinds: %s" % " ".join(str(k) for k in range(8) if kinds[k]))
print("faults at the end: %s" % " ".join(str(f) for f in ctl.diagnostics.fault))
