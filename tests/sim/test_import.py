"""SUMO import of the bundled scenarios: configs the core accepts, consistent with the nets' programs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sim.net_import import ImportResult, NetImportError, import_command, import_scenario
from sim.scenarios import read_sumocfg, resolve

pytestmark = pytest.mark.sumo


def program_phases(net, tls_id: str, program_id: str) -> list[str]:
    return [p.state for p in net.getTLS(tls_id).getPrograms()[program_id].getPhases()]


def read_net(result: ImportResult):
    import sumolib

    return sumolib.net.readNet(str(result.net_file), withPrograms=True, withPedestrianConnections=True)


def check_import(result: ImportResult) -> None:
    """Every imported config validates and agrees with the net it came from."""
    from controller.config.loading import load_file

    net = read_net(result)
    tls_ids = {t.getID() for t in net.getTrafficLights() if t.getPrograms()}
    assert set(result.configs) == tls_ids
    n_loops = 0
    for tls_id, path in result.configs.items():
        ix = load_file(str(path))
        raw = json.loads(Path(path).read_text())
        src = raw["source"]["sumo"]
        assert src["tls_id"] == tls_id
        phases = program_phases(net, tls_id, src["program_id"])
        assert src["link_count"] == len(phases[0]) == len(src["green_chars"])
        links = src["group_links"]
        covered = sorted(i for ls in links.values() for i in ls) + src["always_red_links"]
        assert sorted(covered) == list(range(src["link_count"]))

        def green(group: str, state: str) -> bool:
            return all(state[i] in "Ggs" for i in links[group])

        # no two conflicting groups are green together in any phase of the original program
        for a, b in raw["conflicts"]:
            assert not any(green(a, s) and green(b, s) for s in phases), (tls_id, a, b)
        # each stage is the green set of some phase; its permissive groups yield ('g') there
        for stage in raw["stages"]:
            assert any(all(green(g, s) for g in stage["groups"]) and
                       all(s[i] == "g" for g in stage.get("permissive", ()) for i in links[g])
                       for s in phases), (tls_id, stage)
        # intergreens hold at least the clearing group's yellow (or ped clearance) plus red clearance
        for g in raw["signal_groups"]:
            clear = g.get("yellow_ms", g.get("ped_clearance_ms")) + g["red_clearance_ms"]
            assert clear >= 3000
            for v in raw["intergreen_ms"].get(g["id"], {}).values():
                assert v >= clear, (tls_id, g["id"], v)
        # loops: a stop-bar loop on every incoming lane of every controlled link, in range on its lane
        incoming = {c[0].getID() for c in net.getTLS(tls_id).getConnections()
                    if c[0].getEdge().getFunction() not in ("crossing", "walkingarea")}
        stop_lanes = {d["lane"] for d in raw["detectors"] if d["kind"] == "stop_bar"}
        assert stop_lanes == incoming, tls_id
        for d in raw["detectors"]:
            assert 0 < d["distance_m"] <= 60 if d["kind"] == "advance" else d["distance_m"] <= 2
        by_id = {p.id: p for p in result.mappings[tls_id].detectors}
        assert [d["id"] for d in raw["detectors"]] == list(by_id)
        for p in by_id.values():
            assert 0 <= p.pos_m <= net.getLane(p.lane).getLength()
        n_loops += ix.n_detectors
    text = result.detectors_file.read_text()
    assert text.count("<inductionLoop ") == n_loops


def check_loads_in_sumo(result: ImportResult) -> None:
    """SUMO accepts the loop file on the net (it refuses loops off their lanes)."""
    from sumolib import checkBinary

    run = subprocess.run([checkBinary("sumo"), "-n", str(result.net_file), "-a", str(result.detectors_file),
                          "--end", "2", "--no-step-log", "true", "--no-warnings", "true"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Error" not in run.stderr


def check_core_runs(result: ImportResult, ticks: int = 3000) -> None:
    """The core runs each imported config with pulsing loops: every group gets green, the monitor stays quiet."""
    from controller.config.loading import load_file
    from controller.core import Controller
    from controller.safety.signal_states import GREEN

    for tls_id, path in result.configs.items():
        ix = load_file(str(path))
        c = Controller(ix)
        presence = bytearray(ix.n_detectors)
        served = set()
        for t in range(ticks):
            for d in range(ix.n_detectors):
                # a vehicle over each loop for 1 s in every 5 s, staggered per loop
                presence[d] = 1 if (t + 7 * d) % 50 < 10 else 0
            out = c.step(100, presence)
            served.update(g for g in range(ix.n_groups) if out[g] == GREEN)
        assert not c.flashing, tls_id
        assert served == set(range(ix.n_groups)), (tls_id, sorted(set(range(ix.n_groups)) - served))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> dict[str, ImportResult]:
    out = tmp_path_factory.mktemp("import")
    return {name: import_scenario(resolve(name), out / name) for name in ("single4", "arterial5")}


@pytest.mark.parametrize("name", ["single4", "arterial5"])
def test_bundled_import_is_consistent_with_the_net(bundled, name):
    check_import(bundled[name])
    check_loads_in_sumo(bundled[name])


@pytest.mark.parametrize("name", ["single4", "arterial5"])
def test_core_accepts_and_runs_bundled_imports(bundled, name):
    check_core_runs(bundled[name])


def test_single4_stages_follow_the_program(bundled):
    raw = json.loads(bundled["single4"].configs["C"].read_text())
    links = raw["source"]["sumo"]["group_links"]
    # N-S through+right, N-S left, E-W through+right, E-W left (link order of single4.tll.xml)
    assert links == {"K1": [0, 1, 2, 4, 5, 6], "K2": [3, 7], "K3": [8, 9, 11, 12], "K4": [10, 13]}
    assert [s["groups"] for s in raw["stages"]] == [["K1"], ["K2"], ["K3"], ["K4"]]
    assert raw["sequence"] == {"mode": "free", "order": ["S1", "S2", "S3", "S4"]}  # the program's order, free by default
    # program: green 32/10/22/8 s, each followed by 3 s yellow and 2 s all red
    assert raw["fixed_time"] == {"cycle_ms": 92000, "offset_ms": 0,
                                 "splits_ms": {"S1": 37000, "S2": 15000, "S3": 27000, "S4": 13000}}


def test_red_clearance_adds_to_the_program_intergreen(tmp_path):
    res = import_scenario(resolve("single4"), tmp_path, red_clearance_ms=2000)
    raw = json.loads(res.configs["C"].read_text())
    assert all(g["red_clearance_ms"] == 2000 and g["yellow_ms"] == 3000 for g in raw["signal_groups"])
    # 3 s yellow + 2 s all-red phase of the program + 2 s red clearance
    values = {v for row in raw["intergreen_ms"].values() for v in row.values()}
    assert values == {7000}


def test_advance_loop_continues_onto_the_lane_upstream(tmp_path):
    import sumolib

    res = import_scenario(resolve("single4"), tmp_path, advance_m=80)
    net = sumolib.net.readNet(str(res.net_file))
    loops = {p.id: p for p in res.mappings["C"].detectors}
    # N_bay is shorter than 80 m; its lane 0 is fed only by N_in_0, straight: the loop moves there
    adv = loops["e1_C_N_bay_0_adv"]
    assert net.getLane("N_bay_0").getLength() < 80
    assert adv.lane == "N_in_0" and adv.approach_lane == "N_bay_0"
    assert adv.distance_m == pytest.approx(80, abs=0.01)
    # N_in_1 feeds both N_bay_1 and the left-turn bay N_bay_2: those loops stay on the bay, far back
    for lane in ("N_bay_1", "N_bay_2"):
        p = loops["e1_C_%s_adv" % lane]
        assert p.lane == lane and p.distance_m < 80
    notes = res.mappings["C"].notes
    assert any("N_bay_1" in n and "also serves other lanes" in n for n in notes)
    check_loads_in_sumo(res)


def test_advance_loop_beyond_the_net_edge_goes_as_far_back_as_possible(tmp_path):
    import sumolib

    res = import_scenario(resolve("single4"), tmp_path, advance_m=900)
    net = sumolib.net.readNet(str(res.net_file))
    p = {p.id: p for p in res.mappings["C"].detectors}["e1_C_N_bay_0_adv"]
    whole = net.getLane("N_bay_0").getLength() + net.getLane("N_in_0").getLength()
    assert p.lane == "N_in_0" and whole - 2 < p.distance_m < 900
    assert any("nothing upstream" in n for n in res.mappings["C"].notes)


def single4_with_crossings(tmp_path: Path) -> Path:
    """The single4 net rebuilt with sidewalks and pedestrian crossings; its .sumocfg."""
    from sumolib import checkBinary

    src = resolve("single4").parent
    subprocess.run([checkBinary("netconvert"), "--node-files", str(src / "single4.nod.xml"),
                    "--edge-files", str(src / "single4.edg.xml"), "--no-turnarounds", "true",
                    "--sidewalks.guess", "true", "--crossings.guess", "true", "--no-warnings", "true",
                    "-o", str(tmp_path / "ped.net.xml")], check=True, capture_output=True)
    cfg = tmp_path / "ped.sumocfg"
    cfg.write_text('<configuration><input><net-file value="ped.net.xml"/></input></configuration>')
    return cfg


def test_pedestrian_crossings_become_pedestrian_groups(tmp_path):
    res = import_scenario(single4_with_crossings(tmp_path), tmp_path / "out")
    raw = json.loads(res.configs["C"].read_text())
    peds = [g for g in raw["signal_groups"] if g["kind"] == "pedestrian"]
    assert len(peds) == 2 and all(g["recall"] == "ped" and g["ped_clearance_ms"] >= 3000 for g in peds)
    check_import(res)
    check_loads_in_sumo(res)
    check_core_runs(res)


def test_net_without_traffic_lights_is_a_clear_error(tmp_path):
    from sumolib import checkBinary

    (tmp_path / "n.nod.xml").write_text('<nodes><node id="a" x="0" y="0"/><node id="b" x="100" y="0"/></nodes>')
    (tmp_path / "n.edg.xml").write_text('<edges><edge id="ab" from="a" to="b"/></edges>')
    subprocess.run([checkBinary("netconvert"), "-n", "n.nod.xml", "-e", "n.edg.xml", "-o", "n.net.xml"],
                   cwd=tmp_path, check=True, capture_output=True)
    cfg = tmp_path / "n.sumocfg"
    cfg.write_text('<configuration><input><net-file value="n.net.xml"/></input></configuration>')
    with pytest.raises(NetImportError, match="no traffic lights"):
        import_scenario(cfg, tmp_path / "out")
    assert read_sumocfg(cfg).net_file == tmp_path / "n.net.xml"


def test_import_command_prints_a_summary_and_rejects_bad_options(tmp_path, capsys):
    assert import_command("arterial5", tmp_path, red_clearance_ms=1000, advance_m=50) == 0
    out = capsys.readouterr().out
    for tls in ("J1", "J2", "J3", "J4", "J5"):
        assert "%s -> %s.json" % (tls, tls) in out
    assert "5 configs and detectors.add.xml written" in out
    with pytest.raises(NetImportError, match="red-clearance-ms=20000"):
        import_command("arterial5", tmp_path, red_clearance_ms=20000, advance_m=40)
    with pytest.raises(NetImportError, match="advance-m=2"):
        import_command("arterial5", tmp_path, red_clearance_ms=0, advance_m=2)


def test_a_shared_lane_reports_to_its_group_shown_green_least_often():
    from sim.detector_layout import lane_group

    # links 0 (right turn, K1), 1 (through, K2), 2 (U-turn, K3) from one lane: a tie on
    # links; K2 is green in one stage, K1 and K3 in two, so the loops call K2's stage
    link_group = {0: "K1", 1: "K2", 2: "K3", 3: "K2"}
    assert lane_group([0, 1, 2], link_group, {"K1": 2, "K2": 1, "K3": 2}) == ("K2", True)
    # most links still win; without a tie-break on stages, the lowest link index
    assert lane_group([0, 1, 3], link_group, {"K1": 1, "K2": 2}) == ("K2", True)
    assert lane_group([2, 0], link_group, {"K1": 2, "K3": 2}) == ("K1", True)
    assert lane_group([1, 3], link_group, {"K2": 1}) == ("K2", False)
    assert lane_group([7], link_group, {}) == (None, False)


def test_turn_pockets_are_lanes_whose_movements_are_their_own():
    from sim.detector_layout import turn_pockets

    edge = {"a0": "A", "a1": "A", "a2": "A", "b0": "B", "b1": "B", "c0": "C", "d0": "D", "d1": "D"}
    moves = {"a0": {"r", "s"}, "a1": {"s"}, "a2": {"l", "t"},  # through lanes and a left pocket
             "b0": {"r"}, "b1": {"l"},  # a T junction's stem: each lane its own turn
             "c0": {"l", "s", "r"},  # alone on its approach: no pocket
             "d0": {"s", "r"}, "d1": {"r"}}  # a right turn shared with the through lane: no pocket
    assert turn_pockets(moves, edge) == {"a2", "b0", "b1"}


def test_import_places_every_loop_on_its_approach_and_lane(tmp_path):
    # single4: each leg's left-turn bay is a turn pocket (its idle limit is the pocket's)
    from controller.config.loading import load_file
    from controller.core import Controller

    res = import_scenario(resolve("single4"), tmp_path)
    raw = json.loads(res.configs["C"].read_text())
    net = read_net(res)
    for d in raw["detectors"]:
        assert d["approach"] == net.getLane(d["lane"]).getEdge().getID()
    pockets = {d["lane"] for d in raw["detectors"] if d["turn_pocket"]}
    assert pockets == {"N_bay_2", "S_bay_2", "E_bay_1", "W_bay_1"}
    for lane in pockets:  # left turns only
        assert {c.getDirection() for c in net.getLane(lane).getOutgoing()} <= {"l", "t"}
    det = Controller(load_file(str(res.configs["C"]))).detectors
    lanes = [(det.lane[i], d["lane"]) for i, d in enumerate(raw["detectors"])]
    assert len(set(lanes)) == len({d["lane"] for d in raw["detectors"]}) == det.n_lanes  # stop bar and advance share
    # an advance loop continued upstream measures the lane at the stop line
    res = import_scenario(resolve("single4"), tmp_path / "far", advance_m=80)
    raw = json.loads(res.configs["C"].read_text())
    adv = [d for d in raw["detectors"] if d["id"] == "e1_C_N_bay_0_adv"][0]
    assert adv["lane"] == "N_bay_0" and adv["approach"] == "N_bay"
