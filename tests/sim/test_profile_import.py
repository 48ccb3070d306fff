"""`sim import --profile`: intergreens from the junction's geometry, recomputed here by hand
from the net's coordinates, and a SUMO run that shows red-amber and passes the signal check."""

from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sim.net_import import NetImportError, import_command, import_scenario
from sim.scenarios import resolve

pytestmark = pytest.mark.sumo


def _net_facts(net_file: Path, tls: str = "C") -> tuple[dict[str, list[tuple[float, float]]], dict[int, list]]:
    """Lane shapes, and per link index of the traffic light: [(path through the junction, direction,
    speed of the incoming lane)], the path being its internal lanes one after the other."""
    root = ET.parse(net_file).getroot()
    shapes = {}
    speeds = {}
    for lane in root.iter("lane"):
        shapes[lane.get("id")] = [tuple(map(float, p.split(","))) for p in lane.get("shape").split()]
        speeds[lane.get("id")] = float(lane.get("speed"))
    then = {}  # internal lane -> the next internal lane of the same link
    for c in root.iter("connection"):
        if c.get("from").startswith(":") and c.get("via"):
            then["%s_%s" % (c.get("from"), c.get("fromLane"))] = c.get("via")
    links: dict[int, list] = {}
    for c in root.iter("connection"):
        if c.get("tl") == tls and c.get("via"):
            path, lane = [], c.get("via")
            while lane:
                path += shapes[lane] if not path else shapes[lane][1:]
                lane = then.get(lane)
            links.setdefault(int(c.get("linkIndex")), []).append(
                (path, c.get("dir"), speeds["%s_%s" % (c.get("from"), c.get("fromLane"))]))
    return shapes, links


def _by_hand(links: dict[int, list], clearing: list[int], entering: list[int], yellow_s: float) -> float | None:
    """RiLSA t_z (s, before rounding) over every pair of the two groups' links, by hand."""
    worst = None
    for i in clearing:
        for j in entering:
            for path_c, direction, _ in links.get(i, []):
                for path_e, _, _ in links.get(j, []):
                    hit = _first_crossing(path_c, path_e)
                    if hit is None and math.dist(path_c[-1], path_e[-1]) <= 1.0:
                        hit = (sum(math.dist(path_c[k], path_c[k + 1]) for k in range(len(path_c) - 1)),
                               sum(math.dist(path_e[k], path_e[k + 1]) for k in range(len(path_e) - 1)))
                    if hit is None:
                        continue
                    s_c, s_e = hit
                    v_c = 10.0 if direction == "s" else 7.0
                    t = yellow_s + (s_c + 6.0) / v_c - s_e / 11.1
                    worst = t if worst is None else max(worst, t)
    return worst


def _first_crossing(a, b):
    """By hand: walk a's segments in order, and for each all of b's; distances along a and b to the first crossing."""
    da = 0.0
    for i in range(len(a) - 1):
        (x1, y1), (x2, y2) = a[i], a[i + 1]
        hits = []
        db = 0.0
        for j in range(len(b) - 1):
            (x3, y3), (x4, y4) = b[j], b[j + 1]
            den = (x2 - x1) * (y4 - y3) - (y2 - y1) * (x4 - x3)
            if den:
                t = ((x3 - x1) * (y4 - y3) - (y3 - y1) * (x4 - x3)) / den
                u = ((x3 - x1) * (y2 - y1) - (y3 - y1) * (x2 - x1)) / den
                if 0 <= t <= 1 and 0 <= u <= 1:
                    hits.append((t, db + u * math.hypot(x4 - x3, y4 - y3)))
            db += math.hypot(x4 - x3, y4 - y3)
        if hits:
            t, s_b = min(hits)
            return da + t * math.hypot(x2 - x1, y2 - y1), s_b
        da += math.hypot(x2 - x1, y2 - y1)
    return None


def test_de_rilsa_intergreens_follow_the_rilsa_formula_on_single4(tmp_path: Path) -> None:
    res = import_scenario(resolve("single4"), tmp_path, profile="de-rilsa")
    raw = json.loads(res.configs["C"].read_text())
    assert raw["profile"] == "de-rilsa"
    groups = {g["id"]: g for g in raw["signal_groups"]}
    links = raw["source"]["sumo"]["group_links"]
    shapes, conn = _net_facts(res.net_file)
    # K1 (north: right and straight) clears, K4 (east: left turn) enters; every pair of their links, by hand:
    # t_z = t_u + (s_c + 6 m) / v_c - s_e / 11.1 m/s, v_c 10 m/s straight, 7 m/s turning, t_u = yellow (3 s at 50 km/h)
    assert groups["K1"]["approach_speed_kmh"] == 50 and groups["K1"]["yellow_ms"] == 3000
    worst = _by_hand(conn, links["K1"], links["K4"], 3.0)
    assert worst is not None
    expected = max(int(math.ceil(worst - 1e-9)) * 1000, groups["K1"]["yellow_ms"] + groups["K1"]["red_clearance_ms"])
    assert raw["intergreen_ms"]["K1"]["K4"] == expected
    # the table next to the config names the same inputs
    rows = {(r["clearing"], r["entering"]): r for r in csv.DictReader(open(tmp_path / "intergreens.csv"))}
    r = rows[("K1", "K4")]
    assert abs(float(r["formula_s"]) - worst) < 0.01 and int(r["intergreen_ms"]) == expected
    assert float(r["l_veh_m"]) == 6.0 and float(r["v_e_m_s"]) == 11.1 and float(r["t_u_s"]) == 3.0
    # every conflicting pair, both ways, has a row and the config's value
    assert len(rows) == 2 * len(raw["conflicts"])
    for (c, e), r in rows.items():
        assert raw["intergreen_ms"][c][e] == int(r["intergreen_ms"])
    # red-amber and min green are the profile's (filled at load): the config loads
    from controller.config.loading import load_file

    ix = load_file(str(res.configs["C"]))
    assert list(ix.red_amber_ms)[:ix.n_groups] == [1000] * ix.n_groups  # (then the flashing greens)


