"""Exit loops in SUMO (sim import --exit-loops): placed past each junction, named by the approach
loops whose lanes lead onto them, read by the core in a run that stays safe."""

from __future__ import annotations

import csv
import json

import pytest

from sim.detector_layout import EXIT_LOOP_M
from sim.net_import import import_scenario
from sim.runner import RunOptions, run
from sim.scenarios import resolve

pytestmark = pytest.mark.sumo


def test_every_outgoing_lane_gets_an_exit_loop_its_feeders_name(tmp_path):
    import sumolib

    res = import_scenario(resolve("arterial5"), tmp_path, exit_loops=True)
    net = sumolib.net.readNet(str(res.net_file), withPrograms=True)
    plain = import_scenario(resolve("arterial5"), tmp_path / "plain")
    for tls_id, path in res.configs.items():
        dets = json.loads(path.read_text())["detectors"]
        exits = {d["id"]: d for d in dets if d["kind"] == "exit"}
        place = {p.id: p for p in res.mappings[tls_id].detectors}
        tls = net.getTLS(tls_id)
        outgoing = {c[1].getID() for c in tls.getConnections()}
        assert {place[x].lane for x in exits} == outgoing
        for x in exits:
            assert place[x].pos_m == min(EXIT_LOOP_M, net.getLane(place[x].lane).getLength() / 2)
        for d in dets:
            if d["kind"] in ("stop_bar", "advance"):
                leads = {c[1].getID() for c in tls.getConnections() if c[0].getID() == d["lane"]}
                assert {place[x].lane for x in d["exits"]} == leads
        # without the option: the same config less the exit loops and their names
        bare = json.loads(plain.configs[tls_id].read_text())["detectors"]
        assert bare == [{k: v for k, v in d.items() if k != "exits"} for d in dets if d["kind"] != "exit"]


@pytest.mark.slow
def test_a_run_with_exit_loops_reads_them_and_stays_safe(tmp_path):
    opts = RunOptions(scenario=resolve("arterial5"), controller="ampelwerk-adaptive", out_dir=tmp_path,
                      end=900, exit_loops=True, progress=False)
    summary = run(opts)
    assert summary["signal_check"]["violations"] == 0
    configs = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "import").glob("*.json")}
    exit_params = {(c["source"]["sumo"]["tls_id"], str(i + 1)) for c in configs.values()
                   for i, d in enumerate(c["detectors"]) if d["kind"] == "exit"}
    with open(tmp_path / "events.csv") as f:
        seen = {(r["tls_id"], r["event_param"]) for r in csv.DictReader(f) if r["event_code"] == "82"}
    assert len(seen & exit_params) >= len(exit_params) // 2  # vehicles leave over most of them
