"""District brokers bridged to a central broker (mosquitto's own bridge), with real broker processes on
loopback: J1-J3 talk to district broker "west", J4-J5 to "east", the coordinator to the central broker.
West's broker dies and comes back: its controllers go free and return to coordination; east's never
notice (plans taken throughout, no report lost)."""

from __future__ import annotations

import os

import pytest

from controller.coordination.messages import PLAN_ACCEPTED

from coordinator.bus import MqttBus
from coordinator.broker_config import bridge_config, bridge_user, central_acl, district_acl, district_controllers
from coordinator.corridors import load_corridors
from coordinator.local_broker import LocalBroker
from coordinator.service import CoordinatorOptions, CoordinatorService
from tests.coordinator.conftest import PASSWORDS, edit_corridor, keys_for, need_mosquitto, wait_for
from tests.coordinator.field import FLOWS, T0
from tests.coordinator.field_sim import SimulatedController

COORDINATED = ("coordinated", "transition")


def district_corridors(corridor_file):
    """The bundled arterial as two corridors: J1-J3 in district west, J4-J5 in district east."""
    def change(raw):
        c = raw["corridors"][0]
        raw["corridors"] = [dict(c, id="west", intersections=c["intersections"][:3], links=c["links"][:2],
                                 district="west"),
                            dict(c, id="east", intersections=c["intersections"][3:], links=c["links"][3:],
                                 district="east")]
    return load_corridors(edit_corridor(corridor_file, change))


def test_bridge_and_acl_text(arterial_dir):
    districts = district_controllers(district_corridors(arterial_dir / "corridor.json"))
    assert districts == {"west": ["J1", "J2", "J3"], "east": ["J4", "J5"]}
    conf = bridge_config("east", districts["east"], "central.example", 8883, "secret", ca_file="ca.crt")
    lines = conf.splitlines()
    assert "address central.example:8883" in lines and "remote_username bridge-east" in lines
    assert "bridge_cafile ca.crt" in lines and "cleansession false" in lines
    topics = [x for x in lines if x.startswith("topic ")]
    assert topics == ["topic ampelwerk/%s/%s %s 1" % (cid, kind, way) for cid in ("J4", "J5")
                      for kind, way in (("report", "out"), ("plan_status", "out"), ("status", "out"),
                                        ("priority_status", "out"), ("plan", "in"), ("priority", "in"))]
    acl = central_acl(districts, coordinator_users=("coordinator",)).splitlines()
    east = acl[acl.index("user bridge-east") + 1:]
    assert east[:6] == ["topic write ampelwerk/J4/report", "topic write ampelwerk/J4/plan_status",
                        "topic write ampelwerk/J4/status", "topic write ampelwerk/J4/priority_status",
                        "topic read ampelwerk/J4/plan", "topic read ampelwerk/J4/priority"]
    assert not any("J1" in x for x in east) and "user coordinator" in acl
    assert "user" not in district_acl()


def test_broker_config_command(arterial_dir, tmp_path, capsys, monkeypatch):
    from ampelwerk.cli import main

    district_corridors(arterial_dir / "corridor.json")
    corridors = str(arterial_dir / "corridor.json")
    out = tmp_path / "east.conf"
    monkeypatch.delenv("AMPELWERK_BRIDGE_PASSWORD", raising=False)
    args = ["coordinator", "broker-config", "--corridors", corridors, "--district", "east", "--out", str(out)]
    assert main(args + ["--central", "mqtts://central.example:8883"]) == 2
    assert "give mqtts:// and the CA file together" in capsys.readouterr().err
    assert main(args + ["--central", "mqtt://central.example:1883"]) == 2
    assert "no bridge password" in capsys.readouterr().err
    monkeypatch.setenv("AMPELWERK_BRIDGE_PASSWORD", "secret")
    assert main(args + ["--central", "mqtt://central.example:1883"]) == 0
    assert out.read_text() == bridge_config("east", ["J4", "J5"], "central.example", 1883, "secret")
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert main(["coordinator", "broker-config", "--corridors", corridors, "--district", "north", "--central",
                 "mqtt://c:1883", "--out", str(out)]) == 2
    assert "district 'north' has no corridor" in capsys.readouterr().err
    acl = tmp_path / "central.acl"
    assert main(["coordinator", "broker-config", "--corridors", corridors, "--central-acl", "--coordinator-user",
                 "coordinator-a", "--coordinator-user", "coordinator-b", "--out", str(acl)]) == 0
    assert acl.read_text() == central_acl({"west": ["J1", "J2", "J3"], "east": ["J4", "J5"]},
                                          coordinator_users=("coordinator-a", "coordinator-b"))


