"""A coordinated SUMO run: the corridor coordinator and the controllers' agents around `sim run`. Host only.

``ampelwerk sim run SCENARIO --coordinated`` (the same as ``--controller
ampelwerk-coordinated``) runs every traffic light of the scenario's corridor
with the core's ``coordinated`` strategy and every other light with the
free strategy given (``ampelwerk-adaptive`` by default). Each corridor light
gets a CoordinationAgent, exactly as on a board; the real CoordinatorService
collects the agents' reports, computes the corridor's cycle, splits and
offsets, signs a plan per controller and publishes it; each agent checks the
plan (signature, seq, validity, local bounds) and answers with a status.

Transport: an InProcessBus by default (deterministic, no server), or a real
MQTT broker (``broker``): ``local`` starts a private mosquitto for the run
(a user and password per controller and the per-controller topic ACL), any
``mqtt://`` or ``mqtts://`` URL uses that broker with the users and
passwords of a JSON file. Over a broker, each step waits (bounded) until the
messages it sent have been handed on, so simulated time does not run away
from the messages.

Time: the controllers' and the coordinator's wall clock is the simulation
time counted from WALL_BASE_MS (SUMO second 0), so plans, validity windows
and reports line up with the run. Where sim/ sits in this: sim/ never
imports the coordinator; this module hands sim.runner.run a controller
factory, a step hook and a summary hook. Units: s at the SUMO boundary, ms
towards the core and the coordinator.

Fault injection: with ``poison`` one corridor controller also publishes a
poisoned report (ampelwerk/poisoned_reports.py) on its report topic every
simulated second, over the same transport; the summary counts them, and the
coordinator's per-controller bad input shows what became of them.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

log = logging.getLogger("ampelwerk.sim_coordination")

WALL_BASE_MS = 1767254400000  # SUMO second 0 = 2026-01-01T08:00:00Z (the coordinator's ref_ms + 8 h)
COORDINATED_CONTROLLER = "ampelwerk-coordinated"
SETTLE_TIMEOUT_S = 5.0  # over a broker: longest wait for the messages of one step to be handed on


@dataclass
class BrokerSpec:
    """Where the messages go: None (in-process), "local" (a private mosquitto) or a broker URL."""

    url: str | None = None
    passwords_file: Path | None = None  # JSON {"username": "password"}: "coordinator" and one per controller
    ca_file: Path | None = None  # CA of an mqtts:// broker


def corridor_for_run(opts: Any, imported: Any, corridor_file: Path | None) -> Path:
    """The corridor file of the run: the one given, else derived from the net into the run directory."""
    if corridor_file is not None:
        return Path(corridor_file)
    from sim.corridor_import import write_corridor

    path = write_corridor(Path(opts.scenario), imported.configs, Path(opts.out_dir) / "corridor.json")[0]
    log.info("corridor derived from the net: %s", path)
    return path


class SimCoordination:
    """The coordinator and one agent per corridor controller, stepped by the SUMO run (see module header)."""

    def __init__(self, corridors: list[Any], cores: dict[str, Any], step_ms: int, broker: BrokerSpec | None = None,
                 workdir: Path | None = None, report_period_ms: int = 60000, options: Any = None,
                 poison: str | None = None) -> None:
        from controller.coordination.agent import CoordinationAgent
        from coordinator.service import CoordinatorOptions, CoordinatorService

        self.corridors = corridors  # coordinator.corridors.load_corridors()
        by_id = {core.ix.id: (tls, core) for tls, core in cores.items()}
        ids = [ci.controller_id for c in self.corridors for ci in c.intersections]
        missing = [cid for cid in ids if cid not in by_id]
        if missing:
            raise ValueError("corridor %s names controllers the run does not have: %s (controllers: %s)" % (
                ", ".join(c.id for c in corridors), ", ".join(missing), ", ".join(sorted(by_id))))
        self.step_ms = step_ms
        self.keys = {cid: secrets.token_bytes(32) for cid in ids}
        self.agents = {}
        for cid in ids:
            tls, core = by_id[cid]
            if getattr(core.strategy, "set_plan", None) is None:
                raise ValueError("traffic light %s on the corridor runs the %s strategy, not coordinated" % (
                    tls, getattr(core.strategy, "name", "?")))
            self.agents[cid] = CoordinationAgent(core, self.keys[cid], report_period_ms)
        self.poison = poison  # a controller that also publishes a poisoned report every simulated second
        self.poisoned_sent = 0
        if poison is not None:
            if poison not in ids:
                raise ValueError("--poison-reports %s is not a controller on the corridor (controllers: %s)"
                                 % (poison, ", ".join(ids)))
            from ampelwerk.poisoned_reports import PoisonedReports

            self._poisons = PoisonedReports(poison, list(by_id[poison][1].ix.group_ids),
                                            next((cid for cid in ids if cid != poison), "J0"))
        self.mode_s: dict[str, dict[str, float]] = {cid: {} for cid in ids}
        self.wall_ms = WALL_BASE_MS
        self.broker_spec = broker or BrokerSpec()
        self._local = None
        self._buses: dict[str, Any] = {}
        self.coordinator_bus, controller_bus = self._connect(ids, workdir)
        self.service = CoordinatorService(self.corridors, self.keys, self.coordinator_bus.publish,
                                          options or CoordinatorOptions())
        for f in self.service.subscriptions():
            self.coordinator_bus.subscribe(f, self._to_service)
        for cid, agent in self.agents.items():
            bus = controller_bus(cid)
            bus.subscribe(agent.plan_topic, self._plan_handler(cid, bus))
            self._buses[cid] = bus
        if self.broker_spec.url is not None:
            for bus in [self.coordinator_bus] + list(self._buses.values()):
                bus.start()
            for cid, bus in self._buses.items():
                bus.publish(self.agents[cid].status_topic, b"online", retain=True)

    # ---- transport ---------------------------------------------------------------------------------
    def _connect(self, ids: list[str], workdir: Path | None):
        """(coordinator bus, controller id -> that controller's bus)."""
        from coordinator.bus import InProcessBus, MqttBus

        spec = self.broker_spec
        if spec.url is None:
            bus = InProcessBus()
            return bus, lambda cid: bus
        if spec.url == "local":
            from coordinator.local_broker import COORDINATOR_USER, LocalBroker

            passwords = {u: secrets.token_hex(12) for u in [COORDINATOR_USER] + ids}
            folder = Path(workdir or tempfile.mkdtemp(prefix="ampelwerk-broker-"))
            self._local = LocalBroker(folder / "broker", passwords, persistence=False).start()
            url, ca = self._local.url, None
        else:
            passwords = json.loads(Path(spec.passwords_file).read_text()) if spec.passwords_file else {}
            url, ca = spec.url, str(spec.ca_file) if spec.ca_file else None
        # a broker that ties client ids to user names (LocalBroker) ignores this tag and uses the user: the
        # users of --mqtt-passwords must not be the field's, or the run pushes the field's clients off
        tag = "%x" % (os.getpid() & 0xFFFF)
        coord = MqttBus(url, "coordinator-sim-" + tag, "coordinator", passwords.get("coordinator"), ca,
                        clean_session=True)
        return coord, lambda cid: MqttBus(url, cid, cid, passwords.get(cid), ca, clean_session=True)

    def _to_service(self, topic: str, payload: bytes) -> None:
        self.service.on_message(topic, payload, self.wall_ms)

    def _plan_handler(self, cid: str, bus: Any):
        agent = self.agents[cid]

        def on_plan(topic: str, payload: bytes) -> None:
            if payload:
                bus.publish(agent.plan_status_topic, agent.offer_plan(payload, self.wall_ms))

        return on_plan

    def _settle(self, expect_service: int, expect_plans: int) -> None:
        """Over a broker: hand messages on until the service has had expect_service more messages and the
        controllers expect_plans more plans, or SETTLE_TIMEOUT_S has passed (the rest comes later)."""
        if self.broker_spec.url is None:
            return
        c = self.service.counters
        handled = lambda: c["reports"] + c["accepted"] + c["rejected"] + c["stale_status"] + c["bad_input"]  # noqa: E731
        target_service = handled() + expect_service
        plans = 0
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            for bus in self._buses.values():
                plans += bus.process(0)
            self.coordinator_bus.process(0.002)
            if handled() >= target_service and plans >= expect_plans:
                return
        log.warning("broker: messages of t=%d ms still on their way after %g s", self.wall_ms - WALL_BASE_MS,
                    SETTLE_TIMEOUT_S)

    # ---- the run's hooks ---------------------------------------------------------------------------
    def step(self, now_s: float) -> None:
        """After every SUMO step: reports that are due, the coordinator's poll, plans and their answers."""
        from controller.coordination.messages import MODE_NAMES

        self.wall_ms = WALL_BASE_MS + round(now_s * 1000)
        reports = 0
        for cid, agent in self.agents.items():
            modes = self.mode_s[cid]
            name = MODE_NAMES[agent.mode]
            modes[name] = modes.get(name, 0.0) + self.step_ms / 1000
            if agent.advance(self.step_ms):
                self._buses[cid].publish(agent.report_topic, agent.report(self.wall_ms))
                reports += 1
        if self.poison is not None and (self.wall_ms - WALL_BASE_MS) // 1000 != (
                self.wall_ms - WALL_BASE_MS - self.step_ms) // 1000:  # once per simulated second
            _, payload = self._poisons.payload(self.poisoned_sent, self.wall_ms)
            self._buses[self.poison].publish(self.agents[self.poison].report_topic, payload)
            self.poisoned_sent += 1
            reports += 1
        self._settle(reports, 0)
        sent = self.service.poll(self.wall_ms)
        self._settle(len(sent), len(sent))  # the plans reach their controllers, then their statuses come back

    def summary(self) -> dict:
        """The ``coordination`` section of summary.json."""
        spec = self.broker_spec
        rows = self.service.controller_summary()
        for row in rows:
            agent = self.agents[row["controller"]]
            row["mode_s"] = {k: round(v, 1) for k, v in sorted(self.mode_s[row["controller"]].items())}
            row["plans_accepted_by_controller"] = agent.plans_accepted
            row["plans_refused_by_controller"] = agent.plans_rejected
            if row["controller"] == self.poison:
                row["poisoned_reports_sent"] = self.poisoned_sent
        timing = {}
        for cid, cs in self.service.corridors.items():
            t = cs.timing
            if t is not None:
                timing[cid] = {"version": cs.version, "cycle_ms": t.cycle.cycle_ms, "critical": t.cycle.critical,
                               "offsets_ms": list(t.offsets_ms),
                               "splits_ms": {ci.controller_id: list(tm.split_ms)
                                             for ci, tm in zip(cs.corridor.intersections, t.timings)}}
        return {"coordination": {
            "transport": "in-process" if spec.url is None else ("mosquitto (local)" if spec.url == "local"
                                                                 else _public_url(spec.url)),
            "corridors": [c.id for c in self.corridors],
            "counters": dict(self.service.counters),
            "timing_in_force": timing,
            "controllers": rows,
        }}

    def close(self) -> None:
        """Disconnect every MQTT client and stop a local broker (nothing to do in-process)."""
        if self.broker_spec.url is not None:
            for bus in list(self._buses.values()) + [self.coordinator_bus]:
                try:
                    bus.stop()
                except Exception:  # noqa: BLE001 - closing down: a dead connection is fine
                    pass
        if self._local is not None:
            self._local.stop()


