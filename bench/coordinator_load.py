"""Coordinator load benchmark: N simulated controllers against a loopback mosquitto.

    python bench/coordinator_load.py --controllers 100,1000,5000

Each simulated controller is a real MQTT connection with its own user (the
per-controller ACL of LocalBroker applies), reports every second (QoS 1) and
answers every plan with a plan status after checking it with the controller's
own code (controller.coordination.agent.CoordinationAgent when present, else
PlanGate-equivalent signature/seq checks; the table says which). The
controllers run in a few worker processes, each one selectors loop over paho
clients driven through paho's external-loop API (loop_read / loop_write /
loop_misc), no thread per client. The coordinator is the real
CoordinatorService on MqttBus in this process; it sends each controller a
fresh plan every --plan-interval seconds, spread evenly, and the round trip is
measured from just before the plan is handed to paho to when the controller's
"accepted" status has been handled by the service. Prints one row per N.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import platform
import random
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_CONFIG = ROOT / "tests" / "coordinator" / "data" / "arterial5" / "J1.json"


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def controller_ids(n: int) -> list[str]:
    return ["C%05d" % i for i in range(1, n + 1)]


def write_corridors(folder: Path, ids: list[str]) -> Path:
    """Corridors of five controllers each (the arterial5 geometry), one config per controller."""
    base = json.loads(BASE_CONFIG.read_text())
    xs = [0, 300, 550, 900, 1200]
    corridors = []
    for c in range(0, len(ids), 5):
        chunk = ids[c:c + 5]
        for cid in chunk:
            cfg = dict(base, id=cid)
            (folder / (cid + ".json")).write_text(json.dumps(cfg))
        corridors.append({
            "id": "k%04d" % (c // 5), "cycle_ms": {"min": 60000, "max": 150000}, "main_direction": "forward",
            "intersections": [{"controller": cid, "config": cid + ".json", "coordinated_stage": "S1",
                               "through_groups": {"forward": ["K2"], "backward": ["K2"]}} for cid in chunk],
            "links": [{"length_m": float(xs[k + 1] - xs[k]), "speed_mps": 13.89} for k in range(len(chunk) - 1)]})
    p = folder / "corridors.json"
    p.write_text(json.dumps({"format": "ampelwerk-corridor/1", "corridors": corridors}))
    return p


# ---------------------------------------------------------------- simulated controllers (worker processes)
def make_checker(cid: str, key: bytes):
    """plan payload, wall_ms -> plan status payload, with the controller's own checks."""
    from controller.config.loading import load_dict
    cfg = dict(json.loads(BASE_CONFIG.read_text()), id=cid)
    ix = load_dict(cfg)
    try:
        from controller.coordination.agent import CoordinationAgent
        from controller.core import Controller

        agent = CoordinationAgent(Controller(ix, "coordinated", event_capacity=64), key)
        return (lambda payload, wall_ms: agent.offer_plan(payload, wall_ms)), "CoordinationAgent"
    except (ImportError, ValueError):  # the coordinated strategy not there yet: the same gate, alone
        pass
    from controller.coordination.messages import MessageError, decode_plan, encode_plan_status
    from controller.coordination.plan_validation import PlanGate

    gate = PlanGate(ix, key)

    def check(payload: bytes, wall_ms: int) -> bytes:
        try:
            plan = decode_plan(payload)
        except MessageError as e:
            return encode_plan_status(cid, 0, e.reason, wall_ms, str(e))
        reason, text = gate.check(plan, wall_ms)
        return encode_plan_status(cid, plan.seq, reason, wall_ms, text)
    return check, "PlanGate"


