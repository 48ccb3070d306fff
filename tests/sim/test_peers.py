"""Peer baselines without SUMO: the programs and detectors they write, and max-pressure's rules.

max-pressure is stepped against a stand-in for the SUMO connection that
reports lane-area vehicle counts and records the state strings it is given.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sim.peers import (ACTUATED_MAX_DUR_S, DELAY_BASED_DETECTOR_RANGE_M, MAX_PRESSURE_DETECTOR_M, MaxPressure,
                       TlsInfo, write_actuated_programs, write_delay_based_programs, write_pressure_detectors)

# two green phases: link 0 (main road, lane m_0 -> x_0) and link 1 (side road, lane s_0 -> y_0)
PHASES = [(30.0, "Gr", -1.0, -1.0), (3.0, "yr", 3.0, 3.0), (30.0, "rG", -1.0, -1.0), (3.0, "ry", 3.0, 3.0)]
INFO = TlsInfo("J", "0", PHASES, [("m_0", "x_0"), ("s_0", "y_0")],
               {"m_0": 24.0, "x_0": 300.0, "s_0": 200.0, "y_0": 30.0})


class FakeSumo:
    """lanearea counts from a dict; records (time, state) whenever a state is set."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.shown: list[tuple[float, str]] = []
        self.now = 0.0
        self.lanearea = self
        self.trafficlight = self

    def getLastStepVehicleNumber(self, det: str) -> int:  # noqa: N802 (SUMO's name)
        return self.counts.get(det, 0)

    def setRedYellowGreenState(self, tls: str, state: str) -> None:  # noqa: N802
        self.shown.append((self.now, state))


def _drive(mp: MaxPressure, conn: FakeSumo, until_s: float) -> None:
    mp.start(conn, 0.0)
    t = 0.0
    while t < until_s:
        t += 1.0
        conn.now = t
        mp.step(conn, t)


def test_max_pressure_ends_a_green_at_its_maximum_for_a_waiting_vehicle():
    # the main road always has the larger pressure; one vehicle waits on the side road
    conn = FakeSumo({"mp_in_m_0": 9, "mp_in_s_0": 1})
    _drive(MaxPressure(INFO), conn, 200.0)
    side_greens = [t for t, state in conn.shown if state == "rG"]
    assert side_greens, "the side road never got green"
    # the first decision after the 50 s maximum (decisions every 10 s), then the yellow
    assert ACTUATED_MAX_DUR_S <= side_greens[0] <= ACTUATED_MAX_DUR_S + 10 + 3
    # and the main road gets it back at the side road's first decision (it has the larger pressure)
    assert any(state == "Gr" and t > side_greens[0] for t, state in conn.shown)


def test_max_pressure_keeps_the_green_past_its_maximum_when_nobody_waits_elsewhere():
    conn = FakeSumo({"mp_in_m_0": 9, "mp_in_s_0": 0})
    _drive(MaxPressure(INFO), conn, 200.0)
    assert [state for _, state in conn.shown] == ["Gr"]


def test_max_pressure_takes_the_programs_max_duration_where_it_has_one():
    phases = [(30.0, "Gr", 5.0, 20.0), PHASES[1], (30.0, "rG", 5.0, 20.0), PHASES[3]]
    conn = FakeSumo({"mp_in_m_0": 9, "mp_in_s_0": 1})
    _drive(MaxPressure(TlsInfo("J", "0", phases, INFO.links, INFO.lane_length)), conn, 100.0)
    assert min(t for t, state in conn.shown if state == "rG") <= 20 + 3 + 1


def test_pressure_areas_run_on_over_short_lanes():
    # 24 m pocket and 30 m exit: the areas keep their 50 m, ending at the stop line / starting at the exit
    root = ET.fromstring(_write(write_pressure_detectors))
    areas = {d.get("lane"): d.attrib for d in root.iter("laneAreaDetector")}
    assert areas["m_0"]["endPos"] == "24.00" and areas["y_0"]["pos"] == "0"
    assert all(float(a["length"]) == MAX_PRESSURE_DETECTOR_M and a["friendlyPos"] == "true" for a in areas.values())


def test_delay_based_program_is_the_actuated_copy_with_its_own_type_and_range():
    actuated = ET.fromstring(_write(write_actuated_programs)).find("tlLogic")
    delay = ET.fromstring(_write(write_delay_based_programs)).find("tlLogic")
    assert (actuated.get("type"), delay.get("type")) == ("actuated", "delay_based")
    assert [p.attrib for p in delay.iter("phase")] == [p.attrib for p in actuated.iter("phase")]
    assert {p.get("key"): p.get("value") for p in delay.iter("param")} == {
        "detectorRange": "%g" % DELAY_BASED_DETECTOR_RANGE_M}
    greens = [p for p in delay.iter("phase") if "G" in p.get("state")]
    assert [(p.get("minDur"), p.get("maxDur")) for p in greens] == [("5", "50"), ("5", "50")]


def _write(writer) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "peer.add.xml"
        writer({"J": INFO}, path)
        return path.read_text()
