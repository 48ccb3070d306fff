"""Message buses for the coordinator: in-process (simulation, tests) and MQTT (paho). Host only.

Both offer ``subscribe(filter, handler)`` with ``handler(topic, payload)`` and
``publish(topic, payload, retain=False)``; topic filters use MQTT's ``+`` and
``#``. InProcessBus is synchronous and deterministic: a message published from
inside a handler is delivered after the current one, in publish order, to the
handlers in subscription order; retained messages reach later subscribers.
MqttBus speaks MQTT 3.1.1 over paho-mqtt (mqtt:// and mqtts:// URLs, user and
password, a CA file for TLS), with a persistent session (clean_session False)
and QoS 1 both ways, so messages published while the coordinator is away are
delivered when it comes back; it reconnects by itself after a loss.
Incoming messages queue up until ``process()`` hands them to the handlers in
the caller's thread, so a service never sees two threads. Filters without
wildcards are looked up by topic (a shard subscribes one topic per controller
and kind, thousands of them), then the wildcard filters are matched in order.
"""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
import time
from collections import deque
from typing import Callable
from urllib.parse import unquote, urlparse

Handler = Callable[[str, bytes], None]
SUBSCRIBE_BATCH = 200  # topic filters per SUBSCRIBE packet when (re)subscribing on connect
log = logging.getLogger("coordinator.bus")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter matching: ``+`` one level, ``#`` (last) the rest including none."""
    f = topic_filter.split("/")
    t = topic.split("/")
    for i, part in enumerate(f):
        if part == "#":
            return i == len(f) - 1
        if i >= len(t):
            return False
        if part != "+" and part != t[i]:
            return False
    return len(f) == len(t)


class InProcessBus:
    """Synchronous, deterministic MQTT-like bus in one process (no QoS: nothing is ever lost)."""

    def __init__(self) -> None:
        self.subscriptions: list[tuple[str, Handler]] = []
        self.retained: dict[str, bytes] = {}
        self._queue: deque[tuple[str, bytes]] = deque()
        self._delivering = False
        self.published = 0

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Add a handler; retained messages that match are delivered to it now."""
        self.subscriptions.append((topic_filter, handler))
        for t, p in list(self.retained.items()):
            if topic_matches(topic_filter, t):
                handler(t, p)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Deliver to every matching handler (after any delivery in progress)."""
        if "+" in topic or "#" in topic:
            raise ValueError("topic %r has a wildcard: publish to a concrete topic" % topic)
        self.published += 1
        if retain:
            if payload:
                self.retained[topic] = bytes(payload)
            else:
                self.retained.pop(topic, None)
        self._queue.append((topic, bytes(payload)))
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._queue:
                t, p = self._queue.popleft()
                for f, h in list(self.subscriptions):
                    if topic_matches(f, t):
                        h(t, p)
        finally:
            self._delivering = False


class BusError(RuntimeError):
    """The MQTT connection could not be set up; the text says what to do."""


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """mqtt://host[:1883] or mqtts://host[:8883] -> (host, port, tls)."""
    u = urlparse(url)
    if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
        raise BusError("broker URL %r: expected mqtt://host[:port] or mqtts://host[:port]" % url)
    tls = u.scheme == "mqtts"
    return u.hostname, u.port or (8883 if tls else 1883), tls