def worker_main(host: str, port: int, ids: list[str], keys_hex: dict[str, str], password_of: dict[str, str],
                report_period_s: float, pipe, stop) -> None:
    import paho.mqtt.client as mqtt
    from controller.coordination.messages import MODE_COORDINATED, Report, encode_report

    raise_fd_limit()
    rng = random.Random(ids[0])
    sel = selectors.DefaultSelector()
    checkers = {}
    kind = ""
    for cid in ids:
        checkers[cid], kind = make_checker(cid, bytes.fromhex(keys_hex[cid]))
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
    next_report = time.monotonic() + report_period_s
    next_misc = time.monotonic() + 5
    while not stop.is_set():
        now = time.monotonic()
        for key, _ in sel.select(max(0.0, min(next_report - now, 0.05))):
            key.data.loop_read()
        if not ready_sent and state["subscribed"] >= len(ids):
            pipe.send(("ready", connect_s, kind))
            ready_sent = True
        now = time.monotonic()
        if ready_sent and now >= next_report:
            wall = int(time.time() * 1000)
            for cid, c in clients.items():
                seqs[cid] += 1
                c.publish("ampelwerk/%s/report" % cid, encode_report(Report(
                    cid, seqs[cid], wall, int(report_period_s * 1000), MODE_COORDINATED, 0, ["K1", "K2"],
                    [rng.randint(0, 2), rng.randint(0, 4)], [rng.randint(0, 300), rng.randint(0, 500)], [])), qos=1)
                state["reports"] += 1
            next_report += report_period_s
            if next_report < now:  # fell behind: do not try to catch up in a burst
                next_report = now + report_period_s
        if now >= next_misc:
            for c in clients.values():
                c.loop_misc()
            next_misc = now + 5
        for c in clients.values():
            if c.want_write():
                c.loop_write()
    for c in clients.values():
        c.disconnect()
    pipe.send(("done", dict(state)))


# ---------------------------------------------------------------- one run
def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def run_one(n: int, workers: int, warmup_s: float, duration_s: float, plan_interval_s: float) -> dict:
    from coordinator.bus import MqttBus
    from coordinator.corridors import load_corridors
    from coordinator.local_broker import LocalBroker
    from coordinator.service import CoordinatorOptions, CoordinatorService

    tmp = Path(tempfile.mkdtemp(prefix="coordload-"))
    ids = controller_ids(n)
    t_setup = time.perf_counter()
    corridors = load_corridors(write_corridors(tmp, ids))
    keys = {cid: os.urandom(32) for cid in ids}
    passwords = {cid: "pw-" + cid for cid in ids}
    broker = LocalBroker(tmp / "broker", dict(passwords, coordinator="coord-pw"), persistence=False)
    broker.start()
    ctx = mp.get_context("fork")
    stop = ctx.Event()
    procs = []
    chunks = [ids[k::workers] for k in range(workers)]
    for chunk in chunks:
        a, b = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=("127.0.0.1", broker.port, chunk,
                                                  {c: keys[c].hex() for c in chunk}, {c: passwords[c] for c in chunk},
                                                  1.0, b, stop), daemon=True)
        p.start()
        procs.append((p, a))
    opts = CoordinatorOptions(compute_period_ms=10 ** 9, validity_ms=600000, refresh_ms=599000)
    bus = MqttBus(broker.url, "bench-coordinator", "coordinator", "coord-pw", clean_session=True)
    sent_at: dict[tuple[str, int], float] = {}
    rtts: list[tuple[float, float]] = []  # (when sent, round trip s)
    refused: dict[str, int] = {}

    def publish(topic: str, payload: bytes, retain: bool) -> None:
        cid = topic.split("/")[1]
        sent_at[(cid, json.loads(payload)["seq"])] = time.perf_counter()
        bus.publish(topic, payload, retain)

    svc = CoordinatorService(corridors, keys, publish, opts)

    def on_status(cid: str, d: dict, wall_ms: int) -> None:
        t = sent_at.pop((cid, d["seq"]), None)
        if t is None:
            return
        if d["reason"] == 0:
            rtts.append((t, time.perf_counter() - t))
        else:
            refused[d["result"]] = refused.get(d["result"], 0) + 1

    svc.on_plan_status = on_status
    for f in svc.subscriptions():
        bus.subscribe(f, lambda t, p: svc.on_message(t, p, int(time.time() * 1000)))
    bus.start()
    svc.compute(int(time.time() * 1000))
    connect_s = []
    kind = ""
    for p, a in procs:
        if not a.poll(300):
            stop.set()
            broker.stop()
            raise RuntimeError("a worker did not connect its controllers within 300 s")
        msg = a.recv()
        connect_s.append(msg[1])
        kind = msg[2]
    setup_s = time.perf_counter() - t_setup
    start = time.perf_counter()
    measure_from = start + warmup_s
    end = measure_from + duration_s
    slot = {cid: start + plan_interval_s * k / n for k, cid in enumerate(ids)}
    reports_at_measure = None
    lost_at_measure = 0
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        if reports_at_measure is None and now >= measure_from:
            reports_at_measure = svc.counters["reports"]
            lost_at_measure = sum(link.reports.lost for link in svc.links.values())
        bus.process(timeout_s=0.002)
        due = [cid for cid, t in slot.items() if t <= now]
        if due:
            svc.send_plans(due, int(time.time() * 1000))
            for cid in due:
                slot[cid] += plan_interval_s
    reports = svc.counters["reports"] - (reports_at_measure or 0)
    lost = sum(link.reports.lost for link in svc.links.values()) - lost_at_measure
    in_window = [r for t, r in rtts if measure_from <= t < end - 1.0]
    unanswered = sum(1 for (c, s), t in sent_at.items() if measure_from <= t < end - 1.0)
    stop.set()
    states = []
    for p, a in procs:
        if a.poll(30):
            states.append(a.recv()[1])
        p.join(10)
    bus.stop()
    broker.stop()
    ms = [r * 1000 for r in in_window]
    return {"controllers": n, "checker": kind, "plans": len(ms), "unanswered": unanswered,
            "refused": refused, "p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99),
            "max": max(ms) if ms else float("nan"), "reports_per_s": reports / duration_s,
            "expected_reports_per_s": float(n), "lost": lost, "setup_s": setup_s,
            "connect_s": max(connect_s) if connect_s else 0.0}


