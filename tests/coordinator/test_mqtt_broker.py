"""MqttBus against a real mosquitto (LocalBroker): credentials, ACL, persistent sessions, TLS, restarts."""

from __future__ import annotations

import time

import pytest

from coordinator.bus import BusError, MqttBus
from coordinator.local_broker import LocalBroker
from tests.coordinator.conftest import PASSWORDS, need_mosquitto, wait_for


def bus(b, user, cid=None, **kw):
    return MqttBus(b.url, cid or "test-" + user, user, PASSWORDS.get(user), **kw)


def test_client_without_or_with_wrong_credentials_is_refused(broker):
    with pytest.raises(BusError, match="cannot connect"):
        MqttBus(broker.url, "anon", connect_timeout_s=2).start()
    with pytest.raises(BusError, match="cannot connect"):
        MqttBus(broker.url, "bad", "J1", "wrong", connect_timeout_s=2).start()


def test_controller_cannot_publish_on_another_controllers_topics(broker):
    coord = bus(broker, "coordinator")
    got = []
    coord.subscribe("ampelwerk/+/report", lambda t, p: got.append((t, p)))
    coord.start()
    j1 = bus(broker, "J1")
    plans = []
    j1.subscribe("ampelwerk/J1/plan", lambda t, p: plans.append(p))
    j1.start()
    j2 = bus(broker, "J2").start()
    j2.publish("ampelwerk/J1/report", b"forged report")
    j2.publish("ampelwerk/J1/plan", b"forged plan", retain=True)
    j2.publish("ampelwerk/J2/report", b"own report")  # positive control, published last
    assert wait_for(lambda: got, pump=[coord, j1])
    time.sleep(0.3)
    coord.process(0)
    j1.process(0)
    assert got == [("ampelwerk/J2/report", b"own report")] and plans == []
    # J1 cannot read J2's plan topic either: a plan for J2 never reaches it
    spy = []
    j1.subscribe("ampelwerk/J2/plan", lambda t, p: spy.append(p))
    time.sleep(0.2)
    coord.publish("ampelwerk/J2/plan", b"for J2", retain=True)
    coord.publish("ampelwerk/J1/plan", b"for J1", retain=True)
    assert wait_for(lambda: plans, pump=[j1])
    assert plans == [b"for J1"] and spy == []
    for x in (coord, j1, j2):
        x.stop()


def test_reports_sent_while_coordinator_away_arrive_when_it_returns(broker):
    coord = bus(broker, "coordinator", "coordinator-session")
    got = []
    coord.subscribe("ampelwerk/+/report", lambda t, p: got.append(p))
    coord.start()
    coord.stop()  # persistent session stays on the broker
    j1 = bus(broker, "J1").start()
    for i in range(20):
        j1.publish("ampelwerk/J1/report", b"r%d" % i)
    time.sleep(0.3)
    coord2 = bus(broker, "coordinator", "coordinator-session")
    coord2.subscribe("ampelwerk/+/report", lambda t, p: got.append(p))
    coord2.start()
    assert wait_for(lambda: len(got) >= 20, pump=[coord2])
    assert got == [b"r%d" % i for i in range(20)]
    coord2.stop()
    j1.stop()


def test_broker_restart_reconnects_and_keeps_queued_messages(broker):
    coord = bus(broker, "coordinator", "coordinator-session")
    got = []
    coord.subscribe("ampelwerk/+/report", lambda t, p: got.append(p))
    coord.start()
    j1 = bus(broker, "J1", "J1-session").start()
    j1.publish("ampelwerk/J1/report", b"before")
    assert wait_for(lambda: got == [b"before"], pump=[coord])
    broker.stop()
    assert wait_for(lambda: not coord.connected.is_set(), 5)
    j1.publish("ampelwerk/J1/report", b"while down")  # kept by paho, sent after the reconnect
    broker.start()
    assert coord.wait_connected(10) and j1.wait_connected(10)
    j1.publish("ampelwerk/J1/report", b"after")
    assert wait_for(lambda: len(got) >= 3, 10, pump=[coord])
    assert got == [b"before", b"while down", b"after"]
    coord.stop()
    j1.stop()


def test_tls(tmp_path):
    need_mosquitto()
    with LocalBroker(tmp_path / "tls", PASSWORDS, tls=True) as b:
        coord = MqttBus(b.tls_url, "c", "coordinator", PASSWORDS["coordinator"], ca_file=str(b.ca_file))
        got = []
        coord.subscribe("ampelwerk/+/report", lambda t, p: got.append(p))
        coord.start()
        j1 = MqttBus(b.tls_url, "j1", "J1", PASSWORDS["J1"], ca_file=str(b.ca_file)).start()
        j1.publish("ampelwerk/J1/report", b"over tls")
        assert wait_for(lambda: got == [b"over tls"], pump=[coord])
        # without the CA the certificate is not trusted
        with pytest.raises(BusError):
            MqttBus(b.tls_url, "x", "J2", PASSWORDS["J2"], connect_timeout_s=2).start()
        coord.stop()
        j1.stop()


def test_client_id_of_another_client_takes_over_nothing(broker):
    # Issue 14, finding 2: a controller with its own password but another client's client id must
    # neither push that client off the broker nor take over (and so wipe) its persistent session.
    coord = bus(broker, "coordinator", "ampelwerk-coordinator")  # persistent session (clean_session False)
    got = []
    coord.subscribe("ampelwerk/+/report", lambda t, p: got.append(p))
    coord.start()
    coord.stop()  # away: the broker queues the reports for its session
    j1 = bus(broker, "J1", "J1").start()
    for i in range(3):
        j1.publish("ampelwerk/J1/report", b"r%d" % i)
    time.sleep(0.3)
    # J2 logs in with its own password, once as J1 and once as the coordinator (a clean session, which
    # on a broker that keys sessions by client id discards the coordinator's queue)
    as_j1 = bus(broker, "J2", "J1", clean_session=True).start()
    as_coord = bus(broker, "J2", "ampelwerk-coordinator", clean_session=True).start()
    time.sleep(0.5)
    assert j1.connected.is_set() and j1.disconnects == 0 and j1.connects == 1
    as_coord.stop()
    as_j1.stop()
    # the coordinator comes back with its own client id: its session and queue are there
    coord2 = bus(broker, "coordinator", "ampelwerk-coordinator")
    coord2.subscribe("ampelwerk/+/report", lambda t, p: got.append(p))
    coord2.start()
    assert wait_for(lambda: len(got) >= 3, pump=[coord2])
    assert got == [b"r0", b"r1", b"r2"]
    # and the controllers' own client ids (client id = user name, as the boards connect) still work
    j1.publish("ampelwerk/J1/report", b"after")
    assert wait_for(lambda: len(got) >= 4, pump=[coord2])
    assert got[-1] == b"after" and j1.disconnects == 0
    for x in (coord2, j1):
        x.stop()


def test_client_id_binding_holds_on_the_tls_listener_too(tmp_path):
    # mosquitto applies use_username_as_clientid per listener: the TLS one must have it as well
    need_mosquitto()
    with LocalBroker(tmp_path / "tls", PASSWORDS, tls=True) as b:
        j1 = MqttBus(b.tls_url, "J1", "J1", PASSWORDS["J1"], ca_file=str(b.ca_file)).start()
        imp = MqttBus(b.tls_url, "J1", "J2", PASSWORDS["J2"], ca_file=str(b.ca_file), clean_session=True).start()
        time.sleep(0.5)
        assert j1.connected.is_set() and j1.disconnects == 0
        imp.stop()
        j1.stop()
