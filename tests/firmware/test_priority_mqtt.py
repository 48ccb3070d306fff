"""Priority requests over MQTT with the real mosquitto: `ampelwerk coordinator priority` signs
and publishes a request on <prefix>/<id>/priority, the real firmware (free running on the
MicroPython unix port) checks it (coordination/priority_messages.py), preempts, and answers on
<prefix>/<id>/priority_status; a forged, a replayed and an unknown-class request are refused."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ampelwerk.cli import main
from controller.coordination.priority_messages import PriorityRequest, decode_priority_status, encode_priority
from controller.coordination.plan_signature import parse_key
from controller.events import priority_codes as ev
from controller.safety.signal_states import GREEN
from tests.firmware.mqtt_support import CONTROLLER, PASSWORDS, PLAN_KEY, FreeBoard, Subscriber, board_flash

pytestmark = pytest.mark.micropython

PRIORITY = "ampelwerk/%s/priority" % CONTROLLER
PRIORITY_STATUS = "ampelwerk/%s/priority_status" % CONTROLLER
SENDER = "coordinator-priority"
SENDER_PASSWORD = "pw-prio"


class EventBoard(FreeBoard):
    """The free-running board, with the events and states of its STATE_REPORT frames kept."""

    def __init__(self, micropython: str, flash: Path) -> None:
        self.events: list[tuple[int, int]] = []
        self.states: list[bytes] = []
        super().__init__(micropython, flash)

    def _report(self, now: float, reply: tuple) -> None:
        super()._report(now, reply)
        self.states.append(reply[3])
        self.events.extend((code, param) for _, code, param in reply[4])


def test_a_signed_request_from_the_command_line_preempts_the_board(micropython: str, tmp_path: Path,
                                                                  capsys) -> None:
    from coordinator.local_broker import BrokerError, LocalBroker, controller_acl, find_mosquitto

    try:
        find_mosquitto()
    except BrokerError as e:
        pytest.skip("mosquitto binary missing (%s); CI installs it via scripts/system-deps.sh" % e)
    users = dict(PASSWORDS)
    users[SENDER] = SENDER_PASSWORD
    broker = LocalBroker(tmp_path / "broker", users, acl=controller_acl(coordinator_users=("coordinator", SENDER)))
    broker.start()
    flash = board_flash(tmp_path / "flash", broker)
    raw = json.loads((flash / "config.json").read_text())
    raw["priority"] = {"classes": [{"id": "ems", "kind": "emergency", "stage": "S3", "exit_stage": "S4",
                                    "preempt_min_green_ms": 2000, "request_timeout_ms": 60000}]}
    (flash / "config.json").write_text(json.dumps(raw))
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({CONTROLLER: PLAN_KEY}))
    keys.chmod(0o600)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({CONTROLLER: "ab" * 32}))
    forged.chmod(0o600)
    sub = Subscriber(broker, topics=(PRIORITY_STATUS, "ampelwerk/+/status"))
    board = EventBoard(micropython, flash)
    args = ["coordinator", "priority", "--intersection", CONTROLLER, "--broker", broker.url,
            "--password", SENDER_PASSWORD, "--wait", "10"]
    try:
        assert sub.wait(lambda: sub.on("ampelwerk/%s/status" % CONTROLLER)[-1:] == [b"online"], 15), board.console
        assert sub.wait(lambda: board.said("mqtt: connected") >= 1, 5)
        time.sleep(0.5)  # the board's SUBSCRIBE to its priority topic
        assert main(args + ["--class", "ems", "--on", "--keys", str(keys)]) == 0, board.console
        assert "taken: ems on at %s; 1 request(s) of ems counted" % CONTROLLER in capsys.readouterr().out
        # the board preempts: request (102), entry (105), dwell in S3 (K5, K7 green: 107)
        assert sub.wait(lambda: (ev.PREEMPT_BEGIN_DWELL, 1) in board.events, 30), board.console[-10:]
        assert (ev.PREEMPT_CALL_INPUT_ON, 1) in board.events and (ev.PREEMPT_ENTRY_STARTED, 1) in board.events
        k5, k7 = 4, 6
        assert board.states[-1][k5] == GREEN and board.states[-1][k7] == GREEN
        # a forged key, an unknown class: refused, and counted nowhere
        assert main(args + ["--class", "ems", "--on", "--keys", str(forged)]) == 1
        assert "signature does not match" in capsys.readouterr().out
        assert main(args + ["--class", "tram", "--on", "--keys", str(keys)]) == 1
        assert "class \"tram\" is not a priority class of %s (ems)" % CONTROLLER in capsys.readouterr().out
        # a replay of an old request is refused
        now = int(time.time() * 1000)
        old = encode_priority(PriorityRequest(CONTROLLER, 5, now, "ems", True), parse_key(PLAN_KEY))
        sub.client.publish(PRIORITY, old, qos=1).wait_for_publish(5)
        assert sub.wait(lambda: any(decode_priority_status(p)["seq"] == 5 for p in sub.on(PRIORITY_STATUS)), 10)
        replay = [decode_priority_status(p) for p in sub.on(PRIORITY_STATUS) if decode_priority_status(p)["seq"] == 5]
        assert replay[0]["result"] == "replayed"
        # the check-out: the board leaves the dwell (111)
        assert main(args + ["--class", "ems", "--off", "--keys", str(keys)]) == 0
        assert sub.wait(lambda: (ev.PREEMPT_BEGIN_EXIT, 1) in board.events, 15), board.console[-10:]
        assert board.said("priority request taken") == 2 and board.said("priority request refused") == 3
    finally:
        board.stop()
        sub.close()
        broker.stop()
