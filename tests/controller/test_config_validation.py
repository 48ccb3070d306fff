# Config validation: every problem reported at once, each naming field, value and range.
import sys

from controller.config.loading import ConfigError, load_dict, load_text
from controller.config.validation import validate
from tests.controller.core_support import copy_raw, example_raw, two_group_raw


def _errors(raw):
    return validate(raw)


def test_example_config_is_valid():
    assert _errors(example_raw()) == []
    ix = load_dict(example_raw())
    assert ix.n_groups == 10 and ix.n_stages == 4 and ix.n_detectors == 18


def test_yellow_below_minimum_names_field_value_and_range():
    raw = two_group_raw()
    raw["signal_groups"][1]["yellow_ms"] = 2500
    errs = _errors(raw)
    assert 'signal group "B": yellow_ms=2500 is below the 3000 ms minimum' in errs


def test_min_green_above_max_green():
    raw = two_group_raw()
    raw["signal_groups"][0]["min_green_ms"] = 30000
    errs = _errors(raw)
    assert any('signal group "A": min_green_ms=30000 is above max_green_ms=20000' in e for e in errs)


def test_conflicting_groups_in_one_stage():
    raw = two_group_raw()
    raw["stages"][0]["groups"] = ["A", "B"]
    assert any("conflicting signal groups A and B in one stage" in e for e in _errors(raw))


def test_permissive_groups_must_be_vehicle_groups_of_their_stage():
    raw = two_group_raw()
    raw["stages"][0]["permissive"] = ["A"]
    assert _errors(raw) == []
    raw["stages"][0]["permissive"] = ["B"]
    assert any('stage "S1": permissive group "B" must be one of the stage\'s vehicle groups (A)' in e
               for e in _errors(raw))
    raw["stages"][0]["permissive"] = "A"
    assert any('stage "S1": permissive="A" must be a list' in e for e in _errors(raw))


def test_conflicting_pair_without_intergreen():
    raw = two_group_raw()
    del raw["intergreen_ms"]["B"]
    assert any("conflicting pair A-B has no intergreen_ms B->A" in e for e in _errors(raw))


def test_intergreen_shorter_than_clearance():
    raw = two_group_raw()
    raw["intergreen_ms"]["B"]["A"] = 5000  # B: yellow 4000 + red clearance 2000
    assert any("intergreen_ms B->A: 5000 ms is below B's yellow_ms + red_clearance_ms = 6000 ms minimum" in e for e in _errors(raw))


def test_unknown_references_and_duplicates_and_empty_stage_all_reported():
    raw = two_group_raw()
    raw["detectors"].append({"id": "dA", "group": "Z"})
    raw["stages"].append({"id": "S3", "groups": []})
    raw["stages"][1]["groups"] = ["B", "Q"]
    raw["signal_groups"].append({"id": "A"})
    errs = _errors(raw)
    joined = "\n".join(errs)
    assert 'detector "dA": duplicate id' in joined
    assert 'detector "dA": group="Z" is not a known signal group' in joined
    assert 'stage "S3": groups=[] must be a non-empty list' in joined
    assert 'stage "S2": unknown signal group "Q"' in joined
    assert 'signal group "A": duplicate id' in joined
    assert len(errs) >= 5


def test_wrong_types_are_reported_not_raised():
    raw = two_group_raw()
    raw["signal_groups"][0]["min_green_ms"] = "5s"
    raw["conflicts"] = "A,B"
    errs = _errors(raw)
    assert any('min_green_ms="5s" must be an integer number of ms (1000 to 120000 ms)' in e for e in errs)
    assert any("conflicts must be a list" in e for e in errs)
    assert _errors([1, 2]) == ["config must be a JSON object, found [1, 2]"]


def test_group_in_no_stage_and_pedestrian_detector_mismatch():
    raw = two_group_raw()
    raw["signal_groups"].append({"id": "P", "kind": "pedestrian", "ped_clearance_ms": 8000})
    raw["detectors"].append({"id": "pb", "group": "A", "kind": "pedestrian"})
    errs = "\n".join(_errors(raw))
    assert 'signal group "P": is in no stage' in errs
    assert 'detector "pb": kind "pedestrian" does not fit the vehicle signal group "A"' in errs


