"""The generated network suite (sim/suite.py): the fixed split, byte-identical rebuilds, and that a
generated net imports and runs, with SUMO's delay_based peer and with the Ampelwerk core.

Three nets are built (a few seconds): one through netconvert's one-way pass with
turning flows, a single junction with an idle leg, and a spider with random trips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ampelwerk.cli import main
from sim import suite
from sim.scenarios import ScenarioError, resolve
from sim.suite_demand import TripDemand, TurnDemand

SUBSET = ("gen05-grid3x3-oneway-idle", "gen10-single-idle-leg", "gen13-spider4")


def test_the_split_is_fixed_by_number_and_pairs_every_family():
    assert len(suite.NAMES) >= 20 and len(set(suite.NAMES)) == len(suite.NAMES)
    assert set(suite.TUNING) | set(suite.VALIDATION) == set(suite.NAMES)
    assert not set(suite.TUNING) & set(suite.VALIDATION) and len(suite.TUNING) == len(suite.VALIDATION)
    for a, b in zip(suite.SUITE[0::2], suite.SUITE[1::2]):  # siblings: odd number tunes, the next validates
        assert (a.number % 2, b.number, suite.half(a.name), suite.half(b.name)) == (1, a.number + 1, "tuning",
                                                                                    "validation")
        assert type(a.demand) is type(b.demand) and a.netgenerate[0] == b.netgenerate[0]


def test_the_suite_has_the_kinds_of_network_the_issue_asks_for():
    options = [o for n in suite.SUITE for o in n.netgenerate]
    for opt in ("--grid", "--spider", "--rand", "--turn-lanes", "--bidi-probability", "--random-lanenumber"):
        assert opt in options, opt
    assert {"1", "2", "3"} <= {n.netgenerate[n.netgenerate.index("-L") + 1] for n in suite.SUITE}
    assert any(n.one_way_cross_streets for n in suite.SUITE)
    turns = [n.demand for n in suite.SUITE if isinstance(n.demand, TurnDemand)]
    assert any(0 in d.shares for d in turns) and any(d.idle_entries for d in turns)
    assert len({d.shares for d in turns}) >= 4
    trips = [n.demand for n in suite.SUITE if isinstance(n.demand, TripDemand)]
    assert trips and len({d.peak_vph for d in trips}) >= 4


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("suite-cache")
    assert main(["scenarios", "suite", "--cache", str(cache), "--names", ",".join(SUBSET)]) == 0
    return cache


@pytest.mark.sumo
def test_a_rebuild_gives_the_same_bytes(cache, capsys):
    capsys.readouterr()
    assert main(["scenarios", "suite", "--cache", str(cache), "--names", ",".join(SUBSET), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 nets rebuilt byte-identically" in out and "DIFFERS" not in out
    for name in SUBSET:
        d = suite.sumocfg_path(name, cache).parent
        assert sorted(p.name for p in d.iterdir()) == sorted(name + ext for ext in (".net.xml", ".rou.xml", ".sumocfg"))
        for p in d.iterdir():  # nothing that depends on when or where it was built
            text = p.read_text()
            assert "generated on" not in text and str(cache) not in text, p


@pytest.mark.sumo
def test_verify_notices_a_changed_file(cache, tmp_path, capsys):
    import shutil

    name = SUBSET[1]
    copy = tmp_path / "suite" / name
    shutil.copytree(suite.sumocfg_path(name, cache).parent, copy)
    routes = copy / (name + ".rou.xml")
    routes.write_text(routes.read_text().replace('depart="', 'depart="1', 1))
    capsys.readouterr()
    assert main(["scenarios", "suite", "--cache", str(tmp_path), "--names", name, "--verify"]) == 1
    assert "%s" % name in capsys.readouterr().out


def test_suite_names_resolve_in_the_cache_and_say_how_to_build(cache, tmp_path):
    assert resolve(SUBSET[0], cache) == suite.sumocfg_path(SUBSET[0], cache)
    with pytest.raises(ScenarioError, match="run `ampelwerk scenarios suite`"):
        resolve(SUBSET[0], tmp_path)
    with pytest.raises(ScenarioError, match="suite name"):
        resolve("gen99-nothing", tmp_path)


@pytest.mark.sumo
def test_idle_lanes_and_legs_see_no_vehicle(cache):
    import xml.etree.ElementTree as ET

    import sumolib

    # gen05: left turns have a zero share, so no route turns left; gen10: one entry carries nothing
    net = sumolib.net.readNet(str(suite.sumocfg_path(SUBSET[0], cache).parent / (SUBSET[0] + ".net.xml")))
    routes = suite.sumocfg_path(SUBSET[0], cache).parent / (SUBSET[0] + ".rou.xml")
    turns = set()
    for r in ET.parse(routes).getroot().iter("route"):
        edges = r.get("edges").split()
        for a, b in zip(edges, edges[1:]):
            turns |= {c.getDirection() for c in net.getEdge(a).getOutgoing()[net.getEdge(b)]}
    assert turns and not turns & {"l", "L", "t"} and "s" in turns and "r" in turns
    entries = {r.get("edges").split()[0] for r in ET.parse(
        suite.sumocfg_path(SUBSET[1], cache).parent / (SUBSET[1] + ".rou.xml")).getroot().iter("route")}
    assert len(entries) == 3  # of the single junction's four legs


@pytest.mark.sumo
@pytest.mark.slow
def test_a_generated_net_imports_and_delay_based_beats_its_fixed_program(cache, tmp_path):
    from sim.net_import import import_scenario
    from sim.runner import RunOptions, run

    cfg = resolve(SUBSET[1], cache)
    imported = import_scenario(cfg, tmp_path / "import")
    assert list(imported.configs) == ["A0"]
    fixed = run(RunOptions(cfg, "fixed", tmp_path / "fixed", end=1200, progress=False))
    delay = run(RunOptions(cfg, "sumo-delay-based", tmp_path / "delay", end=1200, progress=False))
    assert 'type="delay_based"' in (tmp_path / "delay" / "delay_based.add.xml").read_text()
    for s in (fixed, delay):
        assert s["arrived"] > 200 and s["collisions"] == 0 and s["teleports"] == 0
    # greens follow the time loss of the vehicles on them: they vary, and delay falls below the fixed program's
    assert delay["delay_s"] < fixed["delay_s"]
    greens = _green_durations(tmp_path / "delay" / "signals.csv")
    assert min(greens) < max(greens) and len(set(greens)) > 3


@pytest.mark.sumo
@pytest.mark.slow
def test_a_one_way_net_runs_safely_with_the_ampelwerk_core(cache, tmp_path):
    from sim.runner import RunOptions, run
    from sim.signal_check import check_signals

    cfg = resolve(SUBSET[0], cache)
    s = run(RunOptions(cfg, "ampelwerk-adaptive", tmp_path, end=600, sequence="free", progress=False))
    assert s["arrived"] > 100 and s["collisions"] == 0 and s["monitor_flash"] == []
    assert len(s["controlled_by_ampelwerk"]) == 9
    assert check_signals(tmp_path / "signals.csv", s["configs"], step_s=1.0) == []


def _green_durations(signals: Path) -> list[float]:
    """Seconds from each change to a state with a G to the next change (one traffic light)."""
    rows = [line.split(",") for line in signals.read_text().splitlines()[1:]]
    out = []
    for (t0, _, s0), (t1, _, _) in zip(rows, rows[1:]):
        if "G" in s0 and "y" not in s0:
            out.append(float(t1) - float(t0))
    return out
