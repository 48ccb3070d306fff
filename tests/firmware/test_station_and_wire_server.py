"""The board end of the wire, in-process: boot, lockstep ticks, sequence rules,
config upload (whole and valid only), fault path and the guarded test hook."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from controller.wire import frame as wf
from controller.wire import messages as wm
from controller.safety.signal_states import FLASH_YELLOW
from tests.conftest import EXAMPLE_CONFIG
from tests.firmware.wire_support import ask, board

N_DET = 18


def tick(srv, seq, pres=None):
    return ask(srv, wf.encode_frame(wm.TICK, seq, wm.tick_request(100, pres or bytearray(N_DET))))


def upload(srv, data: bytes, first_seq: int, chunk: int = 200):
    crc = zlib.crc32(data)
    seq = first_seq
    replies = []
    for off in range(0, len(data), chunk):
        replies = ask(srv, wf.encode_frame(wm.CONFIG, seq, wm.config_chunk(off, len(data), crc, data[off:off + chunk])))
        seq += 1
    return replies, seq


def test_board_without_config_flashes_and_says_why(tmp_path: Path) -> None:
    srv = board(tmp_path, config=False)
    assert srv.station.ctl is None and "no config on flash" in srv.station.reason
    [(t, seq, p)] = tick(srv, 1)
    ticks, flags, mode, states, events = wm.parse_tick_reply(p)
    assert flags & wm.TICK_NO_CONFIG and flags & wm.TICK_FLASHING
    assert set(states) == {FLASH_YELLOW} and len(states) == 64


def test_invalid_config_on_flash_starts_in_flash_with_every_problem(tmp_path: Path) -> None:
    raw = json.loads(EXAMPLE_CONFIG.read_text())
    raw["signal_groups"][0]["yellow_ms"] = 2500
    (tmp_path / "config.json").write_text(json.dumps(raw))
    srv = board(tmp_path, config=False)
    assert srv.station.ctl is None
    assert "yellow_ms=2500" in srv.station.reason and "3000" in srv.station.reason


def test_config_too_big_for_the_board_is_refused(tmp_path: Path) -> None:
    from controller.config.loading import load_file
    from firmware.boards import PROFILES, check_fits

    assert "18 detectors" in check_fits(PROFILES["esp32"], load_file(EXAMPLE_CONFIG))
    assert check_fits(PROFILES["rp2040-pico"], load_file(EXAMPLE_CONFIG)) == ""


def test_lockstep_ticks_step_the_core_once_per_seq(tmp_path: Path) -> None:
    srv = board(tmp_path)
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.HELLO, 1, bytes([wf.PROTOCOL_VERSION, 0])))
    assert t == wm.HELLO_REPLY and p[1] & wm.BOARD_CONFIG_LOADED and p[4] == 10 and p[5] == N_DET
    for seq in range(2, 12):
        [(t, s, p)] = tick(srv, seq)
        assert t == wm.TICK_REPLY and s == seq
    assert srv.station.ctl.ticks == 10
    again = tick(srv, 11)  # a retry of the last seq: same answer, no second step
    assert again[0][2] == p and srv.station.ctl.ticks == 10


def test_out_of_order_seq_is_an_error_and_changes_nothing(tmp_path: Path) -> None:
    srv = board(tmp_path)
    ask(srv, wf.encode_frame(wm.HELLO, 1, b"\x01\x00"))
    tick(srv, 2)
    before = bytes(srv.station.outputs)
    [(t, s, p)] = tick(srv, 9)
    assert t == wm.ERROR and p[0] == wm.ERR_OUT_OF_ORDER and b"expected seq 3" in p
    assert srv.station.ctl.ticks == 1 and bytes(srv.station.outputs) == before and srv.out_of_order == 1
    [(t, s, p)] = tick(srv, 3)
    assert t == wm.TICK_REPLY and srv.station.ctl.ticks == 2


def test_tick_with_the_wrong_detector_count_is_refused(tmp_path: Path) -> None:
    srv = board(tmp_path)
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.TICK, 1, wm.tick_request(100, bytearray(5))))
    assert t == wm.ERROR and p[0] == wm.ERR_BAD_PAYLOAD and b"5 detectors" in p
    assert srv.station.ctl.ticks == 0


def test_valid_upload_replaces_the_config_and_restarts(tmp_path: Path) -> None:
    srv = board(tmp_path)
    raw = json.loads(EXAMPLE_CONFIG.read_text())
    raw["id"] = "renamed"
    data = json.dumps(raw, separators=(",", ":")).encode()
    replies, _ = upload(srv, data, 1)
    (t, _, p) = replies[0]
    assert t == wm.CONFIG_ACK and p[0] == 1 and wm.get_u32(p, 1) == len(data)
    assert p[5] == 10 and p[6:16] == bytes(srv.station.ctl.outputs)  # the startup state, before any tick
    assert set(p[6:16]) == {FLASH_YELLOW, 5}  # startup flash: vehicle heads flash, walk heads dark
    assert srv.station.config_id == "renamed" and srv.station.ctl.ticks == 0
    assert json.loads((tmp_path / "config.json").read_text())["id"] == "renamed"


def test_invalid_upload_keeps_the_old_config_running(tmp_path: Path) -> None:
    srv = board(tmp_path)
    for seq in range(1, 6):
        tick(srv, seq)
    ctl = srv.station.ctl
    raw = json.loads(EXAMPLE_CONFIG.read_text())
    raw["signal_groups"][1]["min_green_ms"] = 999999
    replies, seq = upload(srv, json.dumps(raw).encode(), 6)
    (t, _, p) = replies[0]
    assert t == wm.ERROR and p[0] == wm.ERR_CONFIG_INVALID and b"min_green_ms=999999" in p
    assert srv.station.ctl is ctl and ctl.ticks == 5 and srv.station.rejected == 1
    assert json.loads((tmp_path / "config.json").read_text())["id"] == "example-4leg"


def test_upload_that_is_not_utf8_is_refused_and_the_old_config_keeps_running(tmp_path: Path) -> None:
    # a correct crc32 over bytes that are not UTF-8 text (UTF-16 with a BOM here):
    # refused like any invalid config, never the fault path
    srv = board(tmp_path)
    tick(srv, 1)
    ctl = srv.station.ctl
    data = EXAMPLE_CONFIG.read_text().encode("utf-16")
    replies, seq = upload(srv, data, 2, chunk=400)
    [(t, _, p)] = replies
    assert t == wm.ERROR and p[0] == wm.ERR_CONFIG_INVALID and b"not UTF-8" in p
    assert srv.station.ctl is ctl and srv.station.internal_errors == 0 and srv.station.rejected == 1
    [(t, _, p)] = tick(srv, seq)
    assert t == wm.TICK_REPLY and ctl.ticks == 2


def test_config_on_flash_that_is_not_utf8_starts_in_flash_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_bytes(EXAMPLE_CONFIG.read_text().encode("utf-16"))
    srv = board(tmp_path, config=False)
    assert srv.station.ctl is None and "not UTF-8" in srv.station.reason


def test_upload_with_a_wrong_checksum_or_a_gap_is_refused(tmp_path: Path) -> None:
    srv = board(tmp_path)
    ctl = srv.station.ctl
    data = EXAMPLE_CONFIG.read_bytes()
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.CONFIG, 1, wm.config_chunk(0, len(data), 1234, data)[:12 + 300]))
    assert t == wm.CONFIG_ACK and p[0] == 0
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.CONFIG, 2, wm.config_chunk(400, len(data), 1234, data[400:500])))
    assert t == wm.ERROR and p[0] == wm.ERR_CONFIG_ORDER
    small = b'{"a":1}'
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.CONFIG, 3, wm.config_chunk(0, len(small), 99, small)))
    assert t == wm.ERROR and p[0] == wm.ERR_CONFIG_CRC
    assert srv.station.ctl is ctl


def test_injected_conflict_latches_flash_only_in_a_bench_session(tmp_path: Path) -> None:
    srv = board(tmp_path)
    ask(srv, wf.encode_frame(wm.HELLO, 1, b"\x01\x00"))  # not a bench session
    bad = bytes([2] * 10)
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.TEST_INJECT, 2, bytes([10]) + bad))
    assert t == wm.ERROR and p[0] == wm.ERR_NOT_ALLOWED
    ask(srv, wf.encode_frame(wm.HELLO, 3, b"\x01\x01"))
    [(t, _, _)] = ask(srv, wf.encode_frame(wm.TEST_INJECT, 4, bytes([10]) + bad))
    assert t == wm.TEST_INJECT_ACK
    [(t, _, p)] = tick(srv, 5)
    ticks, flags, mode, states, events = wm.parse_tick_reply(p)
    assert flags & wm.TICK_FLASHING and srv.station.ctl.flashing
    assert all(s in (3, 4, 5) for s in states)
    assert any(c == 185 for _, c, _ in events)  # the monitor's alarm
    assert "apply" not in vars(srv.station.ctl.kernel)  # the hook is gone after one tick


def test_real_board_profiles_refuse_the_test_hook(tmp_path: Path) -> None:
    from firmware.boards import PROFILES

    srv = board(tmp_path)
    srv.station.profile = PROFILES["rp2040-pico"]  # as on a Pico: no test hooks
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.HELLO, 1, b"\x01\x01"))
    assert not p[1] & wm.BOARD_TEST_HOOKS
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.TEST_INJECT, 2, bytes([10]) + bytes([2] * 10)))
    assert t == wm.ERROR and p[0] == wm.ERR_NOT_ALLOWED


def test_exception_in_the_tick_drives_flash_until_power_cycle(tmp_path: Path) -> None:
    srv = board(tmp_path)
    tick(srv, 1)
    srv.station.ctl.detectors = None  # broken state: step() raises
    [(t, _, p)] = tick(srv, 2)
    _, flags, _, states, _ = wm.parse_tick_reply(p)
    assert flags & wm.TICK_FLASHING and all(s in (3, 5) for s in states)
    assert srv.station.internal_errors == 1 and "exception in the tick" in srv.station.reason
    [(t, _, _)] = ask(srv, wf.encode_frame(wm.RESET, 3, bytes([wm.RESET_POWER_CYCLE])))
    assert t == wm.RESET_ACK and srv.station.ctl is not None and srv.station.reason == ""


def test_status_reports_counters_and_config(tmp_path: Path) -> None:
    srv = board(tmp_path)
    ask(srv, b"\x05\x07garbage\x00")
    tick(srv, 1)
    [(t, _, p)] = ask(srv, wf.encode_frame(wm.STATUS, 2))
    st = wm.parse_status(p)
    assert st["ticks"] == 1 and st["rx_bad"] == 1 and st["rx_ok"] == 2 and st["config_id"] == "example-4leg"
    assert not st["flashing"] and st["mode"] == 0
