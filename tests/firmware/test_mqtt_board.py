"""The real firmware, free-running on the MicroPython unix port with network
settings on its flash, against a real mosquitto: it reports every period (QoS 1,
seen by the coordinator's paho subscriber), answers signed plans with a plan
status, says online/offline; and losing the broker (frozen, stopped, restarted)
never stops or slows its signals, while its outbox brings every report over once
the broker is back."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from controller.coordination.messages import (
    PLAN_BAD_SIGNATURE,
    PLAN_NOT_COORDINATED,
    Plan,
    decode_plan_status,
    decode_report,
    encode_plan,
)
from controller.coordination.plan_signature import parse_key
from tests.firmware.mqtt_support import CONTROLLER, PLAN_KEY, FreeBoard, Subscriber, board_flash, start_broker

pytestmark = pytest.mark.micropython

REPORT = "ampelwerk/%s/report" % CONTROLLER
PLAN = "ampelwerk/%s/plan" % CONTROLLER
PLAN_STATUS = "ampelwerk/%s/plan_status" % CONTROLLER
STATUS = "ampelwerk/%s/status" % CONTROLLER
TICK_MS = 100  # the virtual profile's tick


def report_seqs(sub: Subscriber) -> list[int]:
    return [decode_report(p).seq for p in sub.on(REPORT)]


def signed_plan(seq: int, key: bytes) -> bytes:
    now = int(time.time() * 1000)
    plan = Plan(CONTROLLER, "main", seq, now, now - 1000, now + 600000, 90000, 0, ["S0", "S1"], [50000, 40000])
    return encode_plan(plan, key)


def assert_ticking(board: FreeBoard, t0: float, t1: float, what: str) -> None:
    # Ticks at the profile's rate: the count rises by about one per 100 ms in
    # every second of the window, and no gap between two ticks reaches 400 ms.
    got = board.ticks_between(t0, t1)
    span = t1 - t0
    assert len(got) >= 2, "%s: no ticks at all" % what
    rose = got[-1][1] - got[0][1]
    assert rose >= 0.8 * (got[-1][0] - got[0][0]) * 1000 / TICK_MS, "%s: %d ticks in %.1f s" % (what, rose, span)
    gaps = [b[0] - a[0] for a, b in zip(got, got[1:])]
    assert max(gaps) < 0.4, "%s: the signals stalled for %.2f s" % (what, max(gaps))
    assert [t for _, t in got] == list(range(got[0][1], got[-1][1] + 1)), "%s: ticks not one by one" % what


def test_board_reports_and_answers_plans_over_tls(micropython: str, tmp_path: Path) -> None:
    broker = start_broker(tmp_path / "broker", tls=True)
    sub = Subscriber(broker)
    board = FreeBoard(micropython, board_flash(tmp_path / "flash", broker, tls=True))
    try:
        assert sub.wait(lambda: len(report_seqs(sub)) >= 3, 15), board.console
        r = decode_report(sub.on(REPORT)[0])
        assert r.controller_id == CONTROLLER and r.period_ms >= 500 and len(r.counts) == 10
        assert abs(r.wall_ms - time.time() * 1000) < 60000  # the board's wall clock, epoch ms
        assert report_seqs(sub)[:3] == [1, 2, 3]
        assert sub.on(STATUS)[0] == b"online"
        # a signed plan and a forged one, retained as the coordinator sends them
        coord = sub.client
        coord.publish(PLAN, signed_plan(7, parse_key(PLAN_KEY)), qos=1, retain=True).wait_for_publish(5)
        assert sub.wait(lambda: len(sub.on(PLAN_STATUS)) >= 1, 10), board.console
        coord.publish(PLAN, signed_plan(8, b"k" * 32), qos=1, retain=True).wait_for_publish(5)
        assert sub.wait(lambda: len(sub.on(PLAN_STATUS)) >= 2, 10), board.console
        first, second = [decode_plan_status(p) for p in sub.on(PLAN_STATUS)[:2]]
        assert first["controller"] == CONTROLLER and first["seq"] == 7
        # the example runs the actuated strategy: a good plan is refused as not coordinated
        assert first["reason"] == PLAN_NOT_COORDINATED, first
        assert second["seq"] == 8 and second["reason"] in (PLAN_NOT_COORDINATED, PLAN_BAD_SIGNATURE), second
        assert board.said("plan refused") == 2
        # the board dies: the broker tells everyone with the last will
        board.proc.kill()
        assert sub.wait(lambda: sub.on(STATUS)[-1:] == [b"offline"], 15)
    finally:
        board.stop()
        sub.close()
        broker.stop()


def test_losing_the_broker_never_stops_the_signals_and_loses_no_report(micropython: str, tmp_path: Path) -> None:
    broker = start_broker(tmp_path / "broker", tls=False)
    sub = Subscriber(broker)
    board = FreeBoard(micropython, board_flash(tmp_path / "flash", broker))
    try:
        assert sub.wait(lambda: len(report_seqs(sub)) >= 4, 15), board.console
        t_up = time.monotonic()
        assert_ticking(board, t_up - 1.5, t_up, "connected")

        # 1. the broker freezes (SIGSTOP): the connection stays open, nothing answers
        os.kill(broker.proc.pid, signal.SIGSTOP)
        t_freeze = time.monotonic()
        time.sleep(5.0)  # reports pile up unacknowledged (in flight, then in the outbox)
        t_thaw = time.monotonic()
        assert_ticking(board, t_freeze, t_thaw, "broker frozen")
        os.kill(broker.proc.pid, signal.SIGCONT)

        # 2. the broker stops: refused connects, backing off
        time.sleep(1.0)
        broker.stop()
        t_stop = time.monotonic()
        time.sleep(3.0)
        t_restart = time.monotonic()
        assert_ticking(board, t_stop, t_restart, "broker stopped")
        failures = board.said("next attempt in")
        assert failures >= 2, board.console  # it kept trying, with backoff (200 ms doubling to 1 s)
        assert failures <= 12, board.console

        # 3. back: the board reconnects and its outbox drains, in order
        broker.start()
        assert sub.connected.wait(5)
        ok = sub.wait(lambda: board.said("mqtt: connected") >= 2 and len(set(report_seqs(sub))) >= max(report_seqs(sub)) > 20, 20)
        t_end = time.monotonic()
        assert ok, (report_seqs(sub), board.console[-20:])
        assert_ticking(board, t_restart, t_end, "reconnecting")
        seqs = report_seqs(sub)
        # every report made while the broker was frozen or gone arrives once it is back,
        # in order (a frozen broker may deliver some twice: QoS 1 is at least once)
        assert sorted(set(seqs)) == list(range(1, max(seqs) + 1)), seqs
        firsts = sorted(set(seqs), key=seqs.index)
        assert firsts == sorted(firsts), seqs
        assert max(seqs) >= (t_end - t_up) / 0.5 * 0.6, seqs  # a report every 500 ms throughout
        assert not board.said("reports dropped") and not board.said("link error"), board.console
        assert board.said("connection lost") >= 1
    finally:
        board.stop()
        sub.close()
        broker.stop()


def test_virtual_board_in_lockstep_joins_the_broker(micropython: str, tmp_path: Path) -> None:
    # `ampelwerk firmware virtual --network FILE`: the bench ticks the board, the link reports
    import json

    from controller.config.loading import load_file
    from firmware.host_virtual import VirtualBoard
    from hil.proxy import DeviceController
    from tests.conftest import EXAMPLE_CONFIG

    broker = start_broker(tmp_path / "broker", tls=True)
    sub = Subscriber(broker)
    flash = board_flash(tmp_path / "settings", broker, tls=True)
    network = json.loads((flash / "network.json").read_text())
    network["ca_file"] = str(broker.ca_file)  # a host path: copied onto the virtual flash
    (tmp_path / "net.json").write_text(json.dumps(network))
    ix = load_file(EXAMPLE_CONFIG)
    board = VirtualBoard(EXAMPLE_CONFIG, network=tmp_path / "net.json")
    try:
        with board as port, DeviceController(port, ix) as dev:
            presence = bytearray(ix.n_detectors)
            end = time.monotonic() + 15
            while time.monotonic() < end and len(report_seqs(sub)) < 2:
                dev.step(100, presence)
                time.sleep(0.02)
        assert report_seqs(sub)[:2] == [1, 2], board.console
        assert any("mqtt: connected" in line for line in board.console)
    finally:
        sub.close()
        broker.stop()
