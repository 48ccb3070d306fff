"""SUMO import of RESCO benchmark nets (from the scenario cache `ampelwerk scenarios fetch` fills before the run)."""

from __future__ import annotations

import pytest

from sim.net_import import ImportResult, import_scenario
from sim.scenarios import resolve
from tests.sim.test_import import check_core_runs, check_import, check_loads_in_sumo

pytestmark = [pytest.mark.sumo, pytest.mark.slow]

# one joined traffic light with permissive lefts; seven lights of a real city; 's' arrows and shared lanes
NETS = ("cologne1", "ingolstadt7", "arterial4x4")


@pytest.fixture(scope="module")
def resco(resco_cache, tmp_path_factory) -> dict[str, ImportResult]:
    out = tmp_path_factory.mktemp("resco-import")
    return {name: import_scenario(resolve(name, resco_cache), out / name) for name in NETS}


@pytest.mark.parametrize("name", NETS)
def test_resco_import_is_consistent_with_the_net(resco, name):
    check_import(resco[name])
    check_loads_in_sumo(resco[name])


@pytest.mark.parametrize("name", NETS)
def test_core_accepts_and_runs_resco_imports(resco, name):
    check_core_runs(resco[name])


def test_cologne1_keeps_permissive_lefts_with_the_through_stage(resco):
    import json

    res = resco["cologne1"]
    (tls_id,) = res.configs
    raw = json.loads(res.configs[tls_id].read_text())
    src = raw["source"]["sumo"]
    # the permissive left links ('g' in the through phase, 'G' in their own) keep 'g' when green
    assert src["green_chars"] == "GGGggGGGggGGGggGGGgg"
    assert any("permissive" in n for n in src["notes"])
    # four stages: through with permissive left, protected left, for both roads
    assert len(raw["stages"]) == 4 and sum(len(s["groups"]) == 2 for s in raw["stages"]) == 2
    # the through stages mark their left permissive; the protected-left stages do not
    assert [(s["groups"], s.get("permissive")) for s in raw["stages"]] == [
        (["K3", "K4"], ["K4"]), (["K4"], None), (["K1", "K2"], ["K2"]), (["K2"], None)]
    assert [g["min_green_ms"] for g in raw["signal_groups"]] == [5000] * 4  # minDur="5" in the program
    assert [g["yellow_ms"] for g in raw["signal_groups"]] == [5000] * 4  # 5 s yellow phases
