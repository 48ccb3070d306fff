"""The simulated side of bench/coordinator_load.py: controllers that report and answer plans, and a replayer.

Each simulated controller is a real MQTT connection with its own user (the
per-controller ACL) that reports once a period and answers every plan after
checking it with the controller's own code (CoordinationAgent); the replayer
publishes a recorded report stream at given rates. Both run in their own
processes (worker_main, replayer_main), started by coordinator_load.py.
"""

from __future__ import annotations

import json
import random
import resource
import selectors
import socket
import time
from pathlib import Path

BASE_CONFIG = Path(__file__).resolve().parent.parent / "tests" / "coordinator" / "data" / "arterial5" / "J1.json"


def random_report(rng: random.Random, cid: str, seq: int, wall_ms: int, period_ms: int) -> bytes:
    """A report of a two-group coordinated controller with random counts and occupancies."""
    from controller.coordination.messages import MODE_COORDINATED, Report, encode_report

    return encode_report(Report(cid, seq, wall_ms, period_ms, MODE_COORDINATED, 0, ["K1", "K2"],
                                [rng.randint(0, 2), rng.randint(0, 4)], [rng.randint(0, 300), rng.randint(0, 500)],
                                []))


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def make_checker(cid: str, key: bytes):
    """plan payload, wall_ms -> plan status payload, with the controller's own checks (CoordinationAgent)."""
    from controller.config.loading import load_dict
    from controller.coordination.agent import CoordinationAgent
    from controller.core import Controller

    ix = load_dict(dict(json.loads(BASE_CONFIG.read_text()), id=cid))
    agent = CoordinationAgent(Controller(ix, "coordinated", event_capacity=64), key)
    return lambda payload, wall_ms: agent.offer_plan(payload, wall_ms)


def worker_main(host: str, port: int, ids: list[str], keys_hex: dict[str, str], password_of: dict[str, str],
                report_period_s: float, pipe, stop) -> None:
    import paho.mqtt.client as mqtt
    raise_fd_limit()
    rng = random.Random(ids[0])
    sel = selectors.DefaultSelector()
    checkers = {cid: make_checker(cid, bytes.fromhex(keys_hex[cid])) for cid in ids}
    state = {"connected": 0, "subscribed": 0, "answered": 0, "reports": 0, "connect_fail": 0}
    seqs = {cid: 0 for cid in ids}
    clients = {}

    def on_connect(client, userdata, flags, rc, props):
        if rc.is_failure:
            state["connect_fail"] += 1
            return
        state["connected"] += 1
        client.subscribe("ampelwerk/%s/plan" % userdata, qos=1)

    def on_subscribe(client, userdata, mid, rcs, props):
        state["subscribed"] += 1

    def on_message(client, userdata, msg):
        status = checkers[userdata](msg.payload, int(time.time() * 1000))
        client.publish("ampelwerk/%s/plan_status" % userdata, status, qos=1)
        state["answered"] += 1

    t0 = time.perf_counter()
    for cid in ids:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=True, userdata=cid,
                        protocol=mqtt.MQTTv311)
        c.username_pw_set(cid, password_of[cid])
        c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
        c.max_inflight_messages_set(0)
        c.connect(host, port, keepalive=120)
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel.register(c.socket(), selectors.EVENT_READ, c)
        clients[cid] = c
        if len(clients) % 200 == 0:  # take the CONNACKs as we go
            for key, _ in sel.select(0):
                key.data.loop_read()
    connect_s = time.perf_counter() - t0
    ready_sent = False
    # each controller reports once a period, at its own phase of it (as real ones do, each at its own cycle's
    # end): controller k of this worker at k/len(ids) of the period, so reports come evenly, not in one burst
    order = list(clients.items())
    period_start = time.monotonic() + report_period_s
    next_k = 0
    next_misc = time.monotonic() + 5
    while not stop.is_set():
        now = time.monotonic()
        for key, _ in sel.select(0.002 if ready_sent else 0.05):
            c = key.data
            c.loop_read()
            if c.want_write():  # a PUBACK or a plan status queued from inside a callback
                c.loop_write()
        if not ready_sent and state["subscribed"] >= len(ids):
            pipe.send(("ready", connect_s, "CoordinationAgent"))
            ready_sent = True
        now = time.monotonic()
        if ready_sent and now >= period_start:
            due = min(len(order), int((now - period_start) / report_period_s * len(order)) + 1)
            wall = int(time.time() * 1000)
            for cid, c in order[next_k:due]:
                seqs[cid] += 1
                c.publish("ampelwerk/%s/report" % cid, random_report(rng, cid, seqs[cid], wall,
                                                                     int(report_period_s * 1000)), qos=1)
                if c.want_write():  # the socket took only part of it
                    c.loop_write()
                state["reports"] += 1
            next_k = due
            if next_k >= len(order):
                next_k = 0
                period_start += report_period_s
                if period_start < now:  # fell behind: do not try to catch up in a burst
                    period_start = now
        if now >= next_misc:
            # keepalives, and whatever a full socket left unwritten; the writes are otherwise done where
            # they are queued (a scan of every client at every wake-up cost more than the clients' work)
            for c in clients.values():
                c.loop_misc()
                if c.want_write():
                    c.loop_write()
            next_misc = now + 1
    for c in clients.values():
        c.disconnect()
    pipe.send(("done", dict(state)))


