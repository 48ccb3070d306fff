"""Coordinator load benchmark: the service alone, replayed report streams, and N controllers on sharded coordinators.

    python bench/coordinator_load.py                     # all three parts, default sizes
    python bench/coordinator_load.py --parts fleet --controllers 1000,5000,10000 --coordinators 1,2,4

Three parts (``--parts service,replay,fleet``), each printing a table:

* service: the CoordinatorService alone, in this process, handed a recorded
  report stream (reports of --replay-controllers controllers, five rounds) as
  fast as it takes them: the ceiling of the service code per process.
* replay: one coordinator process (CoordinatorService on MqttBus, subscribed
  to its controllers' topics as a shard is) behind a loopback mosquitto, fed
  by one replay process that publishes a recorded report stream (QoS 1) at
  rising rates, each for --replay-step seconds: reports/s handled, the delay
  from a report's scheduled time to its handling (p50/p99), and reports lost.
  No simulated controllers run, so this is the coordinator's own throughput
  per process; where it handles less than offered, it is saturated.
* fleet: N simulated controllers (each a real MQTT connection with its own
  user under the per-controller ACL, run by --workers processes; each
  reports every second, QoS 1, and answers every plan after checking it with
  the controller's own code, CoordinationAgent; bench/load_clients.py)
  against the same mosquitto, with the corridors sharded over P coordinator
  processes (corridor k in
  shard k mod P, each process with its own user and subscribed only to its
  controllers' topics, as ``coordinator serve --shard``). Each process sends
  each of its controllers a fresh plan every --plan-interval seconds, spread
  evenly; the round trip runs from just before the plan is handed to paho to
  when the controller's "accepted" status has been handled by the service.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_clients import (BASE_CONFIG, raise_fd_limit, record_reports, replayer_main,  # noqa: E402
                                worker_main)


def controller_ids(n: int) -> list[str]:
    return ["C%05d" % i for i in range(1, n + 1)]


def write_corridors(folder: Path, ids: list[str], shards: int = 1) -> Path:
    """Corridors of five controllers each (the arterial5 geometry), one config per controller; corridor k in
    shard "s<k mod shards>"."""
    base = json.loads(BASE_CONFIG.read_text())
    xs = [0, 300, 550, 900, 1200]
    corridors = []
    for c in range(0, len(ids), 5):
        chunk = ids[c:c + 5]
        for cid in chunk:
            cfg = dict(base, id=cid)
            (folder / (cid + ".json")).write_text(json.dumps(cfg))
        corridors.append({
            "id": "k%04d" % (c // 5), "shard": "s%d" % (c // 5 % shards), "cycle_ms": {"min": 60000, "max": 150000},
            "main_direction": "forward",
            "intersections": [{"controller": cid, "config": cid + ".json", "coordinated_stage": "S1",
                               "through_groups": {"forward": ["K2"], "backward": ["K2"]}} for cid in chunk],
            "links": [{"length_m": float(xs[k + 1] - xs[k]), "speed_mps": 13.89} for k in range(len(chunk) - 1)]})
    p = folder / "corridors.json"
    p.write_text(json.dumps({"format": "ampelwerk-corridor/1", "corridors": corridors}))
    return p


# ---------------------------------------------------------------- helpers
def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def fleet_setup(folder: Path, n: int, shards: int, extra_acl: str = ""):
    """Corridors for n controllers in ``shards`` shards, keys, passwords and a loopback broker (not started)."""
    from coordinator.corridors import load_corridors
    from coordinator.local_broker import LocalBroker, controller_acl
    from coordinator.shards import shard_user

    ids = controller_ids(n)
    corridors = load_corridors(write_corridors(folder, ids, shards))
    keys = {cid: os.urandom(32) for cid in ids}
    passwords = {cid: "pw-" + cid for cid in ids}
    users = {shard_user("s%d" % k): "pw-s%d" % k for k in range(shards)}
    acl = extra_acl + controller_acl(coordinator_users=tuple(users))
    broker = LocalBroker(folder / "broker", dict(passwords, replay="pw-replay", **users), acl=acl,
                         persistence=False)
    return ids, corridors, keys, passwords, users, broker


def prime_timings(svc, wall_ms: int) -> None:
    """Every bench corridor has the same geometry and configs, so they share one timing: the first corridor's is
    computed (no counts yet), the others get a copy. A timing computation costs about 0.25 s per corridor without
    counts and 1 s with (part 1 prints it): 1,000 corridors would keep a process busy for minutes before the
    fleet could start. The computation's cost is measured in part 1, not here."""
    import dataclasses

    states = list(svc.corridors.values())
    first = states[0]
    svc._compute_corridor(first, {})
    for cs in states[1:]:
        cs.timing = dataclasses.replace(first.timing, corridor=cs.corridor)
        cs.version, cs.measured = first.version, first.measured
    svc.compute_due_ms = {cid: wall_ms + svc.options.compute_period_ms for cid in svc.corridors}


