"""`sim run/compare --corridor` and `sim timespace` on a short real SUMO run of the bundled arterial.

The run drives arterial5 with its own fixed-time programs, given offsets
(an additional file) that delay each light's cycle by the free-flow travel
time from J1, so that a forward green band exists. Everything the diagram
shows is checked against the run's own outputs: signal bars against
signals.csv, bands by driving a departure through them at progression speed.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ampelwerk.cli import main
from sim.arterial_metrics import load_geometry
from sim.scenarios import BUNDLED_DIR
from sim.timespace import GREEN, build, green_bands

pytestmark = pytest.mark.sumo

END_S = 600


def _wave_programs(corridor: dict, out: Path) -> Path:
    """The net's programs as a new program per light, delayed by the travel time from J1's stop line."""
    c = corridor["corridors"][0]
    stops = c["sumo"]["stop_lines_m"]["forward"]
    speeds = [link["speed_mps"] for link in c["links"]]
    delay = {c["sumo"]["tls"][0]: 0.0}
    t = 0.0
    for k, tls in enumerate(c["sumo"]["tls"][1:], start=1):
        t += (stops[k] - stops[k - 1]) / speeds[k - 1]
        delay[tls] = t
    root = ET.Element("additional")
    for logic in ET.parse(BUNDLED_DIR / "arterial5" / "arterial5.net.xml").getroot().iter("tlLogic"):
        logic.set("programID", "wave")
        logic.set("offset", "%d" % round(delay[logic.get("id")]))
        root.append(logic)
    ET.ElementTree(root).write(out)
    return out


@pytest.fixture(scope="module")
def wave_run(tmp_path_factory) -> tuple[Path, Path]:
    """(run directory, corridor file) of arterial5 under green-wave offsets, run with --corridor."""
    tmp = tmp_path_factory.mktemp("wave")
    assert main(["sim", "import", "arterial5", "--out", str(tmp / "imp"), "--corridor"]) == 0
    corridor = tmp / "imp" / "corridor.json"
    wave = _wave_programs(json.loads(corridor.read_text()), tmp / "wave.add.xml")
    run = tmp / "run"
    assert main(["sim", "run", "arterial5", "--controller", "fixed", "--end", str(END_S), "--out", str(run),
                 "--corridor", str(corridor), "--", "--additional-files", str(wave)]) == 0
    return run, corridor


def _signals(run: Path) -> dict[str, list[tuple[float, str]]]:
    out: dict[str, list[tuple[float, str]]] = {}
    for row in csv.DictReader(open(run / "signals.csv")):
        out.setdefault(row["tls_id"], []).append((float(row["time_s"]), row["state"]))
    return out


def _green_at(changes: list[tuple[float, str]], links: list[int], t: float) -> bool:
    state = [s for ts, s in changes if ts <= t][-1]
    return all(state[i] in "Gg" for i in links)


def test_the_run_records_the_corridor_and_its_metrics(wave_run):
    run, corridor = wave_run
    geo = load_geometry(corridor)
    lanes = {el.get("lane") for _ev, el in ET.iterparse(run / "fcd.xml") if el.tag == "vehicle"}
    # normal edges: the corridor's only (SUMO's edge filter also lets through the turns off it, which the
    # metrics ignore); the ways through the junctions along it are there too
    edges = {lane.rsplit("_", 1)[0] for lane in lanes}
    want = {p for d in geo.directions.values() for p in d.order}
    assert {e for e in edges if not e.startswith(":")} == {e for e in want if not e.startswith(":")}
    assert {":J1_11", ":J3_4"} <= edges
    s = json.loads((run / "summary.json").read_text())
    assert s["corridor_file"] == str(corridor.resolve())
    for d in ("forward", "backward"):
        assert s["arterial"][d]["inner"]["vehicles"] > 10
    # the wave is forward: platoons that cross J1 mostly get through; backward they stop at most lights
    assert s["arterial"]["forward"]["inner"]["stops_per_vehicle"] < s["arterial"]["backward"]["inner"][
        "stops_per_vehicle"]


def test_bars_show_every_light_and_direction_as_in_signals_csv(wave_run):
    run, corridor = wave_run
    geo = load_geometry(corridor)
    data = build(run, geo, 0, END_S)
    signals = _signals(run)
    assert sorted((b.tls, b.direction) for b in data.bars) == sorted(
        (t, d) for t in ["J1", "J2", "J3", "J4", "J5"] for d in ("forward", "backward"))
    for bar in data.bars:
        g = geo.directions[bar.direction]
        links = g.through_links[g.tls.index(bar.tls)]
        expected = []  # green runs of the through links, straight from signals.csv
        changes = signals[bar.tls]
        for k, (t, state) in enumerate(changes):
            end = changes[k + 1][0] if k + 1 < len(changes) else END_S
            if all(state[i] in "Gg" for i in links) and end > t:
                if expected and expected[-1][1] == t:
                    expected[-1] = (expected[-1][0], end)
                else:
                    expected.append((t, end))
        assert bar.greens() == expected, bar.tls  # whole seconds: SUMO steps of 1 s
        assert len(bar.greens()) >= END_S // 90  # a 90 s cycle
        assert bar.intervals[0][0] == 0 and bar.intervals[-1][1] == END_S
        assert all(a[1] == b[0] for a, b in zip(bar.intervals, bar.intervals[1:]))  # no gaps
    # forward bars at the forward stop lines, backward ones mapped next to the same junction
    for tls, x in zip(geo.tls, data.tls_x_m):
        for bar in (b for b in data.bars if b.tls == tls):
            assert abs(bar.x_m - x) < 10


def test_a_departure_inside_a_band_meets_green_everywhere(wave_run):
    run, corridor = wave_run
    geo = load_geometry(corridor)
    data = build(run, geo, 0, END_S)
    signals = _signals(run)
    forward = [b for b in data.bands if b.direction == "forward"]
    assert len(forward) >= 5 and min(b.width_s for b in forward) > 30  # 40 s greens, offsets rounded to 1 s
    assert data.band_share("forward") > 0.3
    for band in data.bands:
        g = geo.directions[band.direction]
        speeds = geo.link_speeds_mps if band.direction == "forward" else geo.link_speeds_mps[::-1]
        offsets = [0.0]
        for k in range(1, len(g.tls)):
            offsets.append(offsets[-1] + (g.stop_lines_m[k] - g.stop_lines_m[k - 1]) / speeds[k - 1])
        assert [dt for dt, _x in band.points] == pytest.approx(offsets)
        for t in (band.start_s + 0.01, (band.start_s + band.end_s) / 2, band.end_s - 0.01):
            for tls, links, dt in zip(g.tls, g.through_links, offsets):
                assert _green_at(signals[tls], links, t + dt), (band, tls, t)
        # and the band is as wide as it gets: half a second either side, some light is not green
        for t in (band.start_s - 0.5, band.end_s + 0.5):
            if 0 <= t and t + offsets[-1] < END_S:
                assert not all(_green_at(signals[tls], links, t + dt)
                               for tls, links, dt in zip(g.tls, g.through_links, offsets)), (band, t)


def test_green_bands_by_hand():
    # green [0, 40) at the first stop line, [30, 70) 20 s downstream: departures in [10, 40) get through
    (band,) = green_bands("forward", [[(0.0, 40.0)], [(30.0, 70.0)]], [0.0, 20.0], [0.0, 300.0])
    assert (band.start_s, band.end_s) == (10.0, 40.0)
    assert band.polygon() == [(10.0, 0.0), (30.0, 300.0), (60.0, 300.0), (40.0, 0.0)]
    assert green_bands("forward", [[(0.0, 40.0)], [(60.0, 80.0)]], [0.0, 20.0], [0.0, 300.0]) == []
    # narrower than a second: not a band
    assert green_bands("forward", [[(0.0, 40.0)], [(59.5, 80.0)]], [0.0, 20.0], [0.0, 300.0]) == []


def test_timespace_writes_a_png_and_names_missing_fcd(wave_run, tmp_path, capsys):
    run, corridor = wave_run
    png = tmp_path / "ts.png"
    assert main(["sim", "timespace", str(run), "--corridor", str(corridor), "--out", str(png),
                 "--begin", "0", "--end", str(END_S)]) == 0
    printed = capsys.readouterr().out
    assert "forward:" in printed and "green bands" in printed and str(png) in printed
    import matplotlib.image

    img = matplotlib.image.imread(str(png))
    assert img.shape[:2] == (850, 1500)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a run directory without fcd.xml (run without --corridor)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "signals.csv").write_text((run / "signals.csv").read_text())
    assert main(["sim", "timespace", str(bare), "--corridor", str(corridor), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "fcd.xml not found" in err and "--corridor FILE" in err
    assert main(["sim", "timespace", str(run), "--corridor", str(corridor), "--out", str(tmp_path / "x.png"),
                 "--begin", "300", "--end", "200"]) == 2
    assert "--begin=300 s must be before --end=200 s" in capsys.readouterr().err
    assert main(["sim", "timespace", str(run), "--corridor", str(corridor), "--out", str(tmp_path / "x.png"),
                 "--begin", "700", "--end", "800"]) == 2
    assert "outside the run's 0..600 s" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_a_corridor_of_another_net_or_of_several_scenarios_is_refused(wave_run, tmp_path, capsys):
    _run, corridor = wave_run
    doc = json.loads(corridor.read_text())
    doc["corridors"][0]["sumo"]["pieces"]["forward"][0][0] = "no_such_edge"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    assert main(["sim", "run", "arterial5", "--controller", "fixed", "--end", "60", "--out", str(tmp_path / "r"),
                 "--corridor", str(other)]) == 2
    assert "is not a corridor of arterial5.sumocfg: its net has no edge no_such_edge" in capsys.readouterr().err
    assert main(["sim", "run", "arterial5", "--controller", "fixed", "--end", "60", "--out", str(tmp_path / "r"),
                 "--corridor", str(tmp_path / "missing.json")]) == 2
    assert "--corridor=%s: cannot read corridor file" % (tmp_path / "missing.json") in capsys.readouterr().err
    assert main(["sim", "compare", "arterial5", "single4", "--controllers", "fixed", "--out", str(tmp_path / "c"),
                 "--corridor", str(corridor)]) == 2
    assert "belongs to one net: compare one scenario with it, not 2" in capsys.readouterr().err


@pytest.mark.slow
def test_compare_gives_the_corridor_to_every_run(wave_run, tmp_path):
    _run, corridor = wave_run
    out = tmp_path / "cmp"
    assert main(["sim", "compare", "arterial5", "--controllers", "fixed,ampelwerk-fixed", "--seeds", "1,2",
                 "--end", "300", "--jobs", "2", "--out", str(out), "--corridor", str(corridor)]) == 0
    for ctl in ("fixed", "ampelwerk-fixed"):
        for seed in (1, 2):
            d = out / "arterial5" / ctl / ("seed%d" % seed)
            s = json.loads((d / "summary.json").read_text())
            assert s["corridor_file"] == str(corridor.resolve()), d
            assert s["arterial"]["forward"]["inner"]["vehicles"] > 0 and (d / "fcd.xml").stat().st_size > 1000
