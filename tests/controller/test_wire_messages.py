# Wire message payloads: packers shared by the board and the host.
# Plain asserts: runs under pytest and under the MicroPython interpreter.
from controller.wire import messages as wm
from controller.events.log import EventLog


def test_integers_are_little_endian_and_round_trip():
    b = bytearray(6)
    wm.put_u16(b, 0, 0xBEEF)
    wm.put_u32(b, 2, 0x12345678)
    assert bytes(b) == b"\xef\xbe\x78\x56\x34\x12"
    assert wm.get_u16(b, 0) == 0xBEEF and wm.get_u32(b, 2) == 0x12345678


def test_presence_bits_pack_lsb_first_and_round_trip():
    pres = bytearray([1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1])
    b = bytearray(4)
    assert wm.pack_presence(b, 1, pres, len(pres)) == 2
    assert b[1] == 0x81 and b[2] == 0x05
    back = bytearray(len(pres))
    wm.unpack_presence(b, 1, back, len(pres))
    assert back == pres


def test_tick_request_layout():
    p = wm.tick_request(100, bytearray([0, 1, 1]))
    assert p == b"\x64\x00\x03\x06"


def test_events_move_from_the_ring_oldest_first_and_leave_the_rest():
    log = EventLog(8)
    for k in range(5):
        log.advance(1500)
        log.add(80 + k, k + 1)
    b = bytearray(64)
    n = wm.put_events(b, 0, log, 3)
    assert n == 3 and log.size == 2
    assert wm.get_events(b, 0, 3) == [(1500, 80, 1), (3000, 81, 2), (4500, 82, 3)]
    n = wm.put_events(b, 0, log, 32)
    assert n == 2 and log.size == 0
    assert wm.get_events(b, 0, 2) == [(6000, 83, 4), (7500, 84, 5)]


def test_events_after_the_ring_wrapped_keep_their_order():
    log = EventLog(4)
    for k in range(7):
        log.add(1, k)
    b = bytearray(64)
    assert wm.put_events(b, 0, log, 32) == 4
    assert [p for _, _, p in wm.get_events(b, 0, 4)] == [3, 4, 5, 6]


def test_tick_reply_parses():
    p = bytearray(8 + 3 + wm.EVENT_SIZE)
    wm.put_u32(p, 0, 77)
    p[4] = wm.TICK_FLASHING
    p[5] = 2
    p[6] = 3
    p[7:10] = b"\x02\x00\x01"
    p[10] = 1
    wm.put_u32(p, 11, 1234)
    p[15] = 82
    wm.put_u16(p, 16, 9)
    ticks, flags, mode, states, events = wm.parse_tick_reply(bytes(p))
    assert (ticks, flags, mode, states, events) == (77, 1, 2, b"\x02\x00\x01", [(1234, 82, 9)])


def test_config_chunk_layout():
    p = wm.config_chunk(256, 1000, 0xAABBCCDD, b"xyz")
    assert wm.get_u32(p, 0) == 256 and wm.get_u32(p, 4) == 1000 and wm.get_u32(p, 8) == 0xAABBCCDD
    assert p[12:] == b"xyz"


def test_reply_types_are_request_types_with_the_reply_bit():
    for req, rep in ((wm.HELLO, wm.HELLO_REPLY), (wm.CONFIG, wm.CONFIG_ACK), (wm.TICK, wm.TICK_REPLY),
                     (wm.STATUS, wm.STATUS_REPLY), (wm.EVENTS, wm.EVENTS_REPLY), (wm.RESET, wm.RESET_ACK),
                     (wm.TEST_INJECT, wm.TEST_INJECT_ACK)):
        assert req | wm.REPLY == rep