def record_reports(ids: list[str], rounds: int, wall0_ms: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """A recorded report stream: ``rounds`` reports of every controller (seq 1.., one round per second)."""
    rng = random.Random(seed)
    return [("ampelwerk/%s/report" % cid, random_report(rng, cid, r + 1, wall0_ms + 1000 * r, 1000))
            for r in range(rounds) for cid in ids]


def replayer_main(port: int, ids: list[str], rates: list[int], step_s: float, pipe) -> None:
    """Publish a recorded report stream at each rate in turn (QoS 1, one connection, user "replay")."""
    import paho.mqtt.client as mqtt
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="replay", clean_session=True, protocol=mqtt.MQTTv311)
    c.username_pw_set("replay", "pw-replay")
    c.max_inflight_messages_set(0)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port, keepalive=120)
    c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sel = selectors.DefaultSelector()
    sel.register(c.socket(), selectors.EVENT_READ)
    rng = random.Random(1)
    seq = dict.fromkeys(ids, 0)
    n = len(ids)
    for rate in rates:
        total = int(rate * step_s)
        start = time.time() + 1.0 + total * 4e-6  # time to record the stream first
        stream = []
        for k in range(total):
            cid = ids[k % n]
            seq[cid] += 1
            stream.append(("ampelwerk/%s/report" % cid, random_report(rng, cid, seq[cid],
                                                                      int(1000 * (start + k / rate)), 1000)))
        while time.time() < start:
            for _ in sel.select(0.01):
                c.loop_read()
        k, behind_ms = 0, 0.0
        while k < total:
            now = time.time()
            due = min(total, int((now - start) * rate) + 1)
            if due > k:
                behind_ms = max(behind_ms, 1000 * (now - start - k / rate))
            while k < due:
                c.publish(stream[k][0], stream[k][1], qos=1)
                k += 1
            for _ in sel.select(0):
                c.loop_read()
            if c.want_write():
                c.loop_write()
            if k < total and due == k:
                time.sleep(min(0.002, max(0.0, start + k / rate - time.time())))
        end = time.time()
        pipe.send({"rate": rate, "start": start, "end": end, "sent": total, "behind_ms": behind_ms})
        pause = time.time() + 3.0  # let the coordinator drain before the next rate
        while time.time() < pause:
            for _ in sel.select(0.01):
                c.loop_read()
            c.loop_misc()
    pipe.send("done")
    c.disconnect()