class Districts:
    """A central broker with the coordinator, two district brokers bridged to it, five simulated controllers."""

    def __init__(self, tmp_path, corridors) -> None:
        self.corridors = corridors
        self.districts = district_controllers(corridors)
        self.keys = keys_for([cid for ids in self.districts.values() for cid in ids])
        bridge_pw = {d: "pw-" + bridge_user(d) for d in self.districts}
        self.central = LocalBroker(tmp_path / "central", dict({"coordinator": PASSWORDS["coordinator"]},
                                                              **{bridge_user(d): pw for d, pw in bridge_pw.items()}),
                                   acl=central_acl(self.districts))
        self.central.start()
        self.brokers = {}
        for d, ids in self.districts.items():
            self.brokers[d] = LocalBroker(tmp_path / d, {cid: PASSWORDS[cid] for cid in ids}, acl=district_acl(),
                                          extra_config=bridge_config(d, ids, "127.0.0.1", self.central.port,
                                                                     bridge_pw[d], restart_s=(1, 2)))
            self.brokers[d].start()
        self.wall_ms = T0
        self.controllers: dict[str, SimulatedController] = {}
        self.buses: list[MqttBus] = []
        by_id = {ci.controller_id: ci for c in corridors for ci in c.intersections}
        for d, ids in self.districts.items():
            for cid in ids:
                bus = MqttBus(self.brokers[d].url, cid, cid, PASSWORDS[cid], keepalive_s=5)
                self.controllers[cid] = SimulatedController(by_id[cid].ix, self.keys[cid], bus, FLOWS,
                                                            seed=int(cid[1:]))
                self.buses.append(bus.start())
        self.coordinator_bus = MqttBus(self.central.url, "coordinator", "coordinator", PASSWORDS["coordinator"],
                                       keepalive_s=5)
        self.service = CoordinatorService(corridors, self.keys, self.coordinator_bus.publish, CoordinatorOptions(
            state_path=str(tmp_path / "state.json"), compute_period_ms=120000, validity_ms=180000,
            refresh_ms=90000, retry_ms=20000, report_window_ms=600000))
        for f in self.service.subscriptions():
            self.coordinator_bus.subscribe(f, lambda t, p: self.service.on_message(t, p, self.wall_ms))
        self.buses.append(self.coordinator_bus.start())

    def run(self, seconds: int, real_s_per_sim_s: float = 0.003) -> None:
        """Advance simulated time in 100 ms ticks; the brokers get a little real time every simulated second."""
        import time

        for _ in range(seconds):
            for _ in range(10):
                self.wall_ms += 100
                for c in self.controllers.values():
                    c.step(100, self.wall_ms)
            time.sleep(real_s_per_sim_s)
            for b in self.buses:
                b.process(0)
            self.service.poll(self.wall_ms)

    def modes(self) -> dict[str, str]:
        return {cid: c.mode for cid, c in self.controllers.items()}

    def close(self) -> None:
        for b in self.buses:
            b.stop()
        for b in list(self.brokers.values()) + [self.central]:
            b.stop()


@pytest.mark.slow
def test_district_broker_dies_and_returns_other_district_never_notices(arterial_dir, tmp_path):
    need_mosquitto()
    f = Districts(tmp_path, district_corridors(arterial_dir / "corridor.json"))
    west, east = f.districts["west"], f.districts["east"]
    try:
        f.run(300)
        assert all(m in COORDINATED for m in f.modes().values()), f.modes()
        east_accepted = {cid: f.service.links[cid].accepted for cid in east}
        f.brokers["west"].stop()  # the district broker dies: its controllers lose their only broker
        assert wait_for(lambda: not any(b.connected.is_set() for b in f.buses[:len(west)]), 10)
        f.run(300)  # longer than a plan's validity (180 s)
        assert all(f.controllers[cid].mode == "free" for cid in west), f.modes()
        assert all(f.controllers[cid].mode in COORDINATED for cid in east), f.modes()
        assert all(f.service.links[cid].accepted > east_accepted[cid] for cid in east)
        f.brokers["west"].start()  # back, same port and persistent state; the bridge reconnects by itself
        assert all(b.wait_connected(15) for b in f.buses)
        f.run(300)
        assert all(m in COORDINATED for m in f.modes().values()), f.modes()
        # settle: the last messages in flight reach the coordinator
        for _ in range(20):
            f.run(1, real_s_per_sim_s=0.05)
    finally:
        f.close()
    for cid, c in f.controllers.items():
        names = [m for _, m in c.modes]
        assert c.conflicts_seen == 0 and c.flash_seen == 0, cid
        if cid in west:  # went free and came back
            assert "free" in names[1:] and names[-1] in COORDINATED, (cid, c.modes)
        else:  # coordinated from their first plan on, never free again, every plan taken
            first = next(k for k, m in enumerate(names) if m in COORDINATED)
            assert all(m in COORDINATED for m in names[first:]), (cid, c.modes)
            assert all(reason == PLAN_ACCEPTED for _, reason, _ in c.statuses), (cid, c.statuses)
        link = f.service.links[cid]
        assert link.reports.lost == 0 and link.reports.received > 0, (cid, link.reports.gaps)
