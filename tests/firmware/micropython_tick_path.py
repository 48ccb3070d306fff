# The firmware's lockstep tick path under MicroPython: TICK frames are
# decoded by the board's wire server, the core steps, the reply is encoded.
#   micropython tests/firmware/micropython_tick_path.py BUNDLE FLASH_DIR TICKS LOCK
# BUNDLE: folder with controller/ and firmware/ (mpy-cross output or the repo);
# LOCK=1 runs the measured ticks under micropython.heap_lock() (any allocation
# raises MemoryError). Prints us_per_tick (frame building on the host side
# of the loop timed alone and taken off) and heap_in_use. Used by
# tests/firmware/test_firmware_micropython.py and bench/firmware_bench.py.
import gc
import sys
import time

import micropython

bundle, flash, ticks, lock = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
sys.path.insert(0, bundle)
from controller.wire import frame as wf
from controller.wire import messages as wm
from firmware.boards import PROFILES
from firmware.station import Station
from firmware.wire_server import WireServer

class Sink:
    closed = False
    def write(self, buf, n):
        pass

srv = WireServer(Station(PROFILES["virtual"], flash), Sink(), "virtual", True)
assert srv.station.ctl is not None, srv.station.reason
nd = srv.station.n_detectors
pres = bytearray(nd)
pkt = bytearray(wf.MAX_PACKET)
enc = bytearray(64)
seed = 4242

def frame(seq):
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    i = seed % (3 * nd + 1)
    if i < nd:
        pres[i] ^= 1
    wm.put_u16(pkt, 5, 100)
    pkt[7] = nd
    n = 3 + wm.pack_presence(pkt, 8, pres, nd)
    return wf.cobs_encode(pkt, wf.build_packet(pkt, wm.TICK, seq, n), enc)

def run(n, feed):
    for k in range(n):
        size = frame(k + 1)
        if feed:
            srv.feed(enc, size)

run(1000, True)  # warm up past the startup sequence
gc.collect()
t0 = time.ticks_us()
run(ticks, False)
t_encode = time.ticks_diff(time.ticks_us(), t0)
srv.last_seq = -1
gc.collect()
if lock:
    micropython.heap_lock()
t0 = time.ticks_us()
try:
    run(ticks, True)
finally:
    if lock:
        micropython.heap_unlock()
t_all = time.ticks_diff(time.ticks_us(), t0)
assert srv.station.ctl.ticks == 1000 + ticks and not srv.station.ctl.flashing
gc.collect()
print("us_per_tick %.1f" % ((t_all - t_encode) / ticks))
print("heap_in_use %d" % gc.mem_alloc())
