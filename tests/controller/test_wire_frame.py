# Wire framing: COBS + CRC-16 round trips and every kind of bad frame.
# Plain asserts: runs under pytest and under the MicroPython interpreter.
from controller.wire import frame as wf


def _frame(ptype=0x10, seq=7, payload=b"\x01\x02\x00\x03"):
    return wf.encode_frame(ptype, seq, payload)


def _decode_all(data):
    d = wf.FrameDecoder()
    return d, d.feed(data)


def test_crc16_ccitt_false_check_value():
    assert wf.crc16(b"123456789", 0, 9) == 0x29B1


def test_crc32_matches_the_zlib_check_value():
    assert wf.crc32(b"123456789") == 0xCBF43926


def test_round_trip_keeps_type_seq_and_payload():
    for payload in (b"", b"\x00", b"\x00\x00\x00", bytes(range(256)), bytes(300), b"\xff" * 512):
        d, frames = _decode_all(_frame(0x42, 200, payload))
        assert frames == [(0x42, 200, payload)], (len(payload), frames)
        assert d.ok == 1 and d.bad == 0


def test_encoded_frame_has_no_zero_inside_and_is_delimited():
    f = _frame(payload=bytes(600 // 2))
    assert f[0] == 0 and f[-1] == 0
    assert 0 not in f[1:-1]


def test_payload_over_the_maximum_is_refused_by_the_encoder():
    try:
        wf.encode_frame(1, 1, bytes(wf.MAX_PAYLOAD + 1))
    except ValueError as e:
        assert "512" in str(e)
    else:
        assert False, "oversized payload encoded"


def test_corrupt_byte_is_a_crc_error_and_the_next_frame_still_decodes():
    bad = bytearray(_frame())
    bad[4] ^= 0x20
    d, frames = _decode_all(bytes(bad) + _frame(seq=8))
    assert frames == [(0x10, 8, b"\x01\x02\x00\x03")]
    assert d.bad == 1 and d.bad_crc + d.bad_cobs + d.bad_length == 1


def test_truncated_frame_is_counted():
    f = _frame()
    d, frames = _decode_all(f[:4] + b"\x00" + f)
    assert len(frames) == 1
    assert d.bad == 1 and d.last_error in (wf.BAD_TRUNCATED, wf.BAD_COBS, wf.BAD_LENGTH)


def test_length_field_mismatch_is_counted():
    pkt = bytearray(wf.OVERHEAD + 3)
    size = wf.build_packet(pkt, 1, 1, 3)
    pkt[3] = 2  # claims 2 payload bytes, carries 3
    c = wf.crc16(pkt, 0, size - 2)
    pkt[size - 2] = c >> 8
    pkt[size - 1] = c & 0xFF
    out = bytearray(64)
    n = wf.cobs_encode(pkt, size, out)
    d, frames = _decode_all(bytes(out[:n]))
    assert frames == [] and d.bad_length == 1 and d.last_error == wf.BAD_LENGTH


def test_oversized_run_without_delimiter_is_dropped_then_decoder_recovers():
    d, frames = _decode_all(b"\x01" * (wf.MAX_ENCODED + 50) + _frame(seq=9))
    assert d.oversized == 1
    assert frames == [(0x10, 9, b"\x01\x02\x00\x03")]


def test_wrong_protocol_version_is_counted_not_delivered():
    pkt = bytearray(wf.OVERHEAD)
    size = wf.build_packet(pkt, 1, 5, 0)
    pkt[0] = wf.PROTOCOL_VERSION + 1
    c = wf.crc16(pkt, 0, size - 2)
    pkt[size - 2] = c >> 8
    pkt[size - 1] = c & 0xFF
    out = bytearray(32)
    n = wf.cobs_encode(pkt, size, out)
    d, frames = _decode_all(bytes(out[:n]))
    assert frames == [] and d.bad_version == 1 and d.last_seq == 5


def test_empty_frames_between_packets_are_ignored_silently():
    d, frames = _decode_all(b"\x00\x00\x00" + _frame() + b"\x00\x00")
    assert len(frames) == 1 and d.bad == 0


def test_cobs_boundary_lengths_round_trip():
    # runs of 253, 254 and 255 non-zero bytes hit the 0xFF code-byte case
    for n in (252, 253, 254, 255, 256, 508, 509):
        payload = bytes([7] * (n - wf.OVERHEAD)) if n > wf.OVERHEAD else b""
        d, frames = _decode_all(_frame(3, 3, payload))
        assert frames == [(3, 3, payload)], n
