# Random bytes into the frame decoder and the board's wire server under the
# MicroPython interpreter: nothing raises, only valid frames act.
#   micropython tests/firmware/micropython_fuzz.py CHUNKS SEED FLASH_DIR [frames]
# FLASH_DIR holds the config.json the board boots from. With "frames", every
# chunk is followed by a frame that passes COBS and the CRC, of a request
# type (or any type) with a random payload: the request handlers meet bad
# payloads, and none may raise or take the fault path.
import sys

root = __file__.rsplit("/", 3)[0] if __file__.count("/") >= 3 else "."
sys.path.insert(0, root)

import random  # noqa: E402

from controller.wire import frame as wf  # noqa: E402
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

if len(sys.argv) > 4 and sys.argv[4] == "frames":
    types = (0x01, 0x02, 0x10, 0x20, 0x30, 0x40, 0x70)
    frames = 0
    seq = 0
    for _ in range(chunks):
        t = types[random.getrandbits(3) % len(types)] if random.getrandbits(2) else random.getrandbits(8)
        n = random.getrandbits(9) if random.getrandbits(1) else random.getrandbits(4)
        payload = bytearray(n)
        for i in range(n):
            payload[i] = random.getrandbits(8)
        if t == 0x01 and n and random.getrandbits(1):
            payload[0] = wf.PROTOCOL_VERSION
        if t == 0x02 and n > 12 and random.getrandbits(1):
            # a whole one-chunk upload with the right crc32: random bytes, or not UTF-8
            data = payload[12:] if random.getrandbits(1) else bytearray(b"\xff\xfe{\x00}\x00")
            payload = bytearray(12) + data
            payload[4:8] = len(data).to_bytes(4, "little")
            payload[8:12] = wf.crc32(data).to_bytes(4, "little")
        seq = (seq + 1) & 0xFF if random.getrandbits(3) else random.getrandbits(8)
        frame = wf.encode_frame(t, seq, payload)
        srv.feed(bytearray(frame), len(frame))
        frames += 1
        assert srv.station.internal_errors == 0, srv.station.reason
        assert srv.station.ctl is not None, srv.station.reason
    print("frames ok: %d well-formed frames of random type and payload, 0 internal errors" % frames)
