"""firmware/mqtt_client.py on CPython against a scripted fake broker on a loopback
socket: packets split at every byte, several in one read, malformed and
oversized packets, refused logins, keepalive. Bad input always ends in a clean
DISCONNECTED state with a reason, never an exception."""

from __future__ import annotations

import socket

import pytest

from firmware.mqtt_client import CONNECTED, CONNECTING, DISCONNECTED, MqttClient, pem_to_der


def s16(b: bytes) -> bytes:
    return len(b).to_bytes(2, "big") + b


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def publish(topic: bytes, payload: bytes, qos: int = 0, pid: int = 0, retain: bool = False) -> bytes:
    body = s16(topic) + (pid.to_bytes(2, "big") if qos else b"") + payload
    return bytes([0x30 | qos << 1 | retain]) + varint(len(body)) + body


CONNACK_OK = b"\x20\x02\x00\x00"


class FakeBroker:
    """A listening socket; accept() gives the broker's end of the client's connection."""

    def __init__(self) -> None:
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> socket.socket:
        self.srv.settimeout(2)
        self.conn, _ = self.srv.accept()
        self.conn.settimeout(2)
        return self.conn

    def read_packet(self) -> tuple[int, bytes]:
        conn = self.conn
        first = conn.recv(1)[0]
        n = shift = 0
        while True:
            b = conn.recv(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        body = b""
        while len(body) < n:
            body += conn.recv(n - len(body))
        return first, body

    def close(self) -> None:
        if self.conn:
            self.conn.close()
        self.srv.close()


@pytest.fixture
def broker():
    b = FakeBroker()
    yield b
    b.close()


def pump(c: MqttClient, now: int = 0, times: int = 20) -> None:
    # check_msg never waits: call it a few times with a short pause for loopback delivery
    import time

    for _ in range(times):
        c.check_msg(now)
        time.sleep(0.002)


def connected_client(broker: FakeBroker, **kw) -> MqttClient:
    c = MqttClient("J1", "127.0.0.1", broker.port, "J1", "pw", keepalive_s=10, **kw)
    messages: list = []
    c.on_message = lambda t, m: messages.append((t, m))
    c.messages = messages
    assert c.connect(0) and c.state == CONNECTING
    broker.accept()
    broker.read_packet()
    broker.conn.sendall(CONNACK_OK)
    pump(c)
    assert c.state == CONNECTED
    return c


def test_connect_packet_carries_id_credentials_will_and_keepalive(broker: FakeBroker) -> None:
    c = MqttClient("J1", "127.0.0.1", broker.port, "J1", "secret", keepalive_s=30, clean_session=True)
    c.set_last_will("ampelwerk/J1/status", b"offline", retain=True, qos=1)
    assert c.connect(0)
    broker.accept()
    first, body = broker.read_packet()
    assert first == 0x10
    assert body[:7] == s16(b"MQTT") + b"\x04"
    flags = body[7]
    assert flags == 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02  # user, password, will retain, will QoS 1, will, clean
    assert int.from_bytes(body[8:10], "big") == 30
    assert body[10:] == s16(b"J1") + s16(b"ampelwerk/J1/status") + s16(b"offline") + s16(b"J1") + s16(b"secret")


def test_connack_split_at_every_byte(broker: FakeBroker) -> None:
    c = MqttClient("J1", "127.0.0.1", broker.port)
    c.connect(0)
    broker.accept()
    broker.read_packet()
    for i, b in enumerate(CONNACK_OK):
        broker.conn.sendall(bytes([b]))
        pump(c, times=5)
        assert c.state == (CONNECTED if i == 3 else CONNECTING)
    assert c.connack_code == 0


def test_publishes_split_and_merged_arrive_whole_and_in_order(broker: FakeBroker) -> None:
    c = connected_client(broker)
    p1 = publish(b"ampelwerk/J1/plan", b"x" * 300, qos=1, pid=7)
    p2 = publish(b"ampelwerk/J1/plan", b"second", qos=0)
    p3 = publish(b"a/b", b"", qos=1, pid=65535)
    stream = p1 + p2 + p3
    for k in range(0, len(stream), 13):  # odd-sized fragments, packet borders anywhere
        broker.conn.sendall(stream[k:k + 13])
        pump(c, times=3)
    pump(c)
    assert c.messages == [("ampelwerk/J1/plan", b"x" * 300), ("ampelwerk/J1/plan", b"second"), ("a/b", b"")]
    assert broker.read_packet() == (0x40, b"\x00\x07")  # PUBACK for each QoS 1 message
    assert broker.read_packet() == (0x40, b"\xff\xff")
    assert c.state == CONNECTED


def test_qos1_inflight_table_is_bounded_and_freed_by_puback(broker: FakeBroker) -> None:
    c = connected_client(broker, max_inflight=2)
    acked: list = []
    c.on_puback = acked.append
    p1 = c.publish("ampelwerk/J1/report", b"r1", qos=1)
    p2 = c.publish("ampelwerk/J1/report", b"r2", qos=1)
    assert p1 and p2 and p1 != p2
    assert c.publish("ampelwerk/J1/report", b"r3", qos=1) == 0  # full: the caller keeps it
    first, body = broker.read_packet()
    assert first == 0x32 and body == s16(b"ampelwerk/J1/report") + p1.to_bytes(2, "big") + b"r1"
    broker.read_packet()
    broker.conn.sendall(b"\x40\x02" + p1.to_bytes(2, "big"))
    pump(c)
    assert acked == [p1] and c.inflight_free() == 1
    assert c.publish("ampelwerk/J1/report", b"r3", qos=1)
    assert c.publish("t", b"q0", qos=0, retain=True) is True
    broker.read_packet()
    assert broker.read_packet() == (0x31, s16(b"t") + b"q0")


def test_subscribe_and_suback(broker: FakeBroker) -> None:
    c = connected_client(broker)
    pid = c.subscribe("ampelwerk/J1/plan", 1)
    first, body = broker.read_packet()
    assert first == 0x82 and body == pid.to_bytes(2, "big") + s16(b"ampelwerk/J1/plan") + b"\x01"
    broker.conn.sendall(b"\x90\x03" + pid.to_bytes(2, "big") + b"\x80")
    pump(c)
    assert c.suback_codes == [0x80] and c.state == CONNECTED


@pytest.mark.parametrize("bad, why", [
    (b"\x30\xff\xff\xff\xff\x01", "remaining length longer than 4 bytes"),
    (b"\x30\x04\x00\x09ab", "topic length"),
    (b"\x34\x05\x00\x01a\x00\x01", "PUBLISH flags"),  # QoS 2: never subscribed for it
    (b"\x36\x03\x00\x01a", "PUBLISH flags"),  # QoS 3 does not exist
    (b"\xf0\x00", "unexpected packet"),
    (b"\x20\x02\x00\x00", "unexpected packet"),  # a second CONNACK
    (b"\x40\x03\x00\x01\x00", "unexpected packet"),  # PUBACK of the wrong size
    (b"\x30\x05\x00\x02\xff\xfeX", "receive failed"),  # topic not UTF-8
    (b"\x82\x7f" + b"\x00" * 200, "exceeds"),  # non-PUBLISH too big for a 64-byte buffer
])
def test_malformed_packets_disconnect_cleanly(broker: FakeBroker, bad: bytes, why: str) -> None:
    c = connected_client(broker, max_packet=64)
    broker.conn.sendall(bad)
    pump(c)
    assert c.state == DISCONNECTED and c.sock is None
    assert why in c.last_error
    assert c.publish("t", b"x", qos=1) == 0 and c.check_msg(0) == DISCONNECTED  # still no exception


def test_packet_before_connack_is_a_protocol_error(broker: FakeBroker) -> None:
    c = MqttClient("J1", "127.0.0.1", broker.port)
    c.connect(0)
    broker.accept()
    broker.read_packet()
    broker.conn.sendall(publish(b"t", b"x"))
    pump(c)
    assert c.state == DISCONNECTED and "before the CONNACK" in c.last_error


def test_oversized_publish_is_skipped_and_the_next_one_arrives(broker: FakeBroker) -> None:
    c = connected_client(broker, max_packet=64)
    big = publish(b"ampelwerk/J1/plan", b"y" * 500, qos=0)
    small = publish(b"ampelwerk/J1/plan", b"ok", qos=1, pid=3)
    stream = big + small
    for k in range(0, len(stream), 40):
        broker.conn.sendall(stream[k:k + 40])
        pump(c, times=2)
    pump(c)
    assert c.state == CONNECTED and c.skipped == 1
    assert c.messages == [("ampelwerk/J1/plan", b"ok")]


def test_refused_login_and_closed_connection(broker: FakeBroker) -> None:
    c = MqttClient("J1", "127.0.0.1", broker.port, "J1", "wrong")
    c.connect(0)
    broker.accept()
    broker.read_packet()
    broker.conn.sendall(b"\x20\x02\x00\x04")
    pump(c)
    assert c.state == DISCONNECTED and c.connack_code == 4 and "bad user name or password" in c.last_error
    c2 = connected_client(broker)
    broker.conn.close()
    pump(c2)
    assert c2.state == DISCONNECTED and "closed" in c2.last_error


def test_callback_error_disconnects_instead_of_raising(broker: FakeBroker) -> None:
    c = connected_client(broker)

    def boom(topic, payload):
        raise RuntimeError("bug in the handler")

    c.on_message = boom
    broker.conn.sendall(publish(b"t", b"x"))
    pump(c)
    assert c.state == DISCONNECTED and "bug in the handler" in c.last_error


def test_keepalive_ping_and_silent_broker(broker: FakeBroker) -> None:
    c = connected_client(broker)  # keepalive 10 s, connected at t=0
    c.check_msg(7400)
    assert c.ping_sent == -1
    c.check_msg(7500)  # 3/4 of the keepalive without sending: PINGREQ
    assert broker.read_packet() == (0xC0, b"")
    broker.conn.sendall(b"\xd0\x00")
    pump(c, 7600)
    assert c.ping_sent == -1 and c.state == CONNECTED
    c.check_msg(15000)
    assert broker.read_packet() == (0xC0, b"")
    c.check_msg(19900)  # under half the keepalive: still waiting
    assert c.state == CONNECTED
    c.check_msg(20000)  # no PINGRESP for 5 s: the broker is gone
    assert c.state == DISCONNECTED and "PINGRESP" in c.last_error


def test_no_connack_in_time(broker: FakeBroker) -> None:
    c = MqttClient("J1", "127.0.0.1", broker.port, connack_timeout_ms=3000)
    c.connect(1000)
    broker.accept()
    c.check_msg(3900)
    assert c.state == CONNECTING
    c.check_msg(4000)
    assert c.state == DISCONNECTED and "no CONNACK" in c.last_error


def test_unreachable_broker_and_tls_without_ca() -> None:
    from coordinator.local_broker import free_port

    c = MqttClient("J1", "127.0.0.1", free_port(), timeout_ms=200)
    assert c.connect(0) is False and c.state == DISCONNECTED and "failed" in c.last_error
    t = MqttClient("J1", "127.0.0.1", free_port(), tls=True)
    assert t.connect(0) is False and "CA certificate" in t.last_error


def test_pem_to_der() -> None:
    import base64

    der = bytes(range(200))
    pem = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(
        base64.b64encode(der).decode()[i:i + 64] for i in range(0, 268, 64))
    assert pem_to_der(pem) == der and pem_to_der(pem.encode()) == der and pem_to_der(der) == der
    with pytest.raises(ValueError):
        pem_to_der("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
