"""Scenario sources: bundled scenarios (reproducible, realistic load), resolve, RESCO fetch and the CLI."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sim.scenarios import BUNDLED, BUNDLED_DIR, ScenarioError, read_sumocfg, resco_windows, resolve


def test_resolve_names_paths_and_errors(tmp_path):
    for name in BUNDLED:
        cfg = resolve(name)
        assert cfg == BUNDLED_DIR / name / (name + ".sumocfg") and cfg.is_file()
        assert resolve(str(cfg)) == cfg
        assert resolve(str(cfg.parent)) == cfg  # a directory with one .sumocfg
    with pytest.raises(ScenarioError, match="run `ampelwerk scenarios fetch`"):
        resolve("cologne1", cache_dir=tmp_path)
    with pytest.raises(ScenarioError, match="unknown scenario 'nowhere'.*single4"):
        resolve("nowhere")
    with pytest.raises(ScenarioError, match="not found"):
        resolve(str(tmp_path / "missing.sumocfg"))


def test_read_sumocfg(tmp_path):
    cfg = tmp_path / "a.sumocfg"
    cfg.write_text('<configuration><input><net-file value="x.net.xml"/><route-files value="r1.rou.xml,r2.rou.xml"/>'
                   '</input><time><begin value="100"/><end value="700"/></time></configuration>')
    c = read_sumocfg(cfg)
    assert c.net_file == tmp_path / "x.net.xml"
    assert c.route_files == [tmp_path / "r1.rou.xml", tmp_path / "r2.rou.xml"]
    assert (c.begin_s, c.end_s) == (100.0, 700.0)
    cfg.write_text("<configuration><input/></configuration>")
    with pytest.raises(ScenarioError, match="names no net-file"):
        read_sumocfg(cfg)
    cfg.write_text("<configuration>")
    with pytest.raises(ScenarioError, match="not valid XML"):
        read_sumocfg(cfg)


def test_resco_windows_read_from_the_sumo_rl_source():
    source = '''
import os
PATH = os.path.dirname(__file__)

def grid4x4(parallel=True, **kwargs):
    kwargs.update({"net_file": PATH + "/nets/RESCO/grid4x4/grid4x4.net.xml",
                   "route_file": PATH + "/nets/RESCO/grid4x4/grid4x4_1.rou.xml", "num_seconds": 3600})
    return kwargs

def cologne1(parallel=True, **kwargs):
    kwargs.update({"net_file": PATH + "/nets/RESCO/cologne1/cologne1.net.xml",
                   "route_file": PATH + "/nets/RESCO/cologne1/cologne1.rou.xml",
                   "begin_time": 25200, "num_seconds": 28800 - 25200})
    return kwargs
'''
    assert resco_windows(source) == {
        "grid4x4": (0, 3600, "grid4x4.net.xml", "grid4x4_1.rou.xml"),
        "cologne1": (25200, 28800, "cologne1.net.xml", "cologne1.rou.xml"),
    }


def test_build_script_reproduces_the_committed_scenarios(tmp_path):
    run = subprocess.run([sys.executable, str(BUNDLED_DIR / "build.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for name in BUNDLED:
        built = sorted(p.name for p in (tmp_path / name).iterdir())
        committed = sorted(p.name for p in (BUNDLED_DIR / name).iterdir())
        assert built == committed
        for f in built:
            assert (tmp_path / name / f).read_bytes() == (BUNDLED_DIR / name / f).read_bytes(), f


def _sumo_statistics(cfg: Path, seed: int, out: Path, end: int | None = None) -> ET.Element:
    from sumolib import checkBinary

    stats = out / ("stats_%d.xml" % seed)
    cmd = [checkBinary("sumo"), "-c", str(cfg), "--seed", str(seed), "--no-step-log", "true",
           "--statistic-output", str(stats), "--tripinfo-output", str(out / ("trips_%d.xml" % seed))]
    if end:
        cmd += ["--end", str(end)]
    subprocess.run(cmd, check=True, capture_output=True)
    return ET.parse(stats).getroot()


@pytest.mark.sumo
@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_demand_loads_the_net_without_gridlock(tmp_path, name):
    root = _sumo_statistics(resolve(name), 1, tmp_path)
    v = root.find("vehicles").attrib
    inserted, running, waiting = int(v["inserted"]), int(v["running"]), int(v["waiting"])
    assert int(root.find("teleports").get("total")) == 0
    assert waiting == 0 and running < 0.05 * inserted  # the net's own program copes
    assert inserted > 1500
    # but the signals cost time: vehicles lose tens of seconds on average
    assert float(root.find("vehicleTripStatistics").get("timeLoss")) > 20


@pytest.mark.sumo
def test_bundled_demand_is_fixed_by_the_seed(tmp_path):
    cfg = resolve("single4")
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d, seed in ((a, 3), (b, 3), (c, 4)):
        d.mkdir()
        _sumo_statistics(cfg, seed, d, end=600)

    def departures(d: Path, seed: int) -> list[tuple[str, str]]:
        trips = ET.parse(d / ("trips_%d.xml" % seed)).getroot()
        return [(t.get("id"), t.get("depart")) for t in trips.iter("tripinfo")]

    assert departures(a, 3) == departures(b, 3) and len(departures(a, 3)) > 100
    assert departures(a, 3) != departures(c, 4)


@pytest.mark.slow
@pytest.mark.network
def test_cli_fetch_is_idempotent_and_list_shows_the_cache(tmp_path, capsys):
    # the one test that downloads (the sumo-rl wheel, with pip): it checks the fetch itself

    from ampelwerk.cli import main

    assert main(["scenarios", "list", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "single4" in out and "arterial5" in out and "not fetched" in out
    assert main(["scenarios", "fetch", "--cache", str(tmp_path)]) == 0
    assert "fetched cologne1" in capsys.readouterr().out
    assert main(["scenarios", "fetch", "--cache", str(tmp_path)]) == 0
    assert "already" in capsys.readouterr().out
    assert main(["scenarios", "list", "--cache", str(tmp_path)]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["single4"][1:4] == ["bundled", "1", "0-3600"]
    assert rows["arterial5"][1:4] == ["bundled", "5", "0-3600"]
    assert rows["cologne1"][1:4] == ["RESCO", "1", "25200-28800"]
    assert rows["ingolstadt21"][1:4] == ["RESCO", "21", "57600-61200"]
    assert rows["grid4x4"][1:4] == ["RESCO", "16", "0-3600"]
    assert not any(p.suffix == ".whl" for p in tmp_path.rglob("*"))
