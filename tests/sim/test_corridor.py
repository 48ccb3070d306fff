"""Corridors from a SUMO net (`sim import --corridor`) and the arterial metrics of a corridor's FCD.

The import is checked against the geometry the bundled arterial was built
from (sim/scenario_data/arterial5/arterial5.nod.xml) and on RESCO arterial4x4;
the metrics against a small hand-written fcd.xml whose stops and travel
times are worked out by hand below.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ampelwerk.cli import main
from coordinator.corridors import load_corridors
from sim.arterial_metrics import ArterialMetricsError, arterial_metrics, count_stops, load_geometry
from sim.scenarios import BUNDLED_DIR

SPEED_MPS = 13.89  # sim/scenario_data/build.py SPEED_MS: every edge of arterial5


def _node_x(names: list[str]) -> list[float]:
    nodes = ET.parse(BUNDLED_DIR / "arterial5" / "arterial5.nod.xml").getroot()
    xs = {n.get("id"): float(n.get("x")) for n in nodes.iter("node")}
    return [xs[n] for n in names]


def _import(tmp_path: Path, *corridor: str, scenario: str = "arterial5") -> tuple[int, Path]:
    out = tmp_path / "imp"
    return main(["sim", "import", scenario, "--out", str(out), "--corridor", *corridor]), out / "corridor.json"


@pytest.mark.sumo
def test_auto_corridor_of_arterial5_is_j1_to_j5_at_the_real_spacing(tmp_path, capsys):
    rc, path = _import(tmp_path)
    assert rc == 0
    printed = capsys.readouterr().out
    assert "J1 -> J2 -> J3 -> J4 -> J5 (forward)" in printed
    doc = json.loads(path.read_text())
    (c,) = doc["corridors"]
    assert [i["controller"] for i in c["intersections"]] == ["J1", "J2", "J3", "J4", "J5"]
    xs = _node_x(["J1", "J2", "J3", "J4", "J5"])
    spacing = [b - a for a, b in zip(xs, xs[1:])]  # 300, 250, 350, 300 m
    assert [link["length_m"] for link in c["links"]] == pytest.approx(spacing, abs=1.0)
    assert [link["speed_mps"] for link in c["links"]] == pytest.approx([SPEED_MPS] * 4, abs=0.01)
    for a, b, s in zip(["J1", "J2", "J3", "J4"], ["J2", "J3", "J4", "J5"], spacing):
        assert "%s - %s: %.1f m at 13.89 m/s" % (a, b, s) in printed
    # more vehicles drive eastwards (A0 -> A6) than back in the route file
    assert c["main_direction"] == "forward"
    sumo = c["sumo"]
    assert sumo["forward_edges"] == ["A0_J1", "J1_J2", "J2_J3", "J3_J4", "J4_J5", "J5_A6"]
    assert sumo["backward_edges"] == ["A6_J5", "J5_J4", "J4_J3", "J3_J2", "J2_J1", "J1_A0"]
    # junction centres lie at the node spacing along both directions
    fwd = sumo["centres_m"]["forward"]
    assert [b - a for a, b in zip(fwd, fwd[1:])] == pytest.approx(spacing, abs=0.5)
    bwd = sumo["centres_m"]["backward"]
    assert [b - a for a, b in zip(bwd, bwd[1:])] == pytest.approx(spacing[::-1], abs=0.5)
    (corridor,) = load_corridors(path)  # the coordinator takes it as it is
    assert corridor.controller_ids() == ["J1", "J2", "J3", "J4", "J5"]
    for ci in corridor.intersections:  # the main street's through movement, green in the coordinated stage
        assert ci.coordinated_stage == "S1" and ci.through_groups == {"forward": ["K2"], "backward": ["K2"]}


@pytest.mark.sumo
def test_explicit_traffic_lights_give_that_corridor_in_that_order(tmp_path, capsys):
    rc, path = _import(tmp_path, "J2,J3,J4")
    assert rc == 0
    c = json.loads(path.read_text())["corridors"][0]
    assert [i["controller"] for i in c["intersections"]] == ["J2", "J3", "J4"]
    assert [link["length_m"] for link in c["links"]] == pytest.approx([250.0, 350.0], abs=1.0)
    assert c["main_direction"] == "forward"

    rc, path = _import(tmp_path, "J4,J3,J2")  # westwards: forward is now the lighter direction
    assert rc == 0
    c = json.loads(path.read_text())["corridors"][0]
    assert [i["controller"] for i in c["intersections"]] == ["J4", "J3", "J2"]
    assert [link["length_m"] for link in c["links"]] == pytest.approx([350.0, 250.0], abs=1.0)
    assert c["sumo"]["forward_edges"][1:3] == ["J4_J3", "J3_J2"]
    assert c["main_direction"] == "backward"
    load_corridors(path)


@pytest.mark.sumo
@pytest.mark.parametrize("ids, expected", [
    ("J9,J2", "--corridor names J9: not a traffic light (traffic lights of the net: J1, J2, J3, J4, J5)"),
    ("J1,J3", "the straight road through J1 leads to J2 first, not to J3"),
    ("J1,J2,J4", "the straight road through J2 (coming from J1) leads to J3 first, not to J4"),
    ("J1", "give at least two different traffic lights"),
])
def test_bad_traffic_light_ids_are_refused_by_name(tmp_path, capsys, ids, expected):
    rc, path = _import(tmp_path, ids)
    assert rc == 2
    assert expected in capsys.readouterr().err
    assert not path.exists()


@pytest.fixture(scope="module")
def arterial4x4(resco_cache) -> Path:
    """RESCO arterial4x4 from the scenario cache (tests/sim/conftest.py)."""
    from sim.scenarios import resolve

    return resolve("arterial4x4", resco_cache)


@pytest.mark.sumo
@pytest.mark.slow
def test_resco_arterial4x4_corridor_is_a_straight_chain_of_lights(arterial4x4, tmp_path, capsys):
    import sumolib

    rc, path = _import(tmp_path, scenario=str(arterial4x4))
    assert rc == 0
    c = json.loads(path.read_text())["corridors"][0]
    tls = [i["controller"] for i in c["intersections"]]
    assert len(tls) == 4  # a whole row or column of the 4x4 grid
    net = sumolib.net.readNet(str(arterial4x4.with_name("arterial4x4.net.xml")))
    xy = [net.getNode(t).getCoord() for t in tls]
    # one straight line, in order, the links as long as the lights are apart
    same_x, same_y = len({x for x, _ in xy}) == 1, len({y for _, y in xy}) == 1
    assert same_x != same_y, xy
    along = [p[1] if same_x else p[0] for p in xy]
    gaps = [b - a for a, b in zip(along, along[1:])]
    assert all(g > 0 for g in gaps) or all(g < 0 for g in gaps)
    assert [link["length_m"] for link in c["links"]] == pytest.approx([abs(g) for g in gaps], abs=2.0)
    # consecutive lights joined edge to edge, both ways, on the grid's arterials (the 2-lane 20 m/s roads)
    fwd, bwd = c["sumo"]["forward_edges"], c["sumo"]["backward_edges"]
    for a, b in zip(tls, tls[1:]):
        assert "%s_%s" % (a, b) in fwd and "%s_%s" % (b, a) in bwd
    widest = max(e.getLaneNumber() for e in net.getEdges())
    assert all(net.getEdge(e).getLaneNumber() == widest for e in fwd[1:-1] + bwd[1:-1])
    (corridor,) = load_corridors(path)
    assert corridor.controller_ids() == tls


# ---- arterial metrics on a hand-written fcd.xml (no SUMO) ---------------------------------------------------------
#
# Forward path: a (100 m) :J1_0 (10 m, through J1) b (200 m) :J2_0 (10 m) c (100 m); J1's stop line at 100 m,
# J2's at 310 m; X1 (after J1) = 110 m. Backward the same lengths on c_r :J2_1 b_r :J1_1 a_r. Samples every 10 s.
#   f1 drives it all: stops on a (t=20) and before J2 (t=60, still halting at t=70).
#      full: 90 s, 2 stops. inner: X1 between (30 s, 105 m) and (40 s, 160 m) -> 30 + 10 * 5/55 = 30.909 s;
#      XN=310 between (70 s, 309 m) and (80 s, 340 m) -> 70 + 10/31 = 70.323 s; 39.413 s, 1 stop (the one at J2).
#   f2 comes from a side street onto b (first seen at 113 m, 9 m/s: X1 passed 3/9 s earlier, t=11.667 s) and
#      turns off at J2 (last seen at 308 m, 6 m/s: XN 2/6 s later, t=40.333 s): inner only, 28.667 s, no stop.
#   f3 is inserted standing in the middle of b (210 m): it never passed X1, so it is in neither population.
#   b1 drives backward at 10 m/s from 1 m: full 40 s, no stop; inner X1 at 10.9 s, XN at 30.9 s: 20 s.

TOY_PIECES = {"forward": [["a", 100, False], [":J1_0", 10, True], ["b", 200, False], [":J2_0", 10, True],
                          ["c", 100, False]],
              "backward": [["c_r", 100, False], [":J2_1", 10, True], ["b_r", 200, False], [":J1_1", 10, True],
                           ["a_r", 100, False]]}
TOY_TRACKS = {  # vehicle -> (time s, lane, pos m, speed m/s)
    "f1": [(0, "a_0", 5, 10), (10, "a_0", 95, 5), (20, "a_0", 98, 0), (30, ":J1_0_0", 5, 8), (40, "b_0", 50, 10),
           (50, "b_0", 150, 10), (60, "b_0", 195, 0), (70, "b_0", 199, 0.05), (80, "c_0", 20, 12),
           (90, "c_0", 90, 12)],
    "f2": [(2, "side_0", 50, 9), (12, "b_0", 3, 9), (22, "b_0", 90, 9), (32, "b_0", 180, 4), (40, "b_0", 198, 6)],
    "f3": [(5, "b_0", 100, 0), (15, "b_0", 150, 5), (25, "c_0", 10, 10), (35, "c_0", 80, 10)],
    "b1": [(0, "c_r_0", 1, 10), (10, ":J2_1_0", 1, 10), (20, "b_r_0", 91, 10), (30, "b_r_0", 191, 10),
           (40, "a_r_0", 81, 10)],
}


def _toy(tmp_path: Path) -> tuple[Path, Path]:
    corridor = {"format": "ampelwerk-corridor/1", "corridors": [{
        "id": "toy", "main_direction": "forward", "intersections": [],
        "links": [{"length_m": 210.0, "speed_mps": 10.0}],
        "sumo": {"tls": ["J1", "J2"], "pieces": TOY_PIECES,
                 "stop_lines_m": {"forward": [100, 310], "backward": [100, 310]},
                 "through_links": {"forward": [[0], [0]], "backward": [[1], [1]]}}}]}
    cpath = tmp_path / "corridor.json"
    cpath.write_text(json.dumps(corridor))
    by_time: dict[float, list[str]] = {}
    for vid, samples in TOY_TRACKS.items():
        for t, lane, pos, v in samples:
            by_time.setdefault(t, []).append('<vehicle id="%s" lane="%s" pos="%g" speed="%g"/>' % (vid, lane, pos, v))
    fcd = tmp_path / "fcd.xml"
    fcd.write_text("<fcd-export>\n%s</fcd-export>\n" % "".join(
        '<timestep time="%.2f">%s</timestep>\n' % (t, "".join(by_time[t])) for t in sorted(by_time)))
    return cpath, fcd


def test_arterial_metrics_match_the_hand_computed_answer(tmp_path):
    cpath, fcd = _toy(tmp_path)
    m = arterial_metrics(fcd, load_geometry(cpath), step_s=10.0)
    f, b = m["forward"], m["backward"]
    assert f["full"] == pytest.approx({"vehicles": 1, "stops_per_vehicle": 2.0, "share_stopped": 1.0,
                                       "travel_time_s": 90.0, "section_m": 420.0})
    inner_f1 = (70 + 10 / 31) - (30 + 10 * 5 / 55)
    inner_f2 = (40 + 2 / 6) - (12 - 3 / 9)
    assert f["inner"] == pytest.approx({"vehicles": 2, "stops_per_vehicle": 0.5, "share_stopped": 0.5,
                                        "travel_time_s": (inner_f1 + inner_f2) / 2, "section_m": 200.0})
    assert b["full"] == pytest.approx({"vehicles": 1, "stops_per_vehicle": 0.0, "share_stopped": 0.0,
                                       "travel_time_s": 40.0, "section_m": 420.0})
    assert b["inner"] == pytest.approx({"vehicles": 1, "stops_per_vehicle": 0.0, "share_stopped": 0.0,
                                        "travel_time_s": 20.0, "section_m": 200.0})


def test_a_stop_is_a_transition_into_halting_below_0_1_mps():
    def samples(speeds):
        return [(float(t), 0.0, v) for t, v in enumerate(speeds)]

    assert count_stops(samples([10, 0, 0.05, 5, 0.0, 3])) == 2  # still halting at 0.05: the same stop
    assert count_stops(samples([0, 0, 4])) == 1  # standing from the first sample: one stop
    assert count_stops(samples([5, 0.1, 0.1, 5])) == 0  # 0.1 m/s is not halting (SUMO: speed < 0.1)
    assert count_stops([]) == 0


def test_missing_or_cut_fcd_and_a_corridor_without_geometry_are_named(tmp_path):
    cpath, fcd = _toy(tmp_path)
    geo = load_geometry(cpath)
    with pytest.raises(ArterialMetricsError, match="nope.xml not found: run with a corridor file"):
        arterial_metrics(tmp_path / "nope.xml", geo)
    cut = tmp_path / "cut.xml"
    cut.write_text(fcd.read_text()[:200])
    with pytest.raises(ArterialMetricsError, match="cut.xml is not complete XML"):
        arterial_metrics(cut, geo)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"format": "ampelwerk-corridor/1", "corridors": [{"id": "x", "sumo": {}}]}))
    with pytest.raises(ArterialMetricsError, match="has no SUMO geometry.*--corridor auto"):
        load_geometry(bare)
