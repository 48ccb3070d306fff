# Random bytes into the frame decoder and the board's wire server under the
# MicroPython interpreter: nothing raises, only valid frames act.
#   micropython tests/firmware/micropython_fuzz.py CHUNKS SEED FLASH_DIR
# FLASH_DIR holds the config.json the board boots from.
import sys

root = __file__.rsplit("/", 3)[0] if __file__.count("/") >= 3 else "."
sys.path.insert(0, root)

import random  # noqa: E402

from controller import wire_frame as wf  # noqa: E402
from firmware.boards import PROFILES  # noqa: E402
from firmware.station import Station  # noqa: E402
from firmware.wire_server import WireServer  # noqa: E402


class Sink:
    closed = False
    n = 0

    def write(self, buf, k):
        self.n += k


chunks, seed = int(sys.argv[1]), int(sys.argv[2])
random.seed(seed)
srv = WireServer(Station(PROFILES["virtual"], sys.argv[3]), Sink(), "virtual", True)
ctl = srv.station.ctl
assert ctl is not None, srv.station.reason
before = bytes(ctl.outputs)
dec = wf.FrameDecoder()
buf = bytearray(64)
valid = 0
for _ in range(chunks):
    k = random.getrandbits(6)
    for i in range(k):
        buf[i] = random.getrandbits(8) if random.getrandbits(2) else 0
    for i in range(k):
        if dec.feed_byte(buf[i]) == 1:
            valid += 1
    srv.feed(buf, k)
assert srv.station.ctl is ctl and srv.station.internal_errors == 0
assert srv.dec.bad == dec.bad and srv.dec.ok == valid
if valid == 0:  # only invalid input: no signal moved
    assert ctl.ticks == 0 and bytes(ctl.outputs) == before
print("fuzz ok: %d chunks, %d bad frames, %d valid, %d bytes answered" % (chunks, dec.bad, valid, srv.port.n))