def _public_url(url: str) -> str:
    """The URL without a password."""
    from urllib.parse import urlparse

    u = urlparse(url)
    return "%s://%s:%s" % (u.scheme, u.hostname, u.port) if u.password else url


def run_coordinated(opts: Any, imported: Any = None, corridor_file: Path | None = None,
                    broker: BrokerSpec | None = None, free_strategy: str = "adaptive", poison: str | None = None) -> dict:
    """One coordinated SUMO run (see module header); returns the summary (also in summary.json)."""
    from controller.core import Controller
    from sim.runner import import_for_run, run

    opts = replace(opts, controller=COORDINATED_CONTROLLER)
    Path(opts.out_dir).mkdir(parents=True, exist_ok=True)
    if imported is None:
        imported = import_for_run(opts)
    from coordinator.corridors import load_corridors

    corridor_file = corridor_for_run(opts, imported, corridor_file)
    corridors = load_corridors(corridor_file)
    on_corridor = {ci.controller_id for c in corridors for ci in c.intersections}
    opts = replace(opts, corridor_file=corridor_file)
    holder: dict[str, SimCoordination] = {}
    cores: dict[str, Any] = {}

    def factory(tls: str, ix: Any) -> Any:
        cores[tls] = Controller(ix, "coordinated" if ix.id in on_corridor else free_strategy)
        if len(cores) == len(imported.configs):  # the last core: connect before SUMO starts
            holder["c"] = SimCoordination(corridors, cores, round(opts.step_length * 1000), broker,
                                          Path(opts.out_dir), poison=poison)
        return cores[tls]

    def step(now_s: float) -> None:
        holder["c"].step(now_s)

    try:
        return run(opts, controller_factory=factory, imported=imported, step_hooks=[step],
                   summary_hooks=[lambda: holder["c"].summary()])
    finally:
        if "c" in holder:
            holder["c"].close()


