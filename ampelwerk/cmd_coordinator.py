"""``ampelwerk coordinator serve|keys|plan|priority``: the central coordinator over MQTT, its keys, dry runs, and
priority requests sent to one controller."""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

PASSWORD_ENV = "AMPELWERK_MQTT_PASSWORD"
STATE_FILE = "coordinator-state.json"
BRIDGE_PASSWORD_ENV = "AMPELWERK_BRIDGE_PASSWORD"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coordinator", help="corridor coordination: plans over MQTT")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)

    s = verbs.add_parser("serve", help="run the coordinator against an MQTT broker until Ctrl-C")
    s.add_argument("--corridors", required=True, metavar="FILE", help="corridor file (ampelwerk-corridor/1)")
    s.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://host:port or mqtts://host:port")
    s.add_argument("--keys", default="keys.json", metavar="FILE", help="per-controller keys (coordinator keys)")
    s.add_argument("--shard", metavar="NAME",
                   help="serve only the corridors with \"shard\": NAME, subscribed to their controllers' topics "
                        "only (one process per shard; docs/coordination.md, Sharded coordinators)")
    s.add_argument("--username", help="MQTT user (default: coordinator; with --shard: coordinator-NAME)")
    s.add_argument("--password", help="MQTT password (default: $%s)" % PASSWORD_ENV)
    s.add_argument("--ca", metavar="FILE", help="CA certificate to trust for mqtts://")
    s.add_argument("--state", metavar="FILE",
                   help="where the last plan seq per controller is kept (never reused after a restart; default "
                        "coordinator-state.json, with --shard coordinator-state-NAME.json)")
    s.add_argument("--prefix", default="ampelwerk", help="topic prefix")
    s.add_argument("--client-id", help="MQTT client id (persistent session; default ampelwerk-coordinator, with "
                                       "--shard ampelwerk-coordinator-NAME)")
    s.add_argument("--compute-period", type=float, default=300.0, metavar="S", help="recompute timings every S s")
    s.add_argument("--validity", type=float, default=600.0, metavar="S", help="plan validity window, s")
    s.add_argument("--status-every", type=float, default=60.0, metavar="S",
                   help="log a status every S s: totals, and per controller bad input ignored, refused plans, "
                        "lost reports (default 60)")
    s.add_argument("--verbose", "-v", action="store_true", help="log every message handled")
    s.set_defaults(func=serve)

    k = verbs.add_parser("keys", help="generate a 32-byte key per controller (file mode 0600)")
    k.add_argument("--corridors", required=True, metavar="FILE")
    k.add_argument("--out", required=True, metavar="FILE", help="keys file to write")
    k.add_argument("--force", action="store_true", help="replace existing keys (controllers need the new ones)")
    k.set_defaults(func=keys)

    d = verbs.add_parser("plan", help="print the plan the coordinator would compute (dry run, nothing sent)")
    d.add_argument("--corridors", required=True, metavar="FILE")
    d.add_argument("--flows", metavar="FILE", help='JSON {"J1": {"K1": 300, "K2": 1200}, ...} in veh/h')
    d.add_argument("--flow", action="append", default=[], metavar="ID:GROUP=VPH",
                   help="one group's flow, e.g. J3:K2=1500 (repeatable; overrides --flows)")
    d.add_argument("--json", action="store_true", help="print the timings as JSON")
    d.set_defaults(func=plan)

    b = verbs.add_parser("broker-config", help="mosquitto config for district brokers bridged to a central one")
    b.add_argument("--corridors", required=True, metavar="FILE", help="corridor file; corridors name their district")
    what = b.add_mutually_exclusive_group(required=True)
    what.add_argument("--district", metavar="NAME",
                      help="write the bridge section of district NAME's mosquitto.conf (its controllers' topics)")
    what.add_argument("--central-acl", action="store_true",
                      help="write the central broker's ACL: coordinators, controllers, and one bridge user per "
                           "district limited to its own controllers")
    b.add_argument("--central", metavar="URL", help="the central broker for --district: mqtt://host:port or "
                                                    "mqtts://host:port")
    b.add_argument("--ca", metavar="FILE", help="CA certificate the bridge trusts for mqtts://")
    b.add_argument("--bridge-password", help="the bridge user's password on the central broker (default: $%s)"
                   % BRIDGE_PASSWORD_ENV)
    b.add_argument("--coordinator-user", action="append", metavar="USER",
                   help="for --central-acl: a coordinator process's user (repeat per shard; default: coordinator)")
    b.add_argument("--prefix", default="ampelwerk", help="topic prefix")
    b.add_argument("--out", required=True, metavar="FILE", help="file to write (mode 0600: it may hold a password)")
    b.set_defaults(func=broker_config)

    r = verbs.add_parser("priority", help="send one signed preemption / transit priority request to a controller")
    r.add_argument("--intersection", required=True, metavar="ID", help="the controller (its config id)")
    r.add_argument("--class", dest="class_id", required=True, metavar="CLASS",
                   help="a priority class of its config (e.g. ems, rail, bus)")
    onoff = r.add_mutually_exclusive_group(required=True)
    onoff.add_argument("--on", dest="on", action="store_true", help="one request more (as a check-in)")
    onoff.add_argument("--off", dest="on", action="store_false", help="one request less (as a check-out)")
    r.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://host:port or mqtts://host:port")
    r.add_argument("--keys", default="keys.json", metavar="FILE", help="per-controller keys (coordinator keys)")
    r.add_argument("--username", default="coordinator-priority",
                   help="MQTT user, a coordinator user of the broker's ACL of its own (default: coordinator-priority)")
    r.add_argument("--password", help="MQTT password (default: $%s)" % PASSWORD_ENV)
    r.add_argument("--ca", metavar="FILE", help="CA certificate to trust for mqtts://")
    r.add_argument("--prefix", default="ampelwerk", help="topic prefix")
    r.add_argument("--wait", type=float, default=5.0, metavar="S",
                   help="wait up to S s for the controller's answer (0: send and return)")
    r.set_defaults(func=priority)

    o = verbs.add_parser("offsets", help="bandwidths of offset methods side by side (for a given cycle and splits)")
    o.add_argument("--corridors", required=True, metavar="FILE")
    o.add_argument("--cycle", type=float, required=True, metavar="S", help="common cycle, s")
    o.add_argument("--coordinated-split", type=float, required=True, metavar="S",
                   help="split of the coordinated stage at every intersection, s (the rest shared by the others)")
    o.set_defaults(func=offsets)


