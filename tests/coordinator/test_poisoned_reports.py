"""Fault injection `sim run --coordinated --poison-reports ID` without SUMO: the run's coordination (the real
service, every corridor controller's core and agent) with J3 publishing a poisoned report every second."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampelwerk.poisoned_reports import KINDS, PoisonedReports
from ampelwerk.sim_coordination import BrokerSpec, SimCoordination
from controller.coordination.messages import decode_report
from controller.core import Controller
from controller.coordination.message_fields import MessageError
from coordinator.corridors import load_corridors
from tests.coordinator.conftest import ARTERIAL, need_mosquitto

IDS = ["J1", "J2", "J3", "J4", "J5"]


def test_every_poisoned_report_is_refused_as_a_whole():
    poisons = PoisonedReports("J3", ["K1", "K2"], "J1")
    for k in range(len(KINDS)):
        name, payload = poisons.payload(k, 1795333100000)
        try:
            r = decode_report(payload)
        except MessageError:
            continue
        # decodes, but the coordinator refuses it for J3 (another controller's name, a group J3 lacks)
        assert r.controller_id != "J3" or "no-such-group" in r.group_ids, name


def _run(seconds: int, broker: BrokerSpec | None, workdir: Path) -> SimCoordination:
    corridors = load_corridors(ARTERIAL)
    cores = {"tls-" + ci.controller_id: Controller(ci.ix, "coordinated") for ci in corridors[0].intersections}
    sim = SimCoordination(corridors, cores, 100, broker, workdir, report_period_ms=30000, poison="J3")
    presence = {tls: bytearray(c.ix.n_detectors) for tls, c in cores.items()}
    try:
        for k in range(1, seconds * 10 + 1):
            for tls, c in cores.items():
                presence[tls][0] = 1 if k % 37 < 3 else 0  # a few vehicles on the first loop
                c.step(100, presence[tls])
            sim.step(k / 10)
    finally:
        sim.close()
    return sim


@pytest.mark.parametrize("transport", ["in-process", pytest.param("mosquitto", marks=pytest.mark.slow)])  # ~20 s
def test_one_controller_poisoning_its_reports_costs_no_one_a_plan(transport: str, tmp_path: Path) -> None:
    broker = None
    if transport == "mosquitto":
        need_mosquitto()
        broker = BrokerSpec("local")
    sim = _run(400, broker, tmp_path)
    rows = {r["controller"]: r for r in sim.summary()["coordination"]["controllers"]}
    assert sim.poisoned_sent == 400
    assert sum(rows["J3"]["bad_input"].values()) == 400  # every one refused and counted for J3
    assert rows["J3"]["reports"] == 13  # its real reports, every 30 s, still used
    for cid in IDS:
        # plans at 0 s and refreshed every 300 s; every one taken
        assert rows[cid]["plans_accepted_by_controller"] >= 2 and rows[cid]["plans_refused_by_controller"] == 0
        assert rows[cid]["mode_s"].get("coordinated", 0) + rows[cid]["mode_s"].get("transition", 0) > 300, rows[cid]
        if cid != "J3":
            assert rows[cid]["bad_input"] == {}
    assert sim.service.counters["corridor_errors"] == 0 and sim.service.counters["plan_errors"] == 0
