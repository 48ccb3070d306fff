"""Splits where signal groups share stages, and demand from the green the groups used."""

from __future__ import annotations

from controller.coordination.messages import MODE_FREE, MessageError, Report, decode_report, encode_report

from coordinator.stage_greens import critical_flow_ratio, share_green


def test_a_group_in_two_stages_is_counted_once():
    # stages: 0 = {main}, 1 = {main, left}, 2 = {left}, 3 = {cross}; all groups equally loaded
    stages = [[0], [0, 1], [1], [2]]
    ratios = [0.2, 0.2, 0.2]
    greens = share_green(stages, ratios, [0, 0, 0, 0], 90)
    assert sum(greens) == 90
    main = greens[0] + greens[1]
    left = greens[1] + greens[2]
    cross = greens[3]
    # the stage serving main and left together takes their share: every group gets half the green,
    # the lone crossing group included (summing stage ratios would give it a quarter)
    assert main == left == cross == 45
    # the critical ratio is 0.4 (two stages' worth), not the four stages' sum 0.8
    assert abs(critical_flow_ratio(stages, ratios) - 0.4) < 0.01


def test_disjoint_stages_share_in_proportion_to_their_ratios_above_minimums():
    greens = share_green([[0], [1]], [0.3, 0.1], [5, 5], 40)
    assert greens == [30, 10]
    assert share_green([[0], [1]], [0.3, 0.1], [30, 30], 40) is None  # minimums do not fit
    assert share_green([[0], [1]], [0.0, 0.0], [5, 5], 40) == [35, 5]  # no demand: the rest to stage 0


def _assert_refused(payload: bytes, field: str) -> None:
    """decode_report refuses the payload with an error that names the field."""
    try:
        decode_report(payload)
    except MessageError as e:
        assert field in str(e)
        return
    raise AssertionError("a malformed %s was accepted" % field)


def test_report_green_use_is_optional_and_checked():
    r = Report("J1", 1, 0, 60000, MODE_FREE, 0, ["K1", "K2"], [3, 4], [0, 0], [], [30000, 20000], [30000, 5000])
    back = decode_report(encode_report(r))
    assert back.green_ms == [30000, 20000] and back.used_green_ms == [30000, 5000]
    old = decode_report(encode_report(Report("J1", 1, 0, 60000, MODE_FREE, 0, ["K1"], [3], [0], [])))
    assert old.green_ms is None and old.used_green_ms is None
    _assert_refused(encode_report(r).replace(b'"used_green_ms": [30000, 5000]', b'"used_green_ms": [1]'),
                    "used_green_ms")


def test_report_loop_counts_are_optional_and_checked():
    r = Report("J1", 1, 0, 60000, MODE_FREE, 0, ["K1", "K2"], [5, 2], [0, 0], [], loop_counts=[[4, 1], [2]])
    assert decode_report(encode_report(r)).loop_counts == [[4, 1], [2]]
    old = decode_report(encode_report(Report("J1", 1, 0, 60000, MODE_FREE, 0, ["K1"], [3], [0], [])))
    assert old.loop_counts is None
    _assert_refused(encode_report(r).replace(b'"loop_counts": [[4, 1], [2]]', b'"loop_counts": [[4, -1], [2]]'),
                    "loop_counts")


def test_busiest_lane_of_a_two_approach_group_sets_its_ratio():
    # A side group serving both approaches of a cross street, one lane each,
    # 600 veh/h from one side and 100 from the other: its green must serve the
    # 600 veh/h lane (ratio 600/1800 = 0.33), not the mean of the two (0.19).
    from coordinator.report_window import ReportTracker

    t = ReportTracker(window_ms=900000)
    for k in range(15):  # 15 one-minute reports: 10 + 2 vehicles a minute on K1's loops, 5 on K2's
        t.add(Report("J1", k + 1, (k + 1) * 60000, 60000, MODE_FREE, 0, ["K1", "K2"], [12, 5], [0, 0], [],
                     loop_counts=[[10, 2], [5]]), "free")
    now = 15 * 60000
    assert t.flows_vph(now) == {"K1": 720.0, "K2": 300.0}
    lane = t.busiest_lane_vph(now)
    assert lane == {"K1": 600.0, "K2": 300.0}
    # the lane imbalance summed over the window, not per report: a lane busier in one minute and
    # quieter in the next is not counted at its peaks
    t2 = ReportTracker(window_ms=900000)
    for k in range(10):
        c = [6, 4] if k % 2 else [4, 6]
        t2.add(Report("J1", k + 1, (k + 1) * 60000, 60000, MODE_FREE, 0, ["K1"], [10], [0], [],
                      loop_counts=[c]), "free")
    assert t2.busiest_lane_vph(10 * 60000) == {"K1": 300.0}