def test_fixed_time_plan_checked():
    raw = two_group_raw(strategy="fixed")
    raw["fixed_time"]["splits_ms"]["S2"] = 8000
    errs = "\n".join(_errors(raw))
    assert "splits_ms S2=8000 is below the 13000 ms minimum" in errs
    assert "splits_ms add up to 28000 ms but cycle_ms=40000" in errs
    raw = two_group_raw(strategy="fixed")
    del raw["fixed_time"]
    assert any('strategy "fixed" needs a fixed_time plan' in e for e in _errors(raw))


def test_unknown_field_and_bad_choice():
    raw = two_group_raw(strategy="magic")
    raw["signal_groups"][0]["colour"] = "blue"
    raw["signal_groups"][0]["recall"] = "always"
    errs = "\n".join(_errors(raw))
    assert 'strategy="magic" is not one of fixed, actuated, adaptive' in errs
    assert 'signal group "A": unknown field "colour"' in errs
    assert 'signal group "A": recall="always" is not one of none, min, max' in errs


def test_invalid_config_never_builds():
    raw = two_group_raw()
    raw["signal_groups"][0]["yellow_ms"] = 1000
    try:
        load_dict(raw, "x.json")
    except ConfigError as e:
        assert len(e.errors) >= 1
        assert "invalid config x.json" in str(e)
    else:
        assert False, "an invalid config built"


def test_validation_does_not_mutate_input():
    raw = example_raw()
    before = copy_raw(raw)
    validate(raw)
    load_dict(raw)
    assert raw == before


def test_lists_and_objects_where_a_group_name_belongs_are_reported_not_raised():
    # membership tests on unhashable values raised TypeError (issue 14, finding 5)
    raw = example_raw()
    raw["conflicts"][0] = [["K1"], "K2"]
    raw["stages"][0]["groups"].append({"id": "K1"})
    raw["detectors"][0]["group"] = ["K1", "K2"]
    errs = _errors(raw)
    assert "conflicts #1: unknown signal group ['K1']" in errs, errs
    assert "stage \"S1\": unknown signal group {'id': 'K1'}" in errs, errs
    assert "detector \"D1s\": group=['K1', 'K2'] is not a known signal group" in errs, errs


def test_numbers_of_any_size_are_reported_with_the_range_and_cut_short():
    raw = example_raw()
    raw["signal_groups"][0]["min_green_ms"] = 10 ** 400
    raw["strategy"] = "fixed"
    errs = _errors(raw)
    assert any(e.startswith('signal group "K1": min_green_ms=1000000000') and "characters) is above the 120000 ms"
               in e for e in errs), errs
    assert all(len(e) < 300 for e in errs), errs


def test_fixed_time_splits_of_any_size_or_unknown_stage_are_reported_not_raised():
    # the validator built the model before every split was checked (OverflowError, ValueError)
    for change, expect in (({"S1": 10 ** 400}, "splits_ms S1=1000"), ({"S1": 2 ** 40}, "is outside 0 to cycle_ms=90000"),
                           ({"S9": 1000}, "splits_ms names unknown stage \"S9\""),
                           ({"S2": "14000"}, 'splits_ms S2="14000" must be an integer')):
        raw = example_raw()
        raw["fixed_time"]["splits_ms"].update(change)
        errs = _errors(raw)
        assert any(expect in e for e in errs), (change, errs)