def versions() -> str:
    import paho.mqtt

    from coordinator.local_broker import find_mosquitto

    mq = subprocess.run([find_mosquitto(), "-h"], capture_output=True, text=True).stdout.splitlines()[0]
    return "%s; paho-mqtt %s; Python %s; %s, %d CPUs" % (mq, paho.mqtt.__version__, platform.python_version(),
                                                         platform.machine(), os.cpu_count() or 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--controllers", default="100,1000,5000", help="comma-separated counts")
    ap.add_argument("--workers", type=int, default=2, help="processes running the simulated controllers")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    ap.add_argument("--plan-interval", type=float, default=10.0, help="each controller gets a plan every S s")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    fds = raise_fd_limit()
    rows = []
    for n in [int(x) for x in args.controllers.split(",")]:
        rows.append(run_one(n, args.workers, args.warmup, args.duration, args.plan_interval))
        r = rows[-1]
        print("N=%d done: p99 %.1f ms, %d plans, %.0f reports/s" % (n, r["p99"], r["plans"], r["reports_per_s"]),
              file=sys.stderr)
    print("command: python bench/coordinator_load.py %s" % " ".join(argv if argv is not None else sys.argv[1:]))
    print("versions: %s; fd limit %d" % (versions(), fds))
    print("setup: reports every 1 s per controller (QoS 1); a plan to each controller every %g s; %g s warm-up, "
          "%g s measured; %d worker processes; plan check: %s" % (
              args.plan_interval, args.warmup, args.duration, args.workers, rows[0]["checker"] if rows else "-"))
    print()
    print("| controllers | plans measured | plan round trip p50 / p95 / p99 / max (ms) | unanswered | refused "
          "| reports/s handled (offered) | reports lost | connect all (s) |")
    print("|---:|---:|---|---:|---:|---|---:|---:|")
    for r in rows:
        print("| %d | %d | %.1f / %.1f / %.1f / %.1f | %d | %d | %.0f (%.0f) | %d | %.1f |" % (
            r["controllers"], r["plans"], r["p50"], r["p95"], r["p99"], r["max"], r["unanswered"],
            sum(r["refused"].values()), r["reports_per_s"], r["expected_reports_per_s"], r["lost"], r["connect_s"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
