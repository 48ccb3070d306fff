"""Network settings on flash (firmware/network_settings.py): defaults, every
problem reported with field, value and range, the key never quoted; and the
coordination link's outbox (firmware/coordination_link.py) without a broker:
bounded, oldest dropped and counted, backoff doubling with jitter to its cap,
a bad username refused. Plain functions, CPython."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware import network_settings as ns
from firmware.coordination_link import CoordinationLink

KEY = "ab" * 32


def test_defaults_fill_in() -> None:
    s = ns.check({"host": "broker.local", "password": "pw", "plan_key": KEY})
    assert s["port"] == 1883 and s["tls"] is False and s["report_period_ms"] == 60000 and s["prefix"] == "ampelwerk"
    assert s["keepalive_s"] == 60 and s["timeout_ms"] == 500 and s["username"] is None and s["ca_der"] is None


def test_every_problem_is_named_with_value_and_range() -> None:
    with pytest.raises(ns.SettingsError) as e:
        ns.check({"host": "", "port": 70000, "tls": "yes", "password": 5, "plan_key": "secret-key-xyz",
                  "report_period_ms": 100, "timeout_ms": 5000, "prefix": "a/b", "colour": "red",
                  "reconnect_min_ms": 9000, "reconnect_max_ms": 5000})
    text = "\n".join(e.value.errors)
    for want in ("host=''", "port=70000 is outside 1..65535", "tls='yes' must be true or false", "password=5",
                 "plan_key=14 characters must be 64 hex digits", "report_period_ms=100 is outside 500..3600000 ms",
                 "timeout_ms=5000 is outside 50..1500 ms", "prefix='a/b'", "unknown field 'colour'",
                 "reconnect_min_ms=9000 is above reconnect_max_ms=5000"):
        assert want in text, (want, text)
    assert "secret-key-xyz" not in text  # a key is never quoted
    assert len(e.value.errors) == 10


def test_tls_needs_a_ca_on_flash(tmp_path: Path) -> None:
    with pytest.raises(ns.SettingsError, match="tls=true needs ca_file"):
        ns.check({"host": "h", "password": "p", "plan_key": KEY, "tls": True})
    with pytest.raises(ns.SettingsError, match="ca_file='ca.pem' not found"):
        ns.check({"host": "h", "password": "p", "plan_key": KEY, "tls": True, "ca_file": "ca.pem"}, str(tmp_path))
    (tmp_path / "ca.der").write_bytes(b"\x30\x82derbytes")
    s = ns.check({"host": "h", "password": "p", "plan_key": KEY, "tls": True, "ca_file": "ca.der"}, str(tmp_path))
    assert s["port"] == 8883 and s["ca_der"] == b"\x30\x82derbytes"


def test_load_from_flash(tmp_path: Path) -> None:
    assert ns.load(str(tmp_path)) is None  # no file: no network, no error
    (tmp_path / "network.json").write_text("{not json")
    with pytest.raises(ns.SettingsError, match="not JSON"):
        ns.load(str(tmp_path))
    (tmp_path / "network.json").write_text(json.dumps({"host": "h", "password": "p", "plan_key": KEY}))
    assert ns.load(str(tmp_path))["host"] == "h"


class StubAgent:
    """CoordinationAgent-shaped: a report due every call to advance with >= 1000 ms."""

    def __init__(self, controller_id: str = "J1") -> None:
        self.controller_id = controller_id
        self.report_topic = "ampelwerk/%s/report" % controller_id
        self.plan_topic = "ampelwerk/%s/plan" % controller_id
        self.plan_status_topic = "ampelwerk/%s/plan_status" % controller_id
        self.status_topic = "ampelwerk/%s/status" % controller_id
        self.seq = 0
        self.last_reason = -1
        self.last_text = ""

    def advance(self, elapsed_ms: int) -> bool:
        return elapsed_ms >= 1000

    def report(self, wall_ms: int) -> bytes:
        self.seq += 1
        return b"report %d" % self.seq


def offline_link(**over) -> CoordinationLink:
    from coordinator.local_broker import free_port

    settings = ns.check({"host": "127.0.0.1", "port": free_port(), "password": "p", "plan_key": KEY,
                         "timeout_ms": 100, "reconnect_min_ms": 1000, "reconnect_max_ms": 8000, **over})
    lines: list[str] = []
    link = CoordinationLink(settings, lines.append)
    link.lines = lines
    agent = StubAgent()
    link.agent = agent
    link.client = link._make_client(agent)
    return link


def test_outbox_keeps_the_newest_and_counts_the_dropped() -> None:
    link = offline_link()
    now = 0
    link.poll(now, 0)  # the first poll starts the link's clock
    for _ in range(20):
        now += 1000
        link.poll(now, 1795305600000 + now)
    assert link.reports_queued == 20 and link.count == 16 and link.reports_dropped == 4
    kept = [link.payloads[(link.head + k) % 16] for k in range(16)]
    assert kept == [b"report %d" % n for n in range(5, 21)]  # in order, the oldest went
    assert link.reports_sent == 0 and link.connects == 0 and link.errors == 0


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    link = offline_link()
    waits = []
    now = 0
    for _ in range(7):
        link.poll(now, 0)
        waits.append(link.wait_ms)
        now += link.wait_ms  # poll again exactly when the next attempt is due
    steps = [1000, 2000, 4000, 8000, 8000, 8000, 8000]
    assert all(s * 3 // 4 <= w <= s for w, s in zip(waits, steps)), waits
    assert link.connect_failures == 7 and "next attempt in" in link.lines[-1]
    link.poll(now - 10, 0)  # 10 ms before the next attempt is due: none yet
    assert link.connect_failures == 7


def test_username_must_be_the_controller_id() -> None:
    from controller.config.loading import load_file
    from controller.core import Controller
    from tests.conftest import EXAMPLE_CONFIG

    ctl = Controller(load_file(EXAMPLE_CONFIG))
    link = offline_link(username="someone-else")
    link.agent = link.client = None
    link.attach(ctl)
    assert link.agent is None and link.errors == 1 and "is not the config's controller id" in link.lines[-1]
    good = offline_link(username="example-4leg")
    good.agent = good.client = None
    good.attach(ctl)
    assert good.agent is not None and good.client.user == "example-4leg" and good.errors == 0


def test_network_files_for_flash_and_the_virtual_board(tmp_path: Path) -> None:
    from firmware.host_flash import flash_commands, network_files

    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "broker-ca.der").write_bytes(b"\x30\x82der")
    src = tmp_path / "net.json"
    src.write_text(json.dumps({"host": "broker.city", "tls": True, "ca_file": "certs/broker-ca.der", "password": "p",
                               "plan_key": KEY}))
    files = network_files(src, tmp_path / "flash")
    assert [f.name for f in files] == ["network.json", "broker-ca.der"]
    assert json.loads(files[0].read_text())["ca_file"] == "broker-ca.der"
    assert ns.load(str(tmp_path / "flash"))["ca_der"] == b"\x30\x82der"  # what the board will read
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "main.py").write_text("")
    cmds = [c[5:] for c in flash_commands("/dev/ttyACM0", bundle, None, files)]
    assert ["fs", "cp", str(files[0]), ":network.json"] in cmds and ["fs", "cp", str(files[1]), ":broker-ca.der"] in cmds
    assert cmds[-2][-1] == ":main.py"  # still last before the reset
    src.write_text(json.dumps({"host": "broker.city", "port": 0, "password": "p", "plan_key": "00"}))
    with pytest.raises(ValueError) as e:
        network_files(src, tmp_path / "flash2")
    assert "port=0 is outside 1..65535" in str(e.value) and "plan_key=2 characters" in str(e.value)