def test_json_nested_too_deep_is_a_config_error():
    # CPython's parser refuses this depth; MicroPython's reads it from the heap (so the test asks less of
    # a heap the other tests fragmented) and the validator refuses what it finds: a ConfigError either way
    n = 20000 if sys.implementation.name == "micropython" else 100000
    for text in ("[" * n + "]" * n, '{"a":' * (n // 2) + "1" + "}" * (n // 2)):
        try:
            load_text(text, "deep.json")
        except ConfigError as e:
            assert e.errors[0].startswith(("not valid JSON", "config must be a JSON object", "unknown field")), e.errors
        else:
            assert False, "a config nested %d deep was accepted" % n


def test_control_characters_are_escaped_and_ids_cannot_hold_them():
    # a field name or value with a line break or an escape sequence split an
    # error over lines or drove the terminal (found by 100,000 fuzzed configs)
    raw = example_raw()
    raw["signal_groups"][0]["kind"] = "vehicle\n  signal group \"K9\": fine"
    raw["signal_groups"][1]["id"] = "K2\x1b[2J"
    raw["bogus\u2028"] = 1
    errs = _errors(raw)
    for e in errs:
        for c in e:
            assert ord(c) >= 32 and not 127 <= ord(c) < 160 and c not in "\u2028\u2029", repr(e)
    assert 'signal group "K1": kind="vehicle\\x0a  signal group \\"K9\\": fine" is not one of vehicle, pedestrian' \
        in errs or any(e.startswith('signal group "K1": kind="vehicle\\x0a') for e in errs), errs
    assert 'signal group #2: id="K2\\x1b[2J" must be a non-empty string without control characters' in errs, errs
    assert any(e.startswith('unknown field "bogus\\u2028"') for e in errs), errs


def test_detector_placement_and_idle_limits_checked():
    raw = two_group_raw()
    a, b = raw["detectors"]
    a.update(approach="north", lane="n1", turn_pocket=True, idle_ms=30000)
    b.update(approach="", turn_pocket="yes")
    raw["detector_diagnostics"] = {"witness_count": 5000, "idle_turn_pocket_ms": 1000}
    errs = _errors(raw)
    assert 'detector "dA": idle_ms=30000 is below the 60000 ms minimum' in errs
    assert 'detector "dB": approach="" must be a non-empty string without control characters' in errs
    assert 'detector "dB": turn_pocket="yes" must be true or false' in errs
    assert "detector_diagnostics: witness_count=5000 is above the 1000 vehicles maximum" in errs
    assert "detector_diagnostics: idle_turn_pocket_ms=1000 is below the 60000 ms minimum" in errs
    # a loop on an approach names its lane (the loops of a lane witness each other); a pocket is on one
    raw = two_group_raw()
    raw["detectors"][0].update(approach="north")
    raw["detectors"][1].update(lane="e1", turn_pocket=True)
    assert _errors(raw) == ['detector "dA": a loop on an approach (or a turn_pocket) names its approach and lane',
                            'detector "dB": a loop on an approach (or a turn_pocket) names its approach and lane']
    # a push button sits on no lane
    raw = example_raw()
    button = [d for d in raw["detectors"] if d["kind"] == "pedestrian"][0]
    button["approach"] = "north"
    assert any('detector "%s": unknown field "approach"' % button["id"] in e for e in _errors(raw))


def test_detector_placement_and_idle_limits_filled_in_at_load():
    from controller.core import Controller

    raw = two_group_raw()
    raw["detectors"][0].update(approach="north", lane="n0")
    raw["detectors"][1].update(approach="east", lane="e0", turn_pocket=True, kind="advance")
    ix = load_dict(raw)
    diag = ix.raw["detector_diagnostics"]
    assert diag["witness_count"] == 20 and diag["idle_stop_bar_ms"] == 7200000
    assert diag["idle_advance_ms"] == 14400000 and diag["idle_turn_pocket_ms"] == 14400000
    assert ix.raw["detectors"][0]["turn_pocket"] is False
    det = Controller(ix).detectors
    assert list(det.idle_ms) == [7200000, 14400000]  # by role: stop bar; turn pocket (an advance loop on it)
    assert list(det.witness_need) == [20, 20]
    assert det.lane[0] != det.lane[1] and det.n_lanes == 2
    # on no approach: the classic check, no witnesses needed, no idle limit
    det = Controller(load_dict(two_group_raw())).detectors
    assert list(det.witness_need) == [0, 0] and list(det.idle_ms) == [0, 0]
    assert list(det.lane) == [-1, -1] and det.n_lanes == 0 and det.lane_rises is None


def test_a_filled_in_config_is_valid_again():
    # what a board stores after an upload is the filled-in config: it must load again as it is
    from controller.config.defaults import with_defaults

    for raw in (example_raw(), two_group_raw()):
        assert validate(with_defaults(raw)) == []
