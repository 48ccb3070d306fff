"""Corridor file validation: every problem reported, naming field, value and allowed range."""

import json

import pytest

from coordinator.corridors import CorridorError, load_corridors, minimum_cycle_ms
from tests.coordinator.conftest import ARTERIAL, edit_corridor


def test_bundled_arterial_loads():
    (c,) = load_corridors(ARTERIAL)
    assert c.id == "arterial" and c.controller_ids() == ["J1", "J2", "J3", "J4", "J5"]
    assert c.positions_m() == [0.0, 300.0, 550.0, 900.0, 1200.0]
    assert abs(c.arrival_ms()[-1] - 1200 / 13.89 * 1000) < 1e-6
    ci = c.intersections[0]
    assert ci.coordinated_stage == "S1" and ci.ix.stage_ids[ci.stage_order()[0]] == "S1"
    # 5 s min green + 5 s intergreen, two stages
    assert minimum_cycle_ms(ci) == 20000


def errors_of(path):
    with pytest.raises(CorridorError) as e:
        load_corridors(path)
    return e.value.errors


def test_every_problem_is_reported(arterial_dir):
    def change(raw):
        c = raw["corridors"][0]
        c["cycle_ms"] = {"min": 10000, "max": 150000.5}
        c["main_direction"] = "sideways"
        c["intersections"][0]["coordinated_stage"] = "S9"
        c["intersections"][1]["through_groups"]["forward"] = ["K7"]
        c["intersections"][2]["through_groups"]["backward"] = ["K1"]  # exists but not green in S1
        c["intersections"][3]["config"] = "missing.json"
        c["intersections"][4]["controller"] = "J1"
        c["links"][0]["speed_mps"] = 0
        c["links"][1]["length_m"] = "far"
        c["links"].pop()
        c["colour"] = "red"

    errors = errors_of(edit_corridor(arterial_dir / "corridor.json", change))
    text = "\n".join(errors)
    assert "cycle_ms.min=10000 is outside the allowed range 20000..300000 ms" in text
    assert "cycle_ms.max=150000.5 is not an integer" in text
    assert "main_direction='sideways'" in text
    assert "coordinated_stage='S9' is not a stage of J1.json (stages: S1, S2)" in text
    assert "through_groups.forward has 'K7', not a signal group of J2.json" in text
    assert "through_groups.backward has 'K1', which is not green in coordinated_stage 'S1'" in text
    assert "missing.json" in text and "cannot read" in text
    assert "config J5.json has id='J5' but controller='J1'" in text
    assert "links[0]: speed_mps=0 is outside the allowed range 1..40 m/s" in text
    assert "links[1]: length_m='far' is not a number" in text
    assert "links has 3 entries, expected 4" in text
    assert "unknown field 'colour'" in text
    assert len(errors) >= 12


def test_cycle_max_below_local_minimum(arterial_dir):
    path = edit_corridor(arterial_dir / "corridor.json",
                         lambda raw: raw["corridors"][0].update(cycle_ms={"min": 20000, "max": 20000}))
    assert load_corridors(path)  # 20 s is exactly the minimum: fine
    # raise a minimum green in J3: 5 -> 15 s makes 30 s the minimum cycle
    cfg = json.loads((arterial_dir / "J3.json").read_text())
    cfg["signal_groups"][0]["min_green_ms"] = 15000
    (arterial_dir / "J3.json").write_text(json.dumps(cfg))
    errors = errors_of(arterial_dir / "corridor.json")
    assert any("controller J3 needs a cycle of at least 30000 ms" in e and "cycle_ms.max=20000" in e for e in errors)


def test_not_json_and_wrong_format(tmp_path):
    p = tmp_path / "c.json"
    p.write_text("{nope")
    assert "not valid JSON" in errors_of(p)[0]
    p.write_text(json.dumps({"format": "x", "corridors": []}))
    errs = errors_of(p)
    assert "format='x', expected 'ampelwerk-corridor/1'" in errs[0] and "corridors=[] is not a non-empty list" in errs[1]
    assert "cannot read" in errors_of(tmp_path / "nothing.json")[0]