def _load_corridors(path: str):
    from ampelwerk.cli import UserError
    from coordinator.corridors import CorridorError, load_corridors

    try:
        return load_corridors(path)
    except CorridorError as e:
        raise UserError(str(e)) from None


def read_keys(path: str) -> dict[str, bytes]:
    """Keys file -> {controller: key bytes}; UserError names every bad entry."""
    from ampelwerk.cli import UserError
    from controller.coordination.plan_signature import parse_key

    try:
        raw = json.loads(Path(path).read_text())
    except OSError as e:
        raise UserError("cannot read keys file %s: %s (make one: ampelwerk coordinator keys)" % (path, e)) from None
    except ValueError as e:
        raise UserError("keys file %s is not JSON: %s" % (path, e)) from None
    if not isinstance(raw, dict):
        raise UserError('keys file %s must be an object {"J1": "<64 hex>", ...}' % path)
    result, errors = {}, []
    for cid, text in raw.items():
        try:
            result[cid] = parse_key(text, "key of %s" % cid)
        except ValueError as e:
            errors.append(str(e))
    if errors:
        raise UserError("keys file %s: %s" % (path, "; ".join(errors)))
    mode = os.stat(path).st_mode & 0o077
    if mode:
        logging.getLogger("coordinator").warning("keys file %s is readable by others (mode %o): chmod 600 it",
                                                 path, os.stat(path).st_mode & 0o777)
    return result


