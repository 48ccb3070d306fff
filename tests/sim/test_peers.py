"""Peer baselines without SUMO: the programs and detectors they write."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sim.peers import DELAY_BASED_DETECTOR_RANGE_M, TlsInfo, write_actuated_programs, write_delay_based_programs

# two green phases: link 0 (main road, lane m_0 -> x_0) and link 1 (side road, lane s_0 -> y_0)
PHASES = [(30.0, "Gr", -1.0, -1.0), (3.0, "yr", 3.0, 3.0), (30.0, "rG", -1.0, -1.0), (3.0, "ry", 3.0, 3.0)]
INFO = TlsInfo("J", "0", PHASES, [("m_0", "x_0"), ("s_0", "y_0")],
               {"m_0": 24.0, "x_0": 300.0, "s_0": 200.0, "y_0": 30.0})


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
