# Serial wire messages: type numbers and payload layouts, with the little
# packers both ends share. Runs on the board and on the host. Integers are
# little-endian; times are ms. Byte layouts: docs/wire-protocol.md.
# A reply has the request's type | 0x80 and the request's seq.
# Packing helpers write into a caller's bytearray at an offset (no struct, no
# allocation), so the board can build its tick reply in a preallocated buffer.
from controller.compat import const

# requests (host -> board)
HELLO = const(0x01)  # version u8, flags u8 (HELLO_BENCH)
CONFIG = const(0x02)  # offset u32, total u32, crc32 u32, data
TICK = const(0x10)  # elapsed_ms u16, n_detectors u8, presence bits (LSB first)
STATUS = const(0x20)  # (empty)
EVENTS = const(0x30)  # max_events u8
RESET = const(0x40)  # kind u8: RESET_CLEAR_FAULT or RESET_POWER_CYCLE
SET_TIME = const(0x50)  # date u32 (YYYYMMDD), ms_of_day u32: the local time (docs/schedules.md)
PRIORITY = const(0x60)  # class u8 (1-based, config order), on u8 (1 on, 0 off)
TEST_INJECT = const(0x70)  # bench only: n u8, states n bytes, forced for the next tick
# replies (board -> host): request | REPLY
REPLY = const(0x80)
HELLO_REPLY = const(0x81)
CONFIG_ACK = const(0x82)
TICK_REPLY = const(0x90)
STATUS_REPLY = const(0xA0)
EVENTS_REPLY = const(0xB0)
RESET_ACK = const(0xC0)
SET_TIME_ACK = const(0xD0)  # flags u8 (SET_TIME_*)
PRIORITY_ACK = const(0xE0)  # class u8, requests u8 (of the class, counted now)
TEST_INJECT_ACK = const(0xF0)
# unsolicited / error frames (board -> host)
STATE_REPORT = const(0x91)  # free-running mode: TICK_REPLY layout, seq counts up
FAULT = const(0xFD)  # fault u8, group u8, text
ERROR = const(0xFE)  # code u8, then UTF-8 text

HELLO_BENCH = const(1)  # hello flag: a bench session asks for the test hooks

# SET_TIME_ACK flags
SET_TIME_CORE = const(1)  # the running controller has a time-of-day program and took the time
SET_TIME_RTC = const(2)  # the board's RTC was set (else a clock on its tick counter)

RESET_CLEAR_FAULT = const(0)
RESET_POWER_CYCLE = const(1)

# HELLO_REPLY flags
BOARD_CONFIG_LOADED = const(1)
BOARD_TEST_HOOKS = const(2)  # the test hooks are enabled for this session
# TICK_REPLY flags
TICK_FLASHING = const(1)  # the conflict monitor latched (or no valid config)
TICK_EVENTS_PENDING = const(2)  # more events wait: read them with EVENTS
TICK_NO_CONFIG = const(4)  # the board runs without a valid config: flash only
TICK_SWITCH_PENDING = const(8)  # a new config or a power cycle waits for the running program's safe ending

# ERROR codes 1-6 are controller.wire.frame.BAD_* (a frame that failed to decode)
ERR_OUT_OF_ORDER = const(16)  # seq is neither the next one nor a repeat
ERR_UNKNOWN_TYPE = const(17)
ERR_BAD_PAYLOAD = const(18)  # payload too short/long for its type
ERR_CONFIG_ORDER = const(19)  # chunk offset or totals do not continue the upload
ERR_CONFIG_CRC = const(20)  # the whole image does not match its crc32
ERR_CONFIG_INVALID = const(21)  # the image is not a valid config: text says why
ERR_NOT_ALLOWED = const(22)  # test hook outside a bench session, or no config
ERR_INTERNAL = const(23)  # an exception was caught; outputs went to flash
ERROR_NAMES = {
    1: "bad COBS", 2: "truncated", 3: "bad length", 4: "bad CRC", 5: "oversized",
    6: "bad version", 16: "out of order", 17: "unknown type", 18: "bad payload",
    19: "config chunk out of order", 20: "config CRC mismatch", 21: "config invalid",
    22: "not allowed", 23: "internal error",
}

