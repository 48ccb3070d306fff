"""Simulated field controllers for the coordinator tests: the real core, stepped in simulated time. Host only.

A SimulatedController is one intersection as it runs in the field: the core
(controller.core.Controller with the ``coordinated`` strategy) and its
CoordinationAgent, connected to a bus (MqttBus for a real broker, InProcessBus
in one process). Vehicles arrive at every loop as a Poisson stream (given in
veh/h per signal group, split over the group's loops) and occupy the loop for
``occupancy_ms``. The caller owns time: ``step(elapsed_ms, wall_ms)`` advances
the controller and hands in the true wall clock; ``clock_skew_ms`` makes the
controller's own clock run ahead (or behind) of it. Every tick is checked for
what the field must never see: two conflicting signal groups out of red at
once, or the conflict monitor latched. Units: ms, veh/h.
"""

from __future__ import annotations

import random
from typing import Protocol

from controller.coordination.messages import MODE_NAMES
from controller.core import Controller
from controller.coordination.agent import CoordinationAgent
from controller.intersection import NO_GROUP, Intersection
from controller.safety.signal_states import GREEN, YELLOW


class Bus(Protocol):
    def subscribe(self, topic_filter: str, handler) -> None: ...
    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None: ...


class SimulatedController:
    """One field controller on a bus; see module header."""

    def __init__(self, ix: Intersection, key: bytes, bus: Bus, flows_vph: dict[str, float] | None = None,
                 report_period_ms: int = 60000, clock_skew_ms: int = 0, occupancy_ms: int = 300,
                 seed: int = 1) -> None:
        self.ctl = Controller(ix, "coordinated")
        self.ix = ix
        self.agent = CoordinationAgent(self.ctl, key, report_period_ms)
        self.bus = bus
        self.clock_skew_ms = clock_skew_ms
        self.wall_ms = 0  # true wall time of the last step
        self.rng = random.Random(seed)
        flows = flows_vph or {}
        self.rate_per_ms = []  # arrival rate per loop
        for d in range(ix.n_detectors):
            g = ix.detector_group[d]
            if g == NO_GROUP:  # an exit loop: no arrivals of its own here
                self.rate_per_ms.append(0.0)
                continue
            loops = len(ix.group_detectors[g]) or 1
            self.rate_per_ms.append(flows.get(ix.group_ids[g], 0.0) / 3600000.0 / loops)
        self.occupancy_ms = occupancy_ms
        self.occupied_until = [0] * ix.n_detectors
        self.presence = bytearray(ix.n_detectors)
        self.uptime_ms = 0
        self.conflicts_seen = 0
        self.flash_seen = 0
        self.reports_sent = 0
        self.statuses: list[tuple[int, int, str]] = []  # (seq, reason, text) of every plan offered
        self.modes: list[tuple[int, str]] = []  # (wall_ms, mode) at every mode change
        bus.subscribe(self.agent.plan_topic, self._on_plan)

    @property
    def id(self) -> str:
        return self.agent.controller_id

    @property
    def own_clock_ms(self) -> int:
        return self.wall_ms + self.clock_skew_ms

    @property
    def mode(self) -> str:
        return MODE_NAMES[self.agent.mode]

    def _on_plan(self, topic: str, payload: bytes) -> None:
        if not payload:
            return
        status = self.agent.offer_plan(payload, self.own_clock_ms)
        self.statuses.append((self.agent.gate.last_seq, self.agent.last_reason, self.agent.last_text))
        self.bus.publish(self.agent.plan_status_topic, status)

    def step(self, elapsed_ms: int, wall_ms: int) -> None:
        """Advance by elapsed_ms (true wall clock now wall_ms); publish a report when one is due."""
        self.wall_ms = wall_ms
        self.uptime_ms += elapsed_ms
        now = self.uptime_ms
        for d, rate in enumerate(self.rate_per_ms):
            if rate > 0 and self.rng.random() < rate * elapsed_ms:
                self.occupied_until[d] = now + self.occupancy_ms
            self.presence[d] = 1 if self.occupied_until[d] > now else 0
        out = self.ctl.step(elapsed_ms, self.presence)
        if self.ctl.flashing:
            self.flash_seen += 1
        ix = self.ix
        for a in range(ix.n_groups):
            if out[a] == GREEN or out[a] == YELLOW:
                for b in ix.conflicts[a]:
                    if b > a and (out[b] == GREEN or out[b] == YELLOW):
                        self.conflicts_seen += 1
        mode = self.mode
        if not self.modes or self.modes[-1][1] != mode:
            self.modes.append((wall_ms, mode))
        if self.agent.advance(elapsed_ms):
            self.bus.publish(self.agent.report_topic, self.agent.report(self.own_clock_ms))
            self.reports_sent += 1