def start_shard_bus(url: str, shard: int, users: dict[str, str], svc, on_message):
    """The MqttBus of shard ``shard``'s coordinator: own user, own controllers' topics only."""
    from coordinator.bus import MqttBus
    from coordinator.shards import shard_user

    user = shard_user("s%d" % shard)
    bus = MqttBus(url, user, user, users[user], clean_session=True, connect_timeout_s=120)
    for f in svc.subscriptions(own_controllers_only=True):
        bus.subscribe(f, on_message)
    return bus


# ---------------------------------------------------------------- part 1: the service alone
def run_service(n: int, rounds: int = 5, compute_sample: int = 10) -> dict:
    """Reports/s the CoordinatorService handles in this process, fed a recorded stream with no transport."""
    from coordinator.service import CoordinatorOptions, CoordinatorService

    tmp = Path(tempfile.mkdtemp(prefix="coordload-"))
    ids, corridors, keys, *_ = fleet_setup(tmp, n, 1)
    svc = CoordinatorService(corridors, keys, lambda t, p, r: None, CoordinatorOptions(compute_period_ms=10 ** 9))
    wall0 = int(time.time() * 1000)
    stream = record_reports(ids, rounds, wall0)
    t0 = time.perf_counter()
    for k, (topic, payload) in enumerate(stream):
        svc.on_message(topic, payload, wall0 + 1000 * (k // n))
    dt = time.perf_counter() - t0
    # a timing computation from counts (cycle search, offsets) per corridor, on a sample of corridors
    sample = list(svc.corridors.values())[:compute_sample]
    t1 = time.perf_counter()
    for cs in sample:
        svc._compute_corridor(cs, svc.flows(cs.corridor, wall0 + 1000 * rounds))
    compute_s = (time.perf_counter() - t1) / len(sample)
    return {"controllers": n, "reports": svc.counters["reports"], "reports_per_s": len(stream) / dt,
            "us_per_report": 1e6 * dt / len(stream), "compute_s": compute_s, "corridors": len(corridors),
            "sample": len(sample), "measured": all(cs.measured for cs in sample)}


# ---------------------------------------------------------------- part 2: replayed report streams
def replay_coordinator_main(url: str, users: dict[str, str], corridors, keys: dict[str, bytes], pipe) -> None:
    """A coordinator process (shard s0) that handles reports and notes, per report, its scheduled time and
    when it was handled."""
    from coordinator.service import CoordinatorOptions, CoordinatorService

    svc = CoordinatorService(corridors, keys, lambda t, p, r: None, CoordinatorOptions(compute_period_ms=10 ** 9))
    handled: list[tuple[int, float]] = []  # (scheduled wall ms, handled at wall ms)

    def on_message(topic: str, payload: bytes) -> None:
        now = time.time() * 1000
        svc.on_message(topic, payload, int(now))
        i = payload.find(b'"wall_ms": ')  # the scheduled time the replayer stamped
        if i >= 0:
            handled.append((int(payload[i + 11:payload.index(b",", i)]), now))

    bus = start_shard_bus(url, 0, users, svc, on_message).start()
    pipe.send("ready")
    while not pipe.poll(0):
        bus.process(timeout_s=0.05)
    pipe.recv()
    bus.process(0)
    lost = sum(link.reports.lost for link in svc.links.values())
    pipe.send({"handled": handled, "reports": svc.counters["reports"], "lost": lost})
    bus.stop()


def run_replay(n: int, rates: list[int], step_s: float) -> list[dict]:
    """The coordinator's own reports/s: one coordinator process fed a replayed stream at each rate."""
    tmp = Path(tempfile.mkdtemp(prefix="coordload-"))
    ids, corridors, keys, _, users, broker = fleet_setup(tmp, n, 1, "user replay\ntopic write ampelwerk/+/report\n\n")
    broker.start()
    ctx = mp.get_context("fork")
    coord_pipe, child = ctx.Pipe()
    coord = ctx.Process(target=replay_coordinator_main, args=(broker.url, users, corridors, keys, child), daemon=True)
    coord.start()
    if not coord_pipe.poll(120):
        broker.stop()
        raise RuntimeError("the coordinator did not connect within 120 s")
    coord_pipe.recv()
    rep_pipe, child = ctx.Pipe()
    rep = ctx.Process(target=replayer_main, args=(broker.port, ids, rates, step_s, child), daemon=True)
    rep.start()
    steps = []
    while True:
        if not rep_pipe.poll(step_s * 4 + 120):
            raise RuntimeError("the replayer stopped answering")
        msg = rep_pipe.recv()
        if msg == "done":
            break
        steps.append(msg)
    time.sleep(3.0)
    coord_pipe.send("stop")
    res = coord_pipe.recv()
    coord.join(10)
    rep.join(10)
    broker.stop()
    rows = []
    for st in steps:
        lo, hi = 1000 * st["start"], 1000 * st["end"]
        mine = [(s, h) for s, h in res["handled"] if lo - 1 <= s <= hi + 1]
        delays = [h - s for s, h in mine]
        during = sum(1 for _, h in res["handled"] if lo <= h <= hi)
        took_s = st["end"] - st["start"]
        rows.append({"offered": st["rate"], "sent": st["sent"], "published_per_s": st["sent"] / took_s,
                     "handled_per_s": during / took_s, "received": len(mine),
                     "p50": pct(delays, 50), "p99": pct(delays, 99), "max": max(delays) if delays else float("nan"),
                     "behind_ms": st["behind_ms"]})
    return [{"controllers": n, "lost": res["lost"], "reports": res["reports"], "steps": rows}]


# ---------------------------------------------------------------- part 3: controllers on sharded coordinators
def fleet_coordinator_main(url: str, shard: int, users: dict[str, str], corridors, keys: dict[str, bytes],
                           plan_interval_s: float, pipe) -> None:
    """Shard ``shard``'s coordinator process: plans to its controllers on a schedule, round trips measured."""
    from coordinator.service import CoordinatorOptions, CoordinatorService

    sent_at: dict[tuple[str, int], float] = {}
    rtts: list[tuple[float, float]] = []  # (when sent, round trip s), perf_counter
    refused: dict[str, int] = {}
    bus = None

    def publish(topic: str, payload: bytes, retain: bool) -> None:
        sent_at[(topic.split("/")[1], json.loads(payload)["seq"])] = time.perf_counter()
        bus.publish(topic, payload, retain)

    opts = CoordinatorOptions(compute_period_ms=10 ** 9, validity_ms=600000, refresh_ms=599000)
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
    bus = start_shard_bus(url, shard, users, svc, lambda t, p: svc.on_message(t, p, int(time.time() * 1000)))
    bus.start()
    prime_timings(svc, int(time.time() * 1000))
    pipe.send("ready")
    start_epoch, warmup_s, duration_s = pipe.recv()
    start = time.perf_counter() + (start_epoch - time.time())
    while time.perf_counter() < start:
        bus.process(timeout_s=0.01)
    measure_from, end = start + warmup_s, start + warmup_s + duration_s
    ids = list(svc.links)
    # every process spreads its own controllers over the interval
    slot = {cid: start + plan_interval_s * k / len(ids) for k, cid in enumerate(ids)}
    reports_at = lost_at = None
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        if reports_at is None and now >= measure_from:
            reports_at = svc.counters["reports"]
            lost_at = sum(link.reports.lost for link in svc.links.values())
        bus.process(timeout_s=0.002)
        due = [cid for cid, t in slot.items() if t <= now]
        if due:
            svc.send_plans(due, int(time.time() * 1000))
            for cid in due:
                slot[cid] += plan_interval_s
    pipe.send({"rtt_ms": [1000 * r for t, r in rtts if measure_from <= t < end - 1.0],
               "unanswered": sum(1 for t in sent_at.values() if measure_from <= t < end - 1.0),
               "refused": refused, "reports": svc.counters["reports"] - (reports_at or 0),
               "lost": sum(link.reports.lost for link in svc.links.values()) - (lost_at or 0)})
    bus.stop()


def run_fleet(n: int, coordinators: int, workers: int, warmup_s: float, duration_s: float,
              plan_interval_s: float) -> dict:
    from coordinator.shards import select_shard

    tmp = Path(tempfile.mkdtemp(prefix="coordload-"))
    t_setup = time.perf_counter()
    ids, corridors, keys, passwords, users, broker = fleet_setup(tmp, n, coordinators)
    broker.start()
    ctx = mp.get_context("fork")
    coords = []
    for k in range(coordinators):
        mine = select_shard(corridors, "s%d" % k)
        a, b = ctx.Pipe()
        p = ctx.Process(target=fleet_coordinator_main, daemon=True, args=(
            broker.url, k, users, mine, {ci.controller_id: keys[ci.controller_id] for c in mine
                                         for ci in c.intersections}, plan_interval_s, b))
        p.start()
        coords.append((p, a))
    for p, a in coords:
        if not a.poll(180):
            broker.stop()
            raise RuntimeError("a coordinator process did not connect within 180 s")
        a.recv()
    stop = ctx.Event()
    procs = []
    for chunk in [ids[k::workers] for k in range(workers)]:
        a, b = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=("127.0.0.1", broker.port, chunk, {c: keys[c].hex() for c in chunk},
                                                  {c: passwords[c] for c in chunk}, 1.0, b, stop), daemon=True)
        p.start()
        procs.append((p, a))
    connect_s, kind = [], ""
    for p, a in procs:
        if not a.poll(600):
            stop.set()
            broker.stop()
            raise RuntimeError("a worker did not connect its controllers within 600 s")
        msg = a.recv()
        connect_s.append(msg[1])
        kind = msg[2]
    setup_s = time.perf_counter() - t_setup
    start_epoch = time.time() + 1.0
    for p, a in coords:
        a.send((start_epoch, warmup_s, duration_s))
    results = []
    for p, a in coords:
        if not a.poll(warmup_s + duration_s + 120):
            raise RuntimeError("a coordinator process did not report")
        results.append(a.recv())
        p.join(10)
    stop.set()
    for p, a in procs:
        if a.poll(30):
            a.recv()
        p.join(10)
    broker.stop()
    ms = [x for r in results for x in r["rtt_ms"]]
    refused: dict[str, int] = {}
    for r in results:
        for k, v in r["refused"].items():
            refused[k] = refused.get(k, 0) + v
    return {"controllers": n, "coordinators": coordinators, "checker": kind, "plans": len(ms),
            "unanswered": sum(r["unanswered"] for r in results), "refused": refused,
            "p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99), "max": max(ms) if ms else float("nan"),
            "reports_per_s": sum(r["reports"] for r in results) / duration_s, "expected_reports_per_s": float(n),
            "lost": sum(r["lost"] for r in results), "setup_s": setup_s,
            "connect_s": max(connect_s) if connect_s else 0.0}


def versions() -> str:
    import paho.mqtt

    from coordinator.local_broker import find_mosquitto

    mq = subprocess.run([find_mosquitto(), "-h"], capture_output=True, text=True).stdout.splitlines()[0]
    return "%s; paho-mqtt %s; Python %s; %s, %d CPUs" % (mq, paho.mqtt.__version__, platform.python_version(),
                                                         platform.machine(), os.cpu_count() or 0)


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="service,replay,fleet", help="which parts to run: service, replay, fleet")
    ap.add_argument("--replay-controllers", type=int, default=5000, help="controllers in the replayed stream")
    ap.add_argument("--replay-rates", default="2000,4000,6000,8000,12000,16000", help="reports/s offered, in turn")
    ap.add_argument("--replay-step", type=float, default=10.0, help="seconds each replay rate is held")
    ap.add_argument("--controllers", default="1000,5000,10000", help="fleet: comma-separated counts")
    ap.add_argument("--coordinators", default="1,2,4", help="fleet: coordinator processes (shards), comma-separated")
    ap.add_argument("--workers", type=int, default=2, help="fleet: processes running the simulated controllers")
    ap.add_argument("--warmup", type=float, default=10.0, help="fleet: seconds before measuring")
    ap.add_argument("--duration", type=float, default=30.0, help="fleet: seconds measured")
    ap.add_argument("--plan-interval", type=float, default=10.0, help="fleet: each controller gets a plan every S s")
    args = ap.parse_args(argv)
    parts = args.parts.split(",")
    logging.basicConfig(level=logging.ERROR)
    fds = raise_fd_limit()
    print("command: python bench/coordinator_load.py %s" % " ".join(argv if argv is not None else sys.argv[1:]))
    print("versions: %s; fd limit %d; load average before: %s" % (versions(), fds, " ".join(
        "%.2f" % x for x in os.getloadavg())))
    if "service" in parts:
        r = run_service(args.replay_controllers)
        print()
        print("service alone (in process, no transport), %d controllers in %d corridors of 5: %.0f reports/s "
              "(%.1f us per report); a corridor's timing from counts (cycle search and offsets): %.2f s "
              "(mean of %d corridors%s)" % (r["controllers"], r["corridors"], r["reports_per_s"], r["us_per_report"],
                                           r["compute_s"], r["sample"], "" if r["measured"] else ", NOT from counts"))
    if "replay" in parts:
        rr = run_replay(args.replay_controllers, ints(args.replay_rates), args.replay_step)[0]
        print()
        print("replay: one coordinator process, %d controllers' reports replayed over mosquitto (QoS 1), %g s per "
              "rate; reports lost (seq gaps): %d" % (rr["controllers"], args.replay_step, rr["lost"]))
        print()
        print("| offered reports/s | published/s | handled/s | received of sent | delay p50 / p99 / max (ms) "
              "| replayer behind (ms) |")
        print("|---:|---:|---:|---|---|---:|")
        for s in rr["steps"]:
            print("| %d | %.0f | %.0f | %d / %d | %.1f / %.1f / %.1f | %.0f |" % (
                s["offered"], s["published_per_s"], s["handled_per_s"], s["received"], s["sent"], s["p50"], s["p99"],
                s["max"], s["behind_ms"]))
    if "fleet" in parts:
        rows = []
        for n in ints(args.controllers):
            for k in ints(args.coordinators):
                rows.append(run_fleet(n, k, args.workers, args.warmup, args.duration, args.plan_interval))
                r = rows[-1]
                print("N=%d P=%d done: p99 %.1f ms, %d plans, %.0f reports/s, %d lost" % (
                    n, k, r["p99"], r["plans"], r["reports_per_s"], r["lost"]), file=sys.stderr, flush=True)
        print()
        print("fleet: reports every 1 s per controller (QoS 1); a plan to each controller every %g s; %g s warm-up, "
              "%g s measured; %d worker processes; plan check: %s" % (
                  args.plan_interval, args.warmup, args.duration, args.workers, rows[0]["checker"] if rows else "-"))
        print()
        print("| controllers | coordinator processes | plans measured | plan round trip p50 / p95 / p99 / max (ms) "
              "| unanswered | refused | reports/s handled (offered) | reports lost | connect all (s) |")
        print("|---:|---:|---:|---|---:|---:|---|---:|---:|")
        for r in rows:
            print("| %d | %d | %d | %.1f / %.1f / %.1f / %.1f | %d | %d | %.0f (%.0f) | %d | %.1f |" % (
                r["controllers"], r["coordinators"], r["plans"], r["p50"], r["p95"], r["p99"], r["max"],
                r["unanswered"], sum(r["refused"].values()), r["reports_per_s"], r["expected_reports_per_s"],
                r["lost"], r["connect_s"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