def test_profile_import_prints_the_table_and_rejects_unknown_profiles(tmp_path: Path, capsys) -> None:
    assert import_command("single4", tmp_path, profile="uk") == 0
    out = capsys.readouterr().out
    assert "intergreens by the uk profile" in out and "K1->K4" in out and "s_c m" in out
    raw = json.loads((tmp_path / "C.json").read_text())
    # uk: amber 3 s whatever the speed, and no intergreen below 5 s
    assert all(g["yellow_ms"] == 3000 for g in raw["signal_groups"])
    assert min(v for row in raw["intergreen_ms"].values() for v in row.values()) >= 5000
    with pytest.raises(NetImportError, match="profile='at' is not one of"):
        import_scenario(resolve("single4"), tmp_path / "x", profile="at")


def test_pedestrian_crossings_clear_at_walking_speed(tmp_path: Path) -> None:
    from tests.sim.test_import import single4_with_crossings

    res = import_scenario(single4_with_crossings(tmp_path), tmp_path / "out", profile="de-rilsa")
    raw = json.loads(res.configs["C"].read_text())
    peds = {g["id"] for g in raw["signal_groups"] if g["kind"] == "pedestrian"}
    rows = [r for r in res.intergreen_rows if r.clearing in peds and r.s_c_m is not None]
    assert rows, "no pedestrian clearing pair with a conflict point"
    for r in rows:
        # pedestrians: no crossing time, no length, 1.2 m/s from the farther kerb
        assert r.t_u_s == 0.0 and r.l_veh_m == 0.0 and r.v_c_m_s == 1.2
        assert r.intergreen_ms >= int(math.ceil(r.s_c_m / 1.2)) * 1000 - 1000
    entering = [r for r in res.intergreen_rows if r.entering in peds and r.s_c_m is not None]
    assert entering and all(r.v_e_m_s is None for r in entering)  # t_e = 0 for entering pedestrians
    from controller.config.loading import load_file

    load_file(str(res.configs["C"]))


def test_a_de_rilsa_run_shows_red_amber_and_passes_the_signal_check(tmp_path: Path) -> None:
    from sim.runner import RunOptions, run

    summary = run(RunOptions(resolve("single4"), "ampelwerk-actuated", tmp_path, end=600, profile="de-rilsa",
                             progress=False))
    assert summary["signal_check"]["violations"] == 0, summary["signal_check"]
    states = [r["state"] for r in csv.DictReader(open(tmp_path / "signals.csv"))]
    assert sum("u" in s for s in states) >= 10
    # 'u' only right before green on that link
    for prev, cur in zip(states, states[1:]):
        for a, b in zip(prev, cur):
            if a == "u" and b != "u":
                assert b in "Gg", (prev, cur)
    assert summary["collisions"] == 0 and summary["monitor_flash"] == []


@pytest.mark.slow
def test_de_rilsa_on_a_resco_net_by_hand_and_in_a_run(resco_cache, tmp_path: Path) -> None:
    # cologne1: one joined traffic light of a real city, approaches of 50 and 80 km/h
    from sim.runner import RunOptions, run

    res = import_scenario(resolve("cologne1", resco_cache), tmp_path / "import", profile="de-rilsa")
    (tls, path), = res.configs.items()
    raw = json.loads(path.read_text())
    groups = {g["id"]: g for g in raw["signal_groups"]}
    links = raw["source"]["sumo"]["group_links"]
    _, conn = _net_facts(res.net_file, tls)
    # the yellows the net's own program shows, as a plain import copies them
    plain = json.loads(import_scenario(resolve("cologne1", resco_cache), tmp_path / "plain").configs[tls].read_text())
    program_yellow = {g["id"]: g["yellow_ms"] for g in plain["signal_groups"] if g["kind"] == "vehicle"}
    checked = 0
    for c, row in raw["intergreen_ms"].items():
        g = groups[c]
        if g["kind"] != "vehicle":
            continue
        # the yellow is RiLSA's for the fastest incoming lane, or the program's where that is longer
        # (up to RiLSA's 5 s)
        kmh = round(max(sp for i in links[c] for _, _, sp in conn.get(i, [])) * 3.6)
        rilsa = 3000 if kmh <= 50 else 4000 if kmh <= 60 else 5000
        assert g["approach_speed_kmh"] == kmh and g["yellow_ms"] == max(rilsa, min(program_yellow[c], 5000))
        for e, v in row.items():
            worst = _by_hand(conn, links[c], links[e], g["yellow_ms"] / 1000)
            floor = g["yellow_ms"] + g["red_clearance_ms"]
            assert v == (floor if worst is None else max(int(math.ceil(worst - 1e-9)) * 1000, floor)), (c, e, worst, v)
            checked += 1
    assert checked >= 6
    summary = run(RunOptions(resolve("cologne1", resco_cache), "ampelwerk-actuated", tmp_path / "run", end=25800,
                             begin=25200, profile="de-rilsa", progress=False))
    assert summary["signal_check"]["violations"] == 0, summary["signal_check"]
    states = [r["state"] for r in csv.DictReader(open(tmp_path / "run" / "signals.csv"))]
    assert sum("u" in st for st in states) >= 5 and summary["monitor_flash"] == []
