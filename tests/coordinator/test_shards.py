"""Sharded coordinators against a real mosquitto: corridors split over two `coordinator serve --shard`
processes; one is killed and restarted (as its service manager would) while the other's controllers keep
getting plans, and the restarted one serves its corridors again with seqs above those it sent before."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from controller.coordination.messages import MODE_FREE, Report, decode_plan, encode_report

from coordinator.bus import MqttBus
from coordinator.corridors import CorridorError, load_corridors
from coordinator.local_broker import LocalBroker, controller_acl
from coordinator.shards import select_shard, shard_state_path
from tests.conftest import ROOT
from tests.coordinator.conftest import PASSWORDS, edit_corridor, keys_for, need_mosquitto, wait_for
from tests.subprocesses import interrupt, interruptible

WEST, EAST = ["J1", "J2", "J3"], ["J4", "J5"]


def split_arterial(corridor_file, shards=("a", "b")):
    """The bundled arterial as two corridors: J1-J3 (shard a) and J4-J5 (shard b)."""
    def change(raw):
        c = raw["corridors"][0]
        west = dict(c, id="west", intersections=c["intersections"][:3], links=c["links"][:2], shard=shards[0])
        east = dict(c, id="east", intersections=c["intersections"][3:], links=c["links"][3:], shard=shards[1])
        raw["corridors"] = [west, east]
    return edit_corridor(corridor_file, change)


def test_shard_selection(arterial_dir):
    path = split_arterial(arterial_dir / "corridor.json")
    corridors = load_corridors(path)
    assert [c.id for c in select_shard(corridors, "a")] == ["west"]
    assert [c.id for c in select_shard(corridors, "b")] == ["east"]
    with pytest.raises(CorridorError, match="shard 'c' owns no corridor \\(shards in the file: a, b\\)"):
        select_shard(corridors, "c")
    edit_corridor(path, lambda raw: raw["corridors"][1].pop("shard"))
    with pytest.raises(CorridorError, match="corridor east names no shard"):
        select_shard(load_corridors(path), "a")
    edit_corridor(path, lambda raw: raw["corridors"][1].update(shard="no/slash"))
    with pytest.raises(CorridorError, match="shard='no/slash' is not a name"):
        load_corridors(path)
    assert shard_state_path("coordinator-state.json", "a") == "coordinator-state-a.json"


@pytest.mark.slow
def test_killed_shard_is_replaced_and_the_other_shard_never_notices(arterial_dir, tmp_path):
    need_mosquitto()
    corridors = split_arterial(arterial_dir / "corridor.json")
    users = dict({"coordinator-a": "pw-a", "coordinator-b": "pw-b"}, **{c: PASSWORDS[c] for c in WEST + EAST})
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({cid: k.hex() for cid, k in keys_for(WEST + EAST).items()}))
    os.chmod(keys, 0o600)
    broker = LocalBroker(tmp_path / "broker", users, acl=controller_acl(coordinator_users=("coordinator-a",
                                                                                          "coordinator-b")))
    broker.start()
    procs: dict[str, subprocess.Popen] = {}
    logs = {}

    def serve(shard: str) -> None:  # what the service manager (re)starts: one process per shard
        logs[shard] = tmp_path / ("serve-%s-%d.log" % (shard, len([k for k in logs if k == shard])))
        cmd = [sys.executable, "-m", "ampelwerk", "coordinator", "serve", "--corridors", str(corridors),
               "--broker", broker.url, "--keys", str(keys), "--shard", shard, "--state",
               str(tmp_path / ("state-%s.json" % shard)), "--validity", "10", "--compute-period", "2",
               "--status-every", "1"]
        env = dict(os.environ, AMPELWERK_MQTT_PASSWORD=users["coordinator-" + shard])
        with open(logs[shard], "w") as out:
            procs[shard] = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
                                            preexec_fn=interruptible)

    plans: dict[str, list] = {cid: [] for cid in WEST + EAST}
    buses = []
    try:
        for cid in WEST + EAST:
            b = MqttBus(broker.url, cid, cid, PASSWORDS[cid])
            b.subscribe("ampelwerk/%s/plan" % cid, lambda t, p, cid=cid: plans[cid].append(decode_plan(p)))
            buses.append(b.start())
        serve("a")
        serve("b")
        assert wait_for(lambda: all(plans.values()), 30, pump=buses), {k: len(v) for k, v in plans.items()}
        assert {p.corridor for cid in WEST for p in plans[cid]} == {"west"}
        assert {p.corridor for cid in EAST for p in plans[cid]} == {"east"}
        procs["a"].send_signal(signal.SIGKILL)  # a crash: no status, no DISCONNECT
        procs["a"].wait(10)
        killed_at = {cid: len(plans[cid]) for cid in WEST}
        last_west_seq = {cid: plans[cid][-1].seq for cid in WEST}
        east_before = {cid: len(plans[cid]) for cid in EAST}
        time.sleep(12)  # longer than a plan's validity: east must be refreshed meanwhile (every 5 s)
        for b in buses:
            b.process(0)
        assert all(len(plans[cid]) == killed_at[cid] for cid in WEST), "a dead shard sent plans"
        assert all(len(plans[cid]) >= east_before[cid] + 2 for cid in EAST), {c: len(plans[c]) for c in EAST}
        serve("a")  # the replacement, with the same state file
        assert wait_for(lambda: all(len(plans[cid]) > killed_at[cid] for cid in WEST), 30, pump=buses), \
            logs["a"].read_text()
        for cid in WEST:
            assert plans[cid][killed_at[cid]].seq > last_west_seq[cid]
        # every controller reports once: each shard sees only its own controllers' messages
        now = int(time.time() * 1000)
        for b, cid in zip(buses, WEST + EAST):
            b.publish("ampelwerk/%s/report" % cid,
                      encode_report(Report(cid, 1, now, 60000, MODE_FREE, 0, ["K1", "K2"], [3, 4], [0, 0], [])))
        assert wait_for(lambda: "status: 3 controllers, 3 reports" in logs["a"].read_text()
                        and "status: 2 controllers, 2 reports" in logs["b"].read_text(), 20, pump=buses)
    finally:
        stopped = [interrupt(p) for p in procs.values()]
        for b in buses:
            b.stop()
        broker.stop()
    assert all(stopped), "a serve process did not stop within 30 s of Ctrl-C"
    # east never went without a valid plan: each plan arrived before the one before it expired
    for cid in EAST:
        for prev, nxt in zip(plans[cid], plans[cid][1:]):
            assert nxt.valid_from_ms <= prev.valid_until_ms and nxt.seq > prev.seq
    for shard, ids in (("a", WEST), ("b", EAST)):
        text = logs[shard].read_text()
        assert "unknown_controller 0" in text and "Traceback" not in text, text
        assert sorted(json.loads((tmp_path / ("state-%s.json" % shard)).read_text())["seq"]) == ids
