"""Fuzzing the frame decoder and the board end of the wire (hypothesis):
no exception escapes, and nothing but a valid frame changes anything."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.wire import frame as wf
from controller.wire import messages as wm
from tests import fuzz_inputs as fz
from tests.firmware.wire_support import BufferPort, board

FRAME = wf.encode_frame(wm.TICK, 2, wm.tick_request(100, bytearray(18)))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2000))
def test_decoder_survives_any_bytes_and_counts_them(data: bytes) -> None:
    d = wf.FrameDecoder()
    frames = d.feed(data)
    # a frame it accepts from noise is well-formed: it survives re-encoding
    for t, s, p in frames:
        assert wf.FrameDecoder().feed(wf.encode_frame(t, s, p)) == [(t, s, p)]
    assert d.ok == len(frames)
    # after any garbage, a delimiter and a good frame always get through
    assert d.feed(b"\x00" + FRAME)[-1] == (wm.TICK, 2, wm.tick_request(100, bytearray(18)))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=len(FRAME) - 2), st.integers(min_value=1, max_value=255))
def test_any_single_corrupted_byte_is_rejected(at: int, flip: int) -> None:
    bad = bytearray(FRAME)
    bad[at] ^= flip
    d = wf.FrameDecoder()
    frames = d.feed(bytes(bad) + b"\x00")
    assert frames == [] and d.bad >= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(st.binary(max_size=300), max_size=8))
def test_invalid_input_never_changes_a_signal_on_the_board(tmp_path: Path, chunks: list[bytes]) -> None:
    srv = board(tmp_path)
    good = wf.encode_frame(wm.TICK, 1, wm.tick_request(100, bytearray(18)))
    srv.feed(bytearray(good), len(good))
    ctl = srv.station.ctl
    before = (bytes(ctl.outputs), ctl.ticks, ctl.kernel.mode, srv.station.config_id, ctl.events.size)
    for c in chunks:
        # strip any accidental well-formed frame: invalid input only
        data = bytes(c)
        if wf.FrameDecoder().feed(b"\x00" + data + b"\x00"):
            continue
        srv.feed(bytearray(data), len(data))
    srv.feed(bytearray(b"\x00"), 1)
    assert srv.station.ctl is ctl and srv.station.internal_errors == 0
    assert (bytes(ctl.outputs), ctl.ticks, ctl.kernel.mode, srv.station.config_id, ctl.events.size) == before
    assert isinstance(srv.port, BufferPort)


def test_micropython_board_survives_random_bytes(micropython: str, tmp_path: Path) -> None:
    import subprocess

    from tests.conftest import ROOT

    board(tmp_path)  # writes the example config to the flash folder
    r = subprocess.run([micropython, "tests/firmware/micropython_fuzz.py", "20000", "7", str(tmp_path), "frames"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "fuzz ok" in r.stdout and "frames ok: 20000 well-formed frames" in r.stdout, r.stdout


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=fz.board_input())
def test_well_formed_frames_of_any_type_and_payload_never_take_the_fault_path(tmp_path: Path, data: bytes) -> None:
    # random bytes almost never pass the CRC: these frames do, so every request handler meets bad payloads
    assert fz.check_board_input(data, tmp_path) in ("valid", "refused")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replies=fz.board_replies())
def test_the_host_survives_any_reply_a_board_sends(tmp_path: Path, replies: list[bytes]) -> None:
    # `hil run` and `sim run --device`: a short or garbled reply is a LinkError, never an IndexError
    assert fz.check_board_replies(replies, tmp_path) in ("valid", "refused")
