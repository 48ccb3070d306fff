# Serial wire framing: COBS-framed packets with a header and CRC-16/CCITT.
# Runs on the board and on the host (the bench). Byte layouts: docs/wire-protocol.md.
#
# Packet (before COBS):  version u8 | type u8 | seq u8 | length u16 LE |
#                         payload (length bytes) | crc16 u16 BE
# The CRC (CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF) covers everything
# before it. On the line a packet is COBS-encoded (no zero bytes inside) and
# ends with one 0x00; senders also put a 0x00 in front, so the receiver
# resynchronises after garbage at the first delimiter.
#
# FrameDecoder is a streaming parser in the style of peterhinch's: it is fed
# bytes as they arrive, never raises on bad input, counts every kind of bad
# frame and keeps going. It allocates nothing while decoding: one buffer is
# made at construction and a decoded frame is read from it in place.
from array import array

from controller.compat import SMALL_INT_MAX, const

PROTOCOL_VERSION = const(1)
MAX_PAYLOAD = const(512)
HEADER_LEN = const(5)
OVERHEAD = const(7)  # header + crc
MAX_PACKET = const(519)  # OVERHEAD + MAX_PAYLOAD
MAX_ENCODED = const(524)  # MAX_PACKET + COBS overhead (one code byte per 254) + slack

# what went wrong with a frame (FrameDecoder.last_error; also ERROR codes on the wire)
BAD_NONE = const(0)
BAD_COBS = const(1)  # a COBS code byte points past the end of the frame
BAD_TRUNCATED = const(2)  # shorter than header + crc, or length field says more
BAD_LENGTH = const(3)  # length field does not match the bytes received
BAD_CRC = const(4)
BAD_OVERSIZED = const(5)  # longer than MAX_ENCODED before the delimiter
BAD_VERSION = const(6)


def _make_table():
    t = array("H", [0] * 256)
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


_CRC_TABLE = _make_table()


def crc16(buf, start, end, crc=0xFFFF):
    # CRC-16/CCITT-FALSE over buf[start:end] (no slice is made)
    t = _CRC_TABLE
    for i in range(start, end):
        crc = ((crc << 8) & 0xFF00) ^ t[((crc >> 8) ^ buf[i]) & 0xFF]
    return crc


def crc32(data, crc=0):
    # CRC-32 (IEEE, as zlib.crc32) for config images; not on the tick path.
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def build_packet(buf, ptype, seq, length):
    # The payload is already in buf[HEADER_LEN:HEADER_LEN+length]; fill in the
    # header and CRC. Returns the packet length.
    buf[0] = PROTOCOL_VERSION
    buf[1] = ptype
    buf[2] = seq & 0xFF
    buf[3] = length & 0xFF
    buf[4] = length >> 8
    end = HEADER_LEN + length
    c = crc16(buf, 0, end)
    buf[end] = c >> 8
    buf[end + 1] = c & 0xFF
    return end + 2


def cobs_encode(src, n, dst):
    # COBS-encode src[0:n] into dst, framed as 0x00 <encoded> 0x00.
    # Returns the number of bytes written. dst must hold n + n // 254 + 3.
    dst[0] = 0
    code_at = 1
    o = 2
    code = 1
    for i in range(n):
        b = src[i]
        if b == 0:
            dst[code_at] = code
            code_at = o
            o += 1
            code = 1
        else:
            dst[o] = b
            o += 1
            code += 1
            if code == 0xFF:
                dst[code_at] = code
                code_at = o
                o += 1
                code = 1
    dst[code_at] = code
    dst[o] = 0
    return o + 1


def encode_frame(ptype, seq, payload=b""):
    # Host convenience (allocates): one complete frame as bytes.
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise ValueError("payload of %d bytes exceeds the %d byte maximum" % (n, MAX_PAYLOAD))
    pkt = bytearray(OVERHEAD + n)
    pkt[HEADER_LEN:HEADER_LEN + n] = payload
    size = build_packet(pkt, ptype, seq, n)
    out = bytearray(size + size // 254 + 3)
    return bytes(out[:cobs_encode(pkt, size, out)])


class FrameDecoder:
    def __init__(self):
        self.buf = bytearray(MAX_ENCODED)
        self.n = 0  # encoded bytes collected since the last delimiter
        self.overflow = False
        # the last good frame (valid until the next feed_byte that returns True)
        self.type = 0
        self.seq = 0
        self.length = 0
        self.payload_at = HEADER_LEN  # payload is buf[payload_at:payload_at+length]
        self.last_error = BAD_NONE
        self.last_seq = 0  # seq byte of the last bad frame, when readable (else 0xFF)
        # counters (saturating)
        self.ok = 0
        self.bad = 0
        self.bad_cobs = 0
        self.bad_length = 0
        self.bad_crc = 0
        self.oversized = 0
        self.bad_version = 0

    def feed_byte(self, b):
        # Returns 1 when a valid frame is ready, -1 when a bad frame just
        # ended (see last_error), 0 otherwise.
        if b != 0:
            if self.n < MAX_ENCODED:
                self.buf[self.n] = b
                self.n += 1
            else:
                self.overflow = True
            return 0
        n = self.n
        self.n = 0
        if self.overflow:
            self.overflow = False
            return self._bad(BAD_OVERSIZED, 0xFF)
        if n == 0:
            return 0  # empty frame: the leading delimiter of a packet
        return self._decode(n)

    def _decode(self, n):
        # COBS-decode buf[0:n] in place (output never overtakes input)
        buf = self.buf
        i = 0
        o = 0
        while i < n:
            code = buf[i]
            i += 1
            end = i + code - 1
            if end > n:
                return self._bad(BAD_COBS, 0xFF)
            while i < end:
                buf[o] = buf[i]
                o += 1
                i += 1
            if code != 0xFF and i < n:
                buf[o] = 0
                o += 1
        seq = buf[2] if o > 2 else 0xFF
        if o < OVERHEAD:
            return self._bad(BAD_TRUNCATED, seq)
        length = buf[3] | (buf[4] << 8)
        if length > MAX_PAYLOAD:
            return self._bad(BAD_LENGTH, seq)
        if HEADER_LEN + length + 2 > o:
            return self._bad(BAD_TRUNCATED, seq)
        if HEADER_LEN + length + 2 != o:
            return self._bad(BAD_LENGTH, seq)
        end = HEADER_LEN + length
        if crc16(buf, 0, end) != ((buf[end] << 8) | buf[end + 1]):
            return self._bad(BAD_CRC, seq)
        if buf[0] != PROTOCOL_VERSION:
            return self._bad(BAD_VERSION, seq)
        self.type = buf[1]
        self.seq = seq
        self.length = length
        if self.ok < SMALL_INT_MAX:
            self.ok += 1
        return 1

    def _bad(self, why, seq):
        self.last_error = why
        self.last_seq = seq
        if self.bad < SMALL_INT_MAX:
            self.bad += 1
        if why == BAD_COBS:
            self.bad_cobs += 1
        elif why == BAD_CRC:
            self.bad_crc += 1
        elif why == BAD_OVERSIZED:
            self.oversized += 1
        elif why == BAD_VERSION:
            self.bad_version += 1
        else:
            self.bad_length += 1
        return -1

    def payload(self):
        # A copy of the current payload (host side; allocates).
        return bytes(self.buf[HEADER_LEN:HEADER_LEN + self.length])

    def feed(self, data):
        # Host convenience: feed many bytes, return [(type, seq, payload)] of
        # the valid frames among them (bad ones are only counted).
        out = []
        for b in data:
            if self.feed_byte(b) == 1:
                out.append((self.type, self.seq, self.payload()))
        return out
