"""A corridor in the field for tests: mosquitto, the coordinator on MqttBus, five simulated controllers.

Simulated time runs faster than real time: the test owns the wall clock,
steps every controller in 100 ms ticks, and lets the broker carry the messages
between simulated seconds (a few ms of real time each).
"""

from __future__ import annotations

import time
from pathlib import Path

from coordinator.bus import MqttBus
from coordinator.corridors import load_corridors
from coordinator.service import CoordinatorOptions, CoordinatorService
from tests.coordinator.conftest import ARTERIAL, PASSWORDS, keys_for
from tests.coordinator.field_sim import SimulatedController

T0 = 1795333100000
FLOWS = {"K1": 300.0, "K2": 900.0}


class Field:
    def __init__(self, broker, state_path: Path, ids=("J1", "J2", "J3", "J4", "J5")) -> None:
        self.broker = broker
        self.corridors = load_corridors(ARTERIAL)
        self.keys = keys_for(self.corridors[0].controller_ids())
        self.state_path = state_path
        self.wall_ms = T0
        self.controllers: dict[str, SimulatedController] = {}
        self.buses: dict[str, MqttBus] = {}
        self.services: list[CoordinatorService] = []
        by_id = {ci.controller_id: ci for ci in self.corridors[0].intersections}
        for k, cid in enumerate(ids):
            bus = MqttBus(broker.url, cid, cid, PASSWORDS[cid], keepalive_s=5)
            self.controllers[cid] = SimulatedController(by_id[cid].ix, self.keys[cid], bus, FLOWS, seed=k + 1)
            bus.start()
            self.buses[cid] = bus
        self.start_coordinator()

    def options(self) -> CoordinatorOptions:
        return CoordinatorOptions(state_path=str(self.state_path), compute_period_ms=120000, validity_ms=180000,
                                  refresh_ms=90000, retry_ms=20000, report_window_ms=600000)

    def start_coordinator(self) -> CoordinatorService:
        bus = MqttBus(self.broker.url, "coordinator-main", "coordinator", PASSWORDS["coordinator"], keepalive_s=5)
        svc = CoordinatorService(self.corridors, self.keys, bus.publish, self.options())
        for f in svc.subscriptions():
            bus.subscribe(f, lambda t, p, svc=svc: svc.on_message(t, p, self.wall_ms))
        bus.start()
        self.coordinator_bus = bus
        self.service = svc
        self.services.append(svc)
        return svc

    def kill_coordinator(self) -> None:
        """As a crash: no DISCONNECT, the broker keeps the persistent session and queues for it."""
        c = self.coordinator_bus.client
        c.loop_stop()
        sock = c.socket()
        if sock is not None:
            sock.close()
        self.coordinator_bus = None
        self.service = None

    def pump(self) -> None:
        for bus in list(self.buses.values()) + ([self.coordinator_bus] if self.coordinator_bus else []):
            bus.process(0)

    def run(self, seconds: float, step_ms: int = 100, real_s_per_sim_s: float = 0.002) -> None:
        """Advance simulated time; between simulated seconds the broker gets a little real time."""
        for _ in range(int(seconds)):
            for _ in range(1000 // step_ms):
                self.wall_ms += step_ms
                for c in self.controllers.values():
                    c.step(step_ms, self.wall_ms)
            time.sleep(real_s_per_sim_s)
            self.pump()
            if self.service is not None:
                self.service.poll(self.wall_ms)

    def settle(self, real_s: float = 0.3) -> None:
        end = time.monotonic() + real_s
        while time.monotonic() < end:
            self.pump()
            time.sleep(0.01)

    def modes(self) -> dict[str, str]:
        return {cid: c.mode for cid, c in self.controllers.items()}

    def wait_connected(self, timeout_s: float = 15.0) -> bool:
        buses = list(self.buses.values()) + ([self.coordinator_bus] if self.coordinator_bus else [])
        return all(b.wait_connected(timeout_s) for b in buses)

    def close(self) -> None:
        for b in list(self.buses.values()) + ([self.coordinator_bus] if self.coordinator_bus else []):
            try:
                b.stop()
            except Exception:
                pass