class MqttBus:
    """paho-mqtt client: persistent session, QoS 1, reconnects; messages handed out by process().

    Credentials may also come in the URL (mqtt://user:password@host:port).
    """

    def __init__(self, url: str, client_id: str, username: str | None = None, password: str | None = None,
                 ca_file: str | None = None, clean_session: bool = False, keepalive_s: int = 30,
                 connect_timeout_s: float = 10.0) -> None:
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            raise BusError("paho-mqtt is not installed: pip install 'paho-mqtt>=2.0'") from None
        self._mqtt = mqtt
        host, port, tls = parse_broker_url(url)
        u = urlparse(url)
        username = username if username is not None else (unquote(u.username) if u.username else None)
        password = password if password is not None else (unquote(u.password) if u.password else None)
        self.url = url
        self.client_id = client_id
        self.subscriptions: list[tuple[str, Handler]] = []
        self._exact: dict[str, list[Handler]] = {}  # filters without wildcards, by topic
        self._wild: list[tuple[str, Handler]] = []
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected = threading.Event()
        # subscriptions sent and not yet acknowledged (message ids); start() and subscribe() return once the
        # broker acknowledged theirs, so nothing published after them is missed
        self._unacked: set[int] = set()
        self._acked = threading.Condition()
        self.refused: str | None = None
        self.connects = 0
        self.disconnects = 0
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session,
                        protocol=mqtt.MQTTv311)
        if username is not None:
            c.username_pw_set(username, password)
        if tls:
            ctx = ssl.create_default_context(cafile=ca_file)
            c.tls_set_context(ctx)
        elif ca_file:
            raise BusError("a CA file was given but the broker URL %r is not mqtts://" % url)
        c.max_queued_messages_set(0)  # keep every QoS 1 message while disconnected
        c.max_inflight_messages_set(100)
        c.reconnect_delay_set(0.2, 5)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_socket_open = _no_delay
        self.client = c
        self._host, self._port, self._keepalive = host, port, keepalive_s
        self._timeout = connect_timeout_s
        self._stopping = False

    # paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.refused = str(reason_code)
            log.error("broker %s refused %s: %s", self.url, self.client_id, reason_code)
            return
        self.refused = None
        self.connects += 1
        # (re)subscribe every time: a broker that lost its state forgets them
        filters = list(dict.fromkeys(f for f, _ in self.subscriptions))
        for k in range(0, len(filters), SUBSCRIBE_BATCH):
            self._send_subscribe(filters[k:k + SUBSCRIBE_BATCH])
        self.connected.set()
        log.info("connected to %s as %s (session present: %s)", self.url, self.client_id,
                 getattr(flags, "session_present", "?"))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        with self._acked:  # a lost connection acknowledges nothing more; the reconnect subscribes again
            self._unacked.clear()
            self._acked.notify_all()
        self.disconnects += 1
        if self._stopping:
            return
        log.warning("disconnected from %s (%s); reconnecting", self.url, reason_code)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._acked:
            self._unacked.discard(mid)
            self._acked.notify_all()

    def _send_subscribe(self, topic_filters: str | list[str]) -> None:
        """One SUBSCRIBE packet for one filter or a list of them."""
        arg = topic_filters if isinstance(topic_filters, str) else [(f, 1) for f in topic_filters]
        with self._acked:
            rc, mid = self.client.subscribe(arg, qos=1) if isinstance(arg, str) else self.client.subscribe(arg)
            if rc == self._mqtt.MQTT_ERR_SUCCESS:
                self._unacked.add(mid)

    def _wait_subscribed(self) -> bool:
        with self._acked:
            return self._acked.wait_for(lambda: not self._unacked, self._timeout)

    def _on_message(self, client, userdata, msg) -> None:
        self.inbox.put((msg.topic, bytes(msg.payload)))

    def start(self) -> "MqttBus":
        """Connect and run paho's network thread; waits for the first connection (BusError if none)."""
        # The first connection is made here, so a refused or unreachable broker is said at once;
        # reconnects after it are paho's (loop_start).
        try:
            self.client.connect(self._host, self._port, self._keepalive)
        except ConnectionRefusedError:
            raise BusError("cannot connect to %s as %s: connection refused (no broker listens on %s port %d: is it "
                           "running, is the port right?)" % (self.url, self.client_id, self._host, self._port)) from None
        except (OSError, ValueError) as e:
            raise BusError("cannot connect to %s: %s" % (self.url, e)) from None
        self.client.loop_start()
        if not self.connected.wait(self._timeout):
            self.client.loop_stop()
            why = self.refused or "no answer within %g s" % self._timeout
            raise BusError("cannot connect to %s as %s: %s (check the URL, user, password and CA file)" % (
                self.url, self.client_id, why))
        if not self._wait_subscribed():
            self.client.loop_stop()
            raise BusError("connected to %s as %s, but the broker did not acknowledge the subscriptions within %g s"
                           % (self.url, self.client_id, self._timeout))
        return self

    def stop(self) -> None:
        """Disconnect cleanly (the broker keeps a persistent session) and stop the network thread."""
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """QoS 1 subscription; kept and renewed on every reconnect."""
        self.subscriptions.append((topic_filter, handler))
        if "+" in topic_filter or "#" in topic_filter:
            self._wild.append((topic_filter, handler))
        else:
            self._exact.setdefault(topic_filter, []).append(handler)
        if self.connected.is_set():
            self._send_subscribe(topic_filter)
            self._wait_subscribed()  # not acknowledged in time: the next reconnect subscribes again

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """QoS 1 publish; while disconnected paho keeps it and sends it after the reconnect."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    def process(self, timeout_s: float = 0.0, limit: int = 100000) -> int:
        """Hand queued messages to the handlers in this thread; waits up to timeout_s for the first."""
        n = 0
        try:
            item = self.inbox.get(timeout=timeout_s) if timeout_s > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return 0
        while True:
            t, p = item
            handlers = self._exact.get(t, [])
            if self._wild:
                handlers = handlers + [h for f, h in self._wild if topic_matches(f, t)]
            for h in handlers:
                try:
                    h(t, p)
                except Exception:
                    log.exception("handler for %s failed", t)
            n += 1
            if n >= limit:
                return n
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return n

    def wait_connected(self, timeout_s: float) -> bool:
        return self.connected.wait(timeout_s)


def _no_delay(client, userdata, sock) -> None:
    """TCP_NODELAY: small QoS 1 messages go out at once instead of waiting on delayed ACKs (~40 ms)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def now_ms() -> int:
    """Wall-clock Unix epoch ms (for callers of the service that run in real time)."""
    return int(time.time() * 1000)