def run_in_compare(opts: Any, imported: Any = None) -> dict:
    """`sim compare`'s runner for ampelwerk-coordinated: in-process, on the run's corridor file (if any)."""
    return run_coordinated(opts, imported, corridor_file=opts.corridor_file)


def arterial_line(a: dict) -> str:
    """One line on a corridor run's arterial metrics, for `sim run`."""
    parts = []
    for d in ("forward", "backward"):
        m = a[d]["inner"]
        if m["vehicles"]:
            parts.append("%s %d veh, %.2f stops/veh, %.1f s" % (d, m["vehicles"], m["stops_per_vehicle"],
                                                                m["travel_time_s"]))
    return "arterial %s (stop line 1 to %d): %s" % (a["corridor"], len(a["tls"]), "; ".join(parts) or "no vehicles")


def run_coordinated_from_args(args: Any, opts: Any) -> dict:
    """sim run --coordinated: in-process coordinator, or over --broker."""
    from ampelwerk.cli import UserError
    from coordinator.bus import BusError
    from coordinator.corridors import CorridorError
    from coordinator.local_broker import BrokerError

    free = args.controller if args.controller not in (None, "ampelwerk-coordinated") else "ampelwerk-adaptive"
    if not free.startswith("ampelwerk-"):
        raise UserError("--coordinated: --controller names the ampelwerk strategy of the lights off the corridor "
                        "(e.g. ampelwerk-adaptive), not %s" % free)
    for name in ("mqtt_passwords", "ca"):
        f = getattr(args, name)
        if f and not Path(f).is_file():
            raise UserError("--%s %s: no such file" % (name.replace("_", "-"), f))
    broker = BrokerSpec(args.broker, Path(args.mqtt_passwords) if args.mqtt_passwords else None,
                        Path(args.ca) if args.ca else None) if args.broker else None
    try:
        return run_coordinated(opts, corridor_file=opts.corridor_file, broker=broker,
                               free_strategy=free[len("ampelwerk-"):], poison=args.poison_reports)
    except (CorridorError, BusError, BrokerError) as e:
        raise UserError(str(e)) from None
