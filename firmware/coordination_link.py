# The board's network link to the coordinator: one MqttClient, one
# CoordinationAgent. Runs on the board; poll() is called once per pass of
# the main loop, between ticks, and does a bounded amount of work: at most
# one connect attempt (socket timeout timeout_ms, CONNACK awaited over later
# polls), one non-blocking read, a few publishes. It never raises and never
# waits for the broker, so a lost broker never stops or delays the signals.
#
# Reports and plan-status answers go into a small fixed outbox and leave it
# only when the broker has acknowledged them (QoS 1 PUBACK). On a lost
# connection everything unacknowledged is sent again, in order, after the
# reconnect, so a brief outage loses nothing while the outbox holds; when it
# overflows the oldest entry is dropped (counted). Reconnects back off
# exponentially with jitter (reconnect_min_ms doubling to reconnect_max_ms).
# Time: now_ms is the board's ticks_ms, wall_ms Unix epoch ms (docs/firmware.md).
import random

from firmware.mqtt_client import CONNECTED, DISCONNECTED, MqttClient, _ticks_diff


class CoordinationLink:
    def __init__(self, settings, log=None, outbox_size=16):
        # settings: a dict checked by network_settings.check (see there for fields)
        self.settings = settings
        self.log = log or (lambda msg: None)
        self.ctl = None
        self.agent = None
        self.client = None
        self.size = outbox_size
        self.topics = [None] * outbox_size
        self.payloads = [None] * outbox_size
        self.pids = [0] * outbox_size  # 0: not sent on this connection; -1: acknowledged
        self.is_report = bytearray(outbox_size)
        self.head = 0
        self.count = 0
        self.last_now = None
        self.wall_ms = 0
        self.wait_from = 0  # ticks when the current wait began
        self.wait_ms = 0  # how long to wait before the next attempt
        self.backoff_ms = 0  # current backoff step (before jitter); 0 = none
        self.up = False  # CONNACK seen on the current connection
        # counters (status, console, tests)
        self.connects = 0  # connections the broker accepted
        self.connect_failures = 0  # attempts that did not end in an accepted CONNACK
        self.disconnects = 0  # accepted connections lost afterwards
        self.reports_queued = 0
        self.reports_sent = 0  # acknowledged by the broker
        self.reports_dropped = 0  # pushed out of a full outbox before delivery
        self.statuses_dropped = 0
        self.plans_received = 0
        self.plans_accepted = 0
        self.plans_rejected = 0
        self.priority_received = 0  # priority requests (controller/coordination/priority_messages.py)
        self.errors = 0  # exceptions caught in the link (a bug; never reach the loop)
        self.last_error = ""

    # -- the controller --------------------------------------------------

    def attach(self, ctl, now_ms=0):
        # The station's controller changed (boot, upload, fault): a new agent.
        # Without a controller the link says offline and disconnects.
        if ctl is self.ctl:
            return
        self.ctl = ctl
        old = self.agent
        self.agent = None
        try:
            if ctl is not None:
                s = self.settings
                from controller.coordination.agent import CoordinationAgent

                agent = CoordinationAgent(ctl, s["plan_key"], s["report_period_ms"], prefix=s["prefix"])
                user = s.get("username") or agent.controller_id
                if user != agent.controller_id:
                    raise ValueError("network username %r is not the config's controller id %r" % (
                        user, agent.controller_id))
                self.agent = agent
        except Exception as e:
            self._error("coordination off: %s" % (e,))
        same = old is not None and self.agent is not None and old.controller_id == self.agent.controller_id
        if same:
            return  # same controller id: keep the connection and the outbox
        self._close_client(old)
        self.head = self.count = 0
        for i in range(self.size):
            self.topics[i] = self.payloads[i] = None
        if self.agent is not None:
            self.client = self._make_client(self.agent)
            self.backoff_ms = self.wait_ms = 0
            self.wait_from = now_ms

    def _make_client(self, agent):
        s = self.settings
        c = MqttClient(agent.controller_id, s["host"], s["port"], agent.controller_id, s["password"],
                       keepalive_s=s["keepalive_s"], clean_session=True, tls=s["tls"], ca_der=s.get("ca_der"),
                       timeout_ms=s["timeout_ms"])
        c.set_last_will(agent.status_topic, b"offline", True, 1)
        # MqttClient starts both callbacks as None, which a type checker takes for their type
        c.on_message = self._on_message  # pyright: ignore[reportAttributeAccessIssue]
        c.on_puback = self._on_puback  # pyright: ignore[reportAttributeAccessIssue]
        return c

    def _close_client(self, agent):
        c = self.client
        self.client = None
        if c is not None and c.state == CONNECTED and agent is not None:
            c.publish(agent.status_topic, b"offline", True, 0, c.last_tx)
        if c is not None:
            c.disconnect()
        if self.up:
            self.up = False

    # -- the loop --------------------------------------------------------

    def poll(self, now_ms, wall_ms):
        try:
            self._poll(now_ms, wall_ms)
        except Exception as e:  # never out of the main loop
            self._error("link error: %r" % (e,))

    def _poll(self, now_ms, wall_ms):
        self.wall_ms = wall_ms
        agent = self.agent
        if agent is None:
            return
        if self.last_now is None:
            self.last_now = now_ms
        elapsed = _ticks_diff(now_ms, self.last_now)
        self.last_now = now_ms
        if elapsed > 0 and agent.advance(elapsed):
            self._queue(agent.report_topic, agent.report(wall_ms), 1)
            self.reports_queued += 1
        c = self.client
        if c.state == DISCONNECTED:
            if self.up:
                self._lost(now_ms)
            if _ticks_diff(now_ms, self.wait_from) >= self.wait_ms:
                self._attempt(now_ms)
            return
        c.check_msg(now_ms)
        if c.state == CONNECTED:
            if not self.up:
                self._came_up(now_ms)
            self._flush(now_ms)
        elif c.state == DISCONNECTED:
            if self.up:
                self._lost(now_ms)
            else:
                self._failed(now_ms)

    def _attempt(self, now_ms):
        if not self.client.connect(now_ms):
            self._failed(now_ms)

    def _failed(self, now_ms):
        c = self.client
        self.connect_failures += 1
        self.last_error = c.last_error
        self._backoff(now_ms)
        self.log("mqtt: %s; next attempt in %d ms" % (c.last_error, self.wait_ms))

    def _backoff(self, now_ms):
        s = self.settings
        d = self.backoff_ms * 2 if self.backoff_ms else s["reconnect_min_ms"]
        if d > s["reconnect_max_ms"]:
            d = s["reconnect_max_ms"]
        self.backoff_ms = d
        # jitter: wait between 3/4 and all of the delay, so a city's boards
        # do not all come back in the same second after a broker restart
        self.wait_from = now_ms
        self.wait_ms = d - (random.getrandbits(16) * (d // 4) >> 16)

    def _came_up(self, now_ms):
        c = self.client
        a = self.agent
        self.up = True
        self.connects += 1
        self.backoff_ms = 0
        c.publish(a.status_topic, b"online", True, 1, now_ms)
        c.subscribe(a.plan_topic, 1, now_ms)
        if a.priority_gate is not None:
            c.subscribe(a.priority_topic, 1, now_ms)
        for i in range(self.size):  # everything unacknowledged goes again
            if self.pids[i] > 0:
                self.pids[i] = 0
        self.log("mqtt: connected to %s:%d as %s (connects=%d failures=%d outbox=%d)" % (
            c.host, c.port, a.controller_id, self.connects, self.connect_failures, self.count))

    def _lost(self, now_ms):
        self.up = False
        self.disconnects += 1
        self.last_error = self.client.last_error
        for i in range(self.size):
            if self.pids[i] > 0:
                self.pids[i] = 0
        self._backoff(now_ms)
        self.log("mqtt: connection lost: %s; outbox %d; next attempt in %d ms" % (
            self.last_error, self.count, self.wait_ms))

    # -- the outbox ------------------------------------------------------

    def _queue(self, topic, payload, report):
        if self.count == self.size:  # full: the oldest goes
            h = self.head
            if self.is_report[h]:
                self.reports_dropped += 1
            else:
                self.statuses_dropped += 1
            self.topics[h] = self.payloads[h] = None
            self.head = (h + 1) % self.size
            self.count -= 1
        i = (self.head + self.count) % self.size
        self.topics[i] = topic
        self.payloads[i] = payload
        self.pids[i] = 0
        self.is_report[i] = report
        self.count += 1

    def _flush(self, now_ms):
        # Send the unsent entries in order; stop at the first that cannot go
        # (in-flight table full), so the broker gets them in outbox order.
        c = self.client
        for k in range(self.count):
            i = (self.head + k) % self.size
            if self.pids[i] == 0:
                pid = c.publish(self.topics[i], self.payloads[i], False, 1, now_ms)
                if not pid:
                    return
                self.pids[i] = pid

    def _on_puback(self, pid):
        for k in range(self.count):
            i = (self.head + k) % self.size
            if self.pids[i] == pid:
                self.pids[i] = -1
                if self.is_report[i]:
                    self.reports_sent += 1
                break
        while self.count and self.pids[self.head] == -1:
            self.topics[self.head] = self.payloads[self.head] = None
            self.pids[self.head] = 0
            self.head = (self.head + 1) % self.size
            self.count -= 1

    def _on_message(self, topic, payload):
        a = self.agent
        try:
            if a is not None and a.priority_gate is not None and topic == a.priority_topic:
                return self._on_priority(a, payload)
            if a is None or topic != a.plan_topic:
                return
            self.plans_received += 1
            status = a.offer_plan(payload, self.wall_ms)
            if a.last_reason == 0:
                self.plans_accepted += 1
                self.log("mqtt: plan accepted")
            else:
                self.plans_rejected += 1
                self.log("mqtt: plan refused: %s" % (a.last_text,))
            self._queue(a.plan_status_topic, status, 0)
        except Exception as e:
            self._error("plan handling failed: %r" % (e,))

    def _on_priority(self, a, payload):
        # a preemption / transit priority request: counted by the controller when its checks pass
        self.priority_received += 1
        status = a.priority_gate.offer(payload, self.wall_ms)
        gate = a.priority_gate
        self.log("mqtt: priority request taken" if gate.last_reason == 0 else
                 "mqtt: priority request refused: %s" % (gate.last_text,))
        self._queue(a.priority_status_topic, status, 0)

    def _error(self, text):
        self.errors += 1
        self.last_error = text
        self.log(text)

    def counters(self):
        return {"state": ("disconnected", "connecting", "connected")[self.client.state] if self.client else "off",
                "connects": self.connects, "connect_failures": self.connect_failures,
                "disconnects": self.disconnects, "reports_queued": self.reports_queued,
                "reports_sent": self.reports_sent, "reports_dropped": self.reports_dropped,
                "statuses_dropped": self.statuses_dropped, "outbox": self.count,
                "plans_received": self.plans_received, "plans_accepted": self.plans_accepted,
                "plans_rejected": self.plans_rejected, "priority_received": self.priority_received,
                "errors": self.errors, "last_error": self.last_error}

    def close(self):
        # Orderly shutdown: offline, DISCONNECT.
        self._close_client(self.agent)
