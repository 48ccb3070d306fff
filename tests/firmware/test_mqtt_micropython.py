"""firmware/mqtt_client.py under the real MicroPython interpreter against a real
mosquitto (LocalBroker with the per-controller ACL): login, refused login, QoS 1
publish seen by the coordinator, TLS with the throwaway certificate (and refused
with the wrong CA or host name), and the ACL keeping a controller off another
controller's topics."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.firmware.mqtt_support import CONTROLLER, PASSWORDS, Subscriber, start_broker

pytestmark = pytest.mark.micropython


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = start_broker(tmp_path_factory.mktemp("broker"), tls=True)
    yield b
    b.stop()


def run_client(micropython: str, job: dict) -> dict:
    job = {"host": "127.0.0.1", "user": CONTROLLER, "password": PASSWORDS[CONTROLLER], **job}
    r = subprocess.run([micropython, str(ROOT / "tests" / "firmware" / "micropython_mqtt.py"), str(ROOT)],
                       input=json.dumps(job), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_login_and_qos1_report_reaches_the_coordinator(micropython: str, broker) -> None:
    sub = Subscriber(broker)
    try:
        out = run_client(micropython, {"port": broker.port, "publish": [
            ["ampelwerk/%s/report" % CONTROLLER, "r-qos1", 1], ["ampelwerk/%s/report" % CONTROLLER, "r-qos0", 0]]})
        assert out["state"] == "connected" and out["connack"] == 0, out
        assert out["published"][0] in out["acked"] and out["published"][1] is True
        assert sub.wait(lambda: len(sub.on("ampelwerk/%s/report" % CONTROLLER)) >= 2, 5)
        assert sub.on("ampelwerk/%s/report" % CONTROLLER) == [b"r-qos1", b"r-qos0"]
    finally:
        sub.close()


def test_wrong_password_is_refused(micropython: str, broker) -> None:
    out = run_client(micropython, {"port": broker.port, "password": "not-the-password"})
    assert out["state"] == "disconnected" and out["connack"] in (4, 5), out
    assert "refused" in out["error"]


def test_tls_with_the_throwaway_certificate(micropython: str, broker, tmp_path: Path) -> None:
    sub = Subscriber(broker)
    try:
        out = run_client(micropython, {"port": broker.tls_port, "tls": True, "ca_file": str(broker.ca_file),
                                       "publish": [["ampelwerk/%s/report" % CONTROLLER, "over-tls", 1]]})
        assert out["state"] == "connected" and out["acked"] == out["published"], out
        assert sub.wait(lambda: b"over-tls" in sub.on("ampelwerk/%s/report" % CONTROLLER), 5)
    finally:
        sub.close()
    # another CA, or the right CA for another name: the handshake fails, cleanly
    from coordinator.local_broker import make_certificate

    other, _ = make_certificate(tmp_path)
    out = run_client(micropython, {"port": broker.tls_port, "tls": True, "ca_file": str(other)})
    assert out["state"] == "disconnected" and "connect to" in out["error"], out
    out = run_client(micropython, {"port": broker.tls_port, "tls": True, "ca_file": str(broker.ca_file),
                                   "server_hostname": "broker.example"})
    assert out["state"] == "disconnected" and "connect to" in out["error"], out


def test_a_controller_cannot_publish_on_another_controllers_topics(micropython: str, broker) -> None:
    sub = Subscriber(broker, topics=("ampelwerk/+/report", "ampelwerk/+/status", "ampelwerk/+/plan"))
    j2 = Subscriber(broker, topics=("ampelwerk/J2/plan",), user="J2")
    try:
        out = run_client(micropython, {"port": broker.port, "publish": [
            ["ampelwerk/J2/report", "forged-report", 1], ["ampelwerk/J2/plan", "forged-plan", 1],
            ["ampelwerk/J2/status", "forged-status", 1], ["ampelwerk/%s/plan" % CONTROLLER, "own-plan", 1],
            ["ampelwerk/%s/report" % CONTROLLER, "marker", 1]],
            "subscribe": "ampelwerk/J2/plan"})
        assert out["state"] == "connected" and out["state_after"] == "connected", out
        # the broker acknowledges and drops what the ACL denies; the marker after them arrives
        assert sub.wait(lambda: b"marker" in sub.on("ampelwerk/%s/report" % CONTROLLER), 5)
        seen = [m[2] for m in sub.messages] + [m[2] for m in j2.messages]
        assert not any(p.startswith(b"forged") for p in seen), seen
        assert b"own-plan" not in seen  # nor its own plan: only the coordinator writes plans
        assert out["suback"] and out["messages"] == []  # and it reads nothing of J2's
    finally:
        sub.close()
        j2.close()
