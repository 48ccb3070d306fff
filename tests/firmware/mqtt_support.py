"""Helpers for the firmware's MQTT tests: a private mosquitto (LocalBroker), a paho
subscriber with the coordinator's credentials, and the real firmware running
free on the MicroPython unix port with network settings on its flash."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from controller.wire import frame as wf
from controller.wire import messages as wm
from tests.conftest import EXAMPLE_CONFIG, ROOT

CONTROLLER = "example-4leg"  # the example config's id: its MQTT user name
PASSWORDS = {CONTROLLER: "pw-4leg", "J2": "pw-j2", "coordinator": "pw-coord"}
_SUBSCRIBERS = itertools.count(1)
PLAN_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def start_broker(workdir: Path, tls: bool = True):
    """A started LocalBroker, or a skip naming what to install when mosquitto is missing."""
    from coordinator.local_broker import BrokerError, LocalBroker, find_mosquitto

    try:
        find_mosquitto()
    except BrokerError as e:
        pytest.skip("mosquitto binary missing (%s); CI installs it via scripts/system-deps.sh" % e)
    return LocalBroker(workdir, PASSWORDS, tls=tls).start()


class Subscriber:
    """paho with the coordinator's credentials: a persistent session that follows broker restarts."""

    def __init__(self, broker, topics=("ampelwerk/+/report", "ampelwerk/+/plan_status", "ampelwerk/+/status"),
                 user: str = "coordinator") -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[float, str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-sub-%s-%d-%d" % (user, os.getpid(), next(_SUBSCRIBERS)),
                        clean_session=False, protocol=mqtt.MQTTv311)
        c.username_pw_set(user, PASSWORDS[user])
        c.reconnect_delay_set(0.1, 0.5)
        c.on_connect = lambda cl, ud, fl, rc, props: (cl.subscribe([(t, 1) for t in topics]), self.connected.set())
        c.on_message = self._on_message
        c.connect("127.0.0.1", broker.port, keepalive=10)
        c.loop_start()
        self.client = c
        assert self.connected.wait(5), "paho subscriber did not connect"
        time.sleep(0.2)  # SUBACK

    def _on_message(self, client, userdata, msg) -> None:
        with self.lock:
            self.messages.append((time.monotonic(), msg.topic, msg.payload, bool(msg.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self.lock:
            return [m[2] for m in self.messages if m[1] == topic]

    def wait(self, predicate, timeout_s: float = 10.0) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class FreeBoard:
    """firmware/main.py --mode free on the unix port; STATE_REPORT ticks and console lines recorded."""

    def __init__(self, micropython: str, flash: Path) -> None:
        self.proc = subprocess.Popen([micropython, "firmware/main.py", "--flash", str(flash), "--mode", "free"],
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.ticks: list[tuple[float, int]] = []  # (host monotonic time, board tick count)
        self.console: list[str] = []
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._frames, self._lines)]
        for t in self.threads:
            t.start()

    def _frames(self) -> None:
        dec = wf.FrameDecoder()
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 4096)
            if not data:
                return
            now = time.monotonic()
            for kind, _, body in dec.feed(data):
                if kind == wm.STATE_REPORT:
                    self._report(now, wm.parse_tick_reply(body))

    def _report(self, now: float, reply: tuple) -> None:
        """One STATE_REPORT: (ticks, flags, mode, states, events) at host time now."""
        self.ticks.append((now, reply[0]))

    def _lines(self) -> None:
        for line in self.proc.stderr:
            self.console.append(line.decode(errors="replace").rstrip())

    def ticks_between(self, t0: float, t1: float) -> list[tuple[float, int]]:
        return [x for x in list(self.ticks) if t0 <= x[0] <= t1]

    def said(self, text: str) -> int:
        return sum(1 for line in list(self.console) if text in line)

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.threads:
            t.join(timeout=2)


def board_flash(folder: Path, broker, **network) -> Path:
    """A flash folder with the example config and network.json for the broker (plain TCP unless tls=True)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(json.loads(EXAMPLE_CONFIG.read_text()), separators=(",", ":")))
    settings = {"host": "127.0.0.1", "port": broker.port, "password": PASSWORDS[CONTROLLER], "plan_key": PLAN_KEY,
                "report_period_ms": 500, "keepalive_s": 5, "timeout_ms": 200, "reconnect_min_ms": 200,
                "reconnect_max_ms": 1000}
    if network.get("tls"):
        (folder / "ca.pem").write_bytes(Path(broker.ca_file).read_bytes())
        settings.update(port=broker.tls_port, tls=True, ca_file="ca.pem")
    settings.update({k: v for k, v in network.items() if k != "tls"})
    (folder / "network.json").write_text(json.dumps(settings))
    return folder
