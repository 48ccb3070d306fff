"""scripts/trace_digest.py: what it ignores, what it catches, and that a rerun compares identical."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "trace_digest.py"


def _tool():
    spec = importlib.util.spec_from_file_location("trace_digest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sumo_header_and_wall_clock_are_ignored_but_results_are_not():
    td = _tool()
    a = (b'<?xml version="1.0"?>\n<!-- generated on 2026-01-01 by SUMO\n<input value="/a/b.net.xml"/>\n-->\n\n'
         b'<statistics>\n    <performance clockBegin="1.0" duration="3.0"/>\n    <vehicles loaded="12"/>\n'
         b'</statistics>\n')
    b = a.replace(b"2026-01-01", b"2027-02-02").replace(b"/a/b", b"/c/d").replace(b'clockBegin="1.0"', b'clockBegin="9"')
    assert td.normalised_xml(a) == td.normalised_xml(b)
    assert td.normalised_xml(a) != td.normalised_xml(a.replace(b'loaded="12"', b'loaded="13"'))


def test_summary_drops_wall_time_and_versions_and_shortens_paths():
    td = _tool()
    summary = {"wall_s": 1.5, "ampelwerk_version": "0.1.0+gabc", "python": "3.11.7", "delay_s": 16.5,
               "scenario": "/x/sim/scenario_data/single4/single4.sumocfg", "configs": {"C": "/run/import/C.json"}}
    assert td.normalised_summary(summary, "/run") == {
        "delay_s": 16.5, "scenario": "<path>/single4.sumocfg", "configs": {"C": "<out>/import/C.json"}}


def test_differences_name_the_run_the_file_and_the_summary_field():
    td = _tool()
    run = {"exit": 0, "stdout": "x", "files": {"signals.csv": "aa" * 32}, "summary": {"delay_s": 1.0, "arrived": 5}}
    base = {"runs": {"single4/ampelwerk-adaptive": run}}
    assert td.differences(base, base) == []
    changed = json.loads(json.dumps(base))
    changed["runs"]["single4/ampelwerk-adaptive"]["files"]["signals.csv"] = "bb" * 32
    changed["runs"]["single4/ampelwerk-adaptive"]["summary"]["delay_s"] = 2.0
    diffs = td.differences(base, changed)
    assert len(diffs) == 2
    assert diffs[0].startswith("single4/ampelwerk-adaptive: signals.csv aaaa")
    assert diffs[1] == "single4/ampelwerk-adaptive: summary.json delay_s: 1.0 -> 2.0"


@pytest.mark.sumo
def test_a_rerun_compares_identical_and_a_changed_trace_is_reported(tmp_path):
    base = tmp_path / "base.json"
    cmd = [sys.executable, str(SCRIPT), "--scenarios", "single4", "--end", "120", "--jobs", "2"]
    first = subprocess.run(cmd + ["--out", str(base)], capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    doc = json.loads(base.read_text())
    assert sorted(doc["runs"]) == ["single4/ampelwerk-actuated", "single4/ampelwerk-adaptive"]
    for r in doc["runs"].values():
        assert {"signals.csv", "events.csv", "tripinfo.xml", "import/C.json"} <= set(r["files"])
        assert r["summary"]["end_s"] == 120.0
    again = subprocess.run(cmd[:2] + ["--compare", str(base), "--jobs", "2"], capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "identical: 2 runs, 0 differences" in again.stdout
    doc["runs"]["single4/ampelwerk-adaptive"]["files"]["events.csv"] = "0" * 64
    base.write_text(json.dumps(doc))
    changed = subprocess.run(cmd[:2] + ["--compare", str(base), "--scenarios", "single4"], capture_output=True,
                             text=True)
    assert changed.returncode == 1
    assert "single4/ampelwerk-adaptive: events.csv 000000000000 -> " in changed.stdout
    assert "DIFFERENT: 2 runs, 1 difference " in changed.stdout