def serve(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from coordinator.bus import BusError, MqttBus, now_ms
    from coordinator.service import CoordinatorOptions, CoordinatorService

    import math

    for name in ("compute_period", "validity", "status_every"):
        v = getattr(args, name)
        if not math.isfinite(v) or v <= 0:
            raise UserError("--%s=%r: give a number of seconds above 0" % (name.replace("_", "-"), v))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    corridors = _load_corridors(args.corridors)
    username = args.username or "coordinator"
    state = args.state or STATE_FILE
    client_id = args.client_id or "ampelwerk-coordinator"
    if args.shard is not None:
        from coordinator.corridors import CorridorError
        from coordinator.shards import select_shard, shard_state_path, shard_user

        try:
            corridors = select_shard(corridors, args.shard, args.corridors)
        except CorridorError as e:
            raise UserError(str(e)) from None
        username = args.username or shard_user(args.shard)
        state = args.state or shard_state_path(STATE_FILE, args.shard)
        client_id = args.client_id or "ampelwerk-coordinator-%s" % args.shard
    keyring = read_keys(args.keys)
    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    opts = CoordinatorOptions(prefix=args.prefix, state_path=state,
                              compute_period_ms=int(args.compute_period * 1000),
                              validity_ms=int(args.validity * 1000), refresh_ms=int(args.validity * 500))
    bus = None
    try:
        bus = MqttBus(args.broker, client_id, username, password, args.ca)
        svc = CoordinatorService(corridors, keyring, bus.publish, opts)
        for f in svc.subscriptions(own_controllers_only=args.shard is not None):
            bus.subscribe(f, lambda t, p: svc.on_message(t, p, now_ms()))
        bus.start()
    except (BusError, ValueError) as e:
        raise UserError(str(e)) from None
    log = logging.getLogger("coordinator")
    log.info("serving %d corridor(s), %d controllers on %s%s", len(corridors), len(svc.links), args.broker,
             " as shard %s (user %s, state %s)" % (args.shard, username, state) if args.shard is not None else "")
    next_poll = 0.0
    next_status = time.monotonic() + args.status_every
    import signal

    def stop(signum, frame):  # a service manager's SIGTERM stops it like Ctrl-C: status logged, bus closed
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            bus.process(timeout_s=0.2)
            if time.monotonic() >= next_poll:
                svc.poll(now_ms())
                next_poll = time.monotonic() + 1.0
            if time.monotonic() >= next_status:
                log_status(log, svc)
                next_status = time.monotonic() + args.status_every
    except KeyboardInterrupt:
        log_status(log, svc)
        log.info("stopping: %s", ", ".join("%s %d" % kv for kv in svc.counters.items()))
    finally:
        bus.stop()
    return 0


def priority(args: argparse.Namespace) -> int:
    """Publish one signed priority request; print the controller's answer (exit 1: refused, 2: none)."""
    from ampelwerk.cli import UserError
    from controller.coordination.messages import topic
    from controller.coordination.priority_messages import (
        PriorityRequest,
        decode_priority_status,
        encode_priority,
    )
    from controller.coordination.message_fields import MessageError
    from coordinator.bus import BusError, MqttBus, now_ms

    import math

    if not math.isfinite(args.wait) or args.wait < 0:
        raise UserError("--wait=%r: give a number of seconds, 0 or more" % args.wait)
    key = read_keys(args.keys).get(args.intersection)
    if key is None:
        raise UserError("keys file %s has no key for %r (the controller's config id)" % (args.keys, args.intersection))
    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    answers: list[dict] = []
    bus = None
    now = now_ms()
    req = PriorityRequest(args.intersection, now, now, args.class_id, args.on)

    def on_status(t: str, p: bytes) -> None:
        try:
            st = decode_priority_status(p)
        except MessageError:
            return
        if st["seq"] == req.seq:
            answers.append(st)

    try:
        bus = MqttBus(args.broker, args.username, args.username, password, args.ca, clean_session=True)
        if args.wait > 0:
            bus.subscribe(topic(args.intersection, "priority_status", args.prefix), on_status)
        bus.start()
        bus.publish(topic(args.intersection, "priority", args.prefix), encode_priority(req, key))
        end = time.monotonic() + args.wait
        while not answers and time.monotonic() < end:
            bus.process(timeout_s=0.1)
    except (BusError, ValueError) as e:
        raise UserError(str(e)) from None
    finally:
        if bus is not None:
            bus.stop()
    what = "%s %s at %s" % (args.class_id, "on" if args.on else "off", args.intersection)
    if args.wait == 0:
        print("sent: %s (seq %d)" % (what, req.seq))
        return 0
    if not answers:
        print("sent: %s (seq %d); no answer within %g s: is the controller online?" % (what, req.seq, args.wait))
        return 2
    st = answers[0]
    if st["reason"] != 0:
        print("refused: %s: %s" % (what, st["text"]))
        return 1
    print("taken: %s; %d request(s) of %s counted" % (what, st["requests"], args.class_id))
    return 0


def log_status(log: logging.Logger, svc) -> None:
    """The service's status lines; a controller line is a warning when that controller sent bad input."""
    lines = svc.status_lines()
    log.info("%s", lines[0])
    for line in lines[1:]:
        log.log(logging.WARNING if "BAD INPUT" in line else logging.INFO, "%s", line)


def keys(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError

    corridors = _load_corridors(args.corridors)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UserError("%s exists: give --force to replace its keys (every controller then needs its new key)" % out)
    ids = [ci.controller_id for c in corridors for ci in c.intersections]
    data = json.dumps({cid: os.urandom(32).hex() for cid in ids}, indent=1, sort_keys=True) + "\n"
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, out)
    print("%s: %d keys (mode 0600); put each controller's key in its network settings" % (out, len(ids)))
    return 0


def _flows(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    from ampelwerk.cli import UserError

    flows: dict[str, dict[str, float]] = {}
    if args.flows:
        try:
            raw = json.loads(Path(args.flows).read_text())
        except (OSError, ValueError) as e:
            raise UserError("cannot read flows %s: %s" % (args.flows, e)) from None
        for cid, groups in raw.items():
            flows[cid] = {g: float(v) for g, v in groups.items()}
    for item in args.flow:
        try:
            head, vph = item.split("=")
            cid, group = head.split(":")
            flows.setdefault(cid, {})[group] = float(vph)
        except ValueError:
            raise UserError("--flow %r: expected ID:GROUP=VPH, e.g. J3:K2=1500" % item) from None
        if float(vph) < 0 or float(vph) > 10000:
            raise UserError("--flow %r: %s veh/h is outside 0..10000" % (item, vph))
    return flows


def plan(args: argparse.Namespace) -> int:
    from coordinator.corridor_plan import compute_timing, describe

    corridors = _load_corridors(args.corridors)
    flows = _flows(args)
    out = []
    for c in corridors:
        t = compute_timing(c, {k: v for k, v in flows.items() if k in c.controller_ids()})
        if args.json:
            out.append({"corridor": c.id, "cycle_ms": t.cycle.cycle_ms, "critical": t.cycle.critical,
                        "bandwidth_ms": {"forward": t.bands.forward_ms, "backward": t.bands.backward_ms}
                        if t.bands else None,
                        "intersections": [{"controller": ci.controller_id, "offset_ms": o,
                                           "splits": [[s, v] for s, v in zip(tm.stage_ids, tm.split_ms)]}
                                          for ci, tm, o in zip(c.intersections, t.timings, t.offsets_ms)]})
        else:
            print(describe(t), end="")
    if args.json:
        print(json.dumps(out, indent=1))
    return 0


def broker_config(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from coordinator.broker_config import bridge_config, bridge_user, central_acl, district_controllers
    from coordinator.bus import BusError, parse_broker_url

    districts = district_controllers(_load_corridors(args.corridors))
    if args.central_acl:
        if not districts:
            raise UserError("%s: no corridor names a district (\"district\": NAME)" % args.corridors)
        text = central_acl(districts, args.prefix, tuple(args.coordinator_user or ["coordinator"]))
        note = "central broker ACL: %d district bridge(s) (%s)" % (len(districts), ", ".join(
            bridge_user(d) for d in districts))
    else:
        if args.district not in districts:
            raise UserError("district %r has no corridor in %s (districts: %s)" % (
                args.district, args.corridors, ", ".join(districts) or "none"))
        if not args.central:
            raise UserError("--district needs --central URL, the central broker the district bridges to")
        try:
            host, port, tls = parse_broker_url(args.central)
        except BusError as e:
            raise UserError(str(e)) from None
        if tls != bool(args.ca):
            raise UserError("--central %s with%s --ca: give mqtts:// and the CA file together (plain mqtt:// only "
                            "on a trusted network)" % (args.central, "" if args.ca else "out"))
        password = args.bridge_password if args.bridge_password is not None else os.environ.get(BRIDGE_PASSWORD_ENV)
        if not password:
            raise UserError("no bridge password: give --bridge-password or set $%s (the password of user %s on "
                            "the central broker)" % (BRIDGE_PASSWORD_ENV, bridge_user(args.district)))
        ids = districts[args.district]
        text = bridge_config(args.district, ids, host, port, password, args.prefix, args.ca)
        note = "bridge of district %s: %d controllers, user %s on %s; append it to the district's mosquitto.conf" % (
            args.district, len(ids), bridge_user(args.district), args.central)
    out = Path(args.out)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(out, 0o600)
    print("%s: %s" % (out, note))
    return 0


def offsets(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from coordinator.cycle_splits import Timing
    from coordinator.offset_alternatives import compare

    cycle, split = int(args.cycle * 1000), int(args.coordinated_split * 1000)
    for c in _load_corridors(args.corridors):
        timings = []
        for ci in c.intersections:
            ids = [ci.ix.stage_ids[s] for s in ci.stage_order()]
            rest = len(ids) - 1
            if not 0 < split < cycle or (rest == 0 and split != cycle):
                raise UserError("--coordinated-split %g s must be below --cycle %g s" % (args.coordinated_split, args.cycle))
            others = [(cycle - split) // rest] * rest if rest else []
            if others:
                others[0] += cycle - split - sum(others)
            timings.append(Timing(cycle, ids, [split] + others))
        print("corridor %s: cycle %g s, coordinated split %g s" % (c.id, args.cycle, args.coordinated_split))
        print("  %-28s %8s %8s %8s  offsets (s)" % ("method", "forward", "backward", "total"))
        for r in compare(c, timings):
            print("  %-28s %7.1fs %7.1fs %7.1fs  %s" % (r["method"], r["forward_ms"] / 1000, r["backward_ms"] / 1000,
                                                     r["total_ms"] / 1000, " ".join("%g" % (o / 1000) for o in r["offsets_ms"])))
    return 0