EVENT_SIZE = const(7)  # time_ms u32, code u8, param u16
TICK_REPLY_FIXED = const(8)  # ticks u32, flags u8, mode u8, n_groups u8, n_events u8 (after states)
MAX_EVENTS_PER_REPLY = const(32)


def put_u16(buf, at, v):
    buf[at] = v & 0xFF
    buf[at + 1] = (v >> 8) & 0xFF


def put_u32(buf, at, v):
    buf[at] = v & 0xFF
    buf[at + 1] = (v >> 8) & 0xFF
    buf[at + 2] = (v >> 16) & 0xFF
    buf[at + 3] = (v >> 24) & 0xFF


def get_u16(buf, at):
    return buf[at] | (buf[at + 1] << 8)


def get_u32(buf, at):
    return buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)


def pack_presence(buf, at, presence, n):
    # n presence bytes (0/1) -> (n + 7) // 8 bit-packed bytes, LSB first
    nbytes = (n + 7) >> 3
    for k in range(nbytes):
        buf[at + k] = 0
    for i in range(n):
        if presence[i]:
            buf[at + (i >> 3)] |= 1 << (i & 7)
    return nbytes


def unpack_presence(buf, at, presence, n):
    for i in range(n):
        presence[i] = (buf[at + (i >> 3)] >> (i & 7)) & 1


def put_events(buf, at, log, max_events):
    # Move up to max_events of the oldest events out of an EventLog into buf
    # (EVENT_SIZE bytes each), without allocating. Returns how many.
    k = log.size
    if k > max_events:
        k = max_events
    for j in range(k):
        put_u32(buf, at, log.event_time_ms(j))
        buf[at + 4] = log.event_code(j)
        put_u16(buf, at + 5, log.event_param(j))
        at += EVENT_SIZE
    log.discard_oldest(k)
    return k


def get_events(buf, at, n):
    # Host side (allocates): n events from buf -> [(time_ms, code, param)]
    out = []
    for _ in range(n):
        out.append((get_u32(buf, at), buf[at + 4], get_u16(buf, at + 5)))
        at += EVENT_SIZE
    return out


def tick_request(elapsed_ms, presence):
    # Host side: the TICK payload.
    n = len(presence)
    buf = bytearray(3 + ((n + 7) >> 3))
    put_u16(buf, 0, elapsed_ms)
    buf[2] = n
    pack_presence(buf, 3, presence, n)
    return bytes(buf)


def parse_tick_reply(p):
    # Host side: TICK_REPLY / STATE_REPORT payload ->
    # (ticks, flags, mode, states bytes, events list)
    ng = p[6]
    states = bytes(p[7:7 + ng])
    ne = p[7 + ng]
    return get_u32(p, 0), p[4], p[5], states, get_events(p, 8 + ng, ne)


def config_chunk(offset, total, crc, data):
    # Host side: one CONFIG payload.
    buf = bytearray(12 + len(data))
    put_u32(buf, 0, offset)
    put_u32(buf, 4, total)
    put_u32(buf, 8, crc)
    buf[12:] = data
    return bytes(buf)


STATUS_COUNTERS = ("ticks", "rx_ok", "rx_bad", "rx_bad_cobs", "rx_bad_length", "rx_bad_crc",
                   "rx_oversized", "rx_bad_version", "rx_out_of_order", "rx_unknown_type",
                   "rx_bad_payload", "tx_frames", "events_dropped", "bad_steps", "internal_errors",
                   "config_uploads", "config_rejected")


def priority_request(class_number, on):
    # Host side: the PRIORITY payload (class_number 1-based, as in the priority block and the events)
    return bytes((class_number, 1 if on else 0))


def parse_status(p):
    # Host side: STATUS_REPLY payload -> dict. Layout: mode u8, flashing u8,
    # fault u8, fault_group u8, no_config u8, then one u32 per STATUS_COUNTERS
    # name, then "config id\nreason" text.
    st = {"mode": p[0], "flashing": bool(p[1]), "fault": p[2], "fault_group": p[3], "no_config": bool(p[4])}
    at = 5
    for name in STATUS_COUNTERS:
        st[name] = get_u32(p, at)
        at += 4
    text = bytes(p[at:]).decode()
    cid, _, reason = text.partition("\n")
    st["config_id"] = cid
    st["reason"] = reason
    return st
