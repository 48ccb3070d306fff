# Blocked exits (controller/detection/exit_blocking.py, docs/adaptive.md rule 6): exit
# loops past the junction, named by the approach loops whose lanes lead onto them.
from controller.config.validation import validate
from tests.controller.core_support import Recorder, controller, two_group_raw


def _raw(blocked_ms=4000):
    raw = two_group_raw(strategy="adaptive")
    raw["detectors"] = [
        {"id": "dA", "group": "A", "kind": "stop_bar", "exits": ["xA"]},
        {"id": "dA2", "group": "A", "kind": "stop_bar", "exits": ["xA2"]},
        {"id": "dB", "group": "B", "kind": "stop_bar"},
        {"id": "xA", "kind": "exit", "distance_m": 5},
        {"id": "xA2", "kind": "exit", "distance_m": 5},
    ]
    raw["signal_groups"][0]["max_green_ms"] = 60000
    raw["adaptive"] = {"exit_blocked_ms": blocked_ms}
    return raw


def _a_green_end(presence_fn, raw=None):
    # A rests in green from startup; from 20 s a car waits on B and A's lanes hold standing queues
    rec = Recorder(controller(raw or _raw())).run(120000, presence_fn)
    ends = [t for t, s in rec.changes(0) if s == "Y"]
    return ends[0] if ends else None


def _queues(t, pres):
    pres[0] = pres[1] = 1  # a vehicle stands on each of A's stop-bar loops: A extends
    pres[2] = 1 if t >= 20000 else 0


def test_a_green_whose_lanes_are_all_blocked_ends_and_the_other_group_is_served():
    def blocked(t, pres):
        _queues(t, pres)
        pres[3] = pres[4] = 1 if t >= 30000 else 0  # from 30 s both exits are blocked

    # without exit loops occupied, A holds to max green (60 s from B's call)
    assert _a_green_end(_queues) >= 20000 + 60000 - 200  # (max timer from the tick that saw the call)
    end = _a_green_end(blocked)
    assert 30000 + 4000 <= end <= 30000 + 4000 + 500


def test_one_lane_free_keeps_extending_a_blocked_one_does_not():
    def one_blocked(t, pres):
        _queues(t, pres)
        pres[3] = 1 if t >= 30000 else 0  # xA blocked; A's second lane still leaves
        pres[1] = 1 if (t // 1000) % 2 == 0 else 0  # and moves: a car every 2 s

    # dA stands (gap 0) but its lane is blocked; dA2's gaps of 1 s stay under the 2 s passage
    assert _a_green_end(one_blocked) >= 20000 + 60000 - 200  # (max timer from the tick that saw the call)

    def one_blocked_other_gaps(t, pres):
        one_blocked(t, pres)
        pres[1] = 0 if t >= 40000 else pres[1]  # dA2's traffic stops: its gap grows

    # its last car left the loop at 39 s: the gap reaches the 2 s passage at 41 s, dA standing or not
    end = _a_green_end(one_blocked_other_gaps)
    assert 39000 + 2000 <= end <= 39000 + 2000 + 300


def test_a_faulted_exit_loop_never_blocks():
    raw = _raw()
    for d in raw["detectors"]:
        if d["kind"] == "exit":
            d["max_presence_ms"] = 10000  # stuck on for 10 s: faulted

    def stuck(t, pres):
        _queues(t, pres)
        pres[3] = pres[4] = 1  # on from power-up, and never off

    assert _a_green_end(stuck, raw) >= 20000 + 60000 - 200  # (max timer from the tick that saw the call)


def test_exit_loops_are_validated_with_field_value_and_kind():
    raw = _raw()
    raw["detectors"][0]["exits"] = ["dB"]
    raw["detectors"][1]["exits"] = []
    raw["detectors"][3]["group"] = "A"
    errors = validate(raw)
    assert 'detector "dA": exits names "dB", not a detector of kind "exit"' in errors
    assert any(e.startswith('detector "dA2": exits=[] must be a non-empty list') for e in errors)
    assert any(e.startswith('detector "xA"') and "group" in e for e in errors)
    assert validate(_raw()) == []
    bad = _raw()
    bad["adaptive"]["exit_blocked_ms"] = 999
    assert any("exit_blocked_ms" in e and "999" in e for e in validate(bad))
