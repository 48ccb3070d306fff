"""The conformance suite against the virtual board, and the bench's own checks:
a wrong expectation fails, reports are well-formed, the CLI exits right."""

from __future__ import annotations

import copy
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from firmware.host_virtual import VirtualBoard
from hil.conformance import load_suite, run_suite, scenario_config
from hil.proxy import DeviceController
from hil.report import junit_xml, passed, summary
from tests.conftest import ROOT

pytestmark = pytest.mark.micropython

SUITE = ROOT / "hil" / "suites" / "conformance.json"
REQUIRED = ("min green", "gap-out", "max-out", "yellow and intergreen", "stage skipping", "pedestrian",
            "no activity", "max presence", "erratic", "conflict", "power cycle", "garbage")


def _run(suite: dict) -> list[dict]:
    with VirtualBoard() as port:
        with DeviceController(port, scenario_config(suite, suite["scenarios"][0]), bench=True) as dev:
            return run_suite(dev, suite)


def test_suite_covers_every_required_behaviour() -> None:
    names = " ".join(sc["name"] for sc in load_suite(SUITE)["scenarios"])
    for word in REQUIRED:
        assert word in names, word


@pytest.mark.slow
def test_conformance_suite_passes_on_the_virtual_board() -> None:
    items = _run(load_suite(SUITE))
    failed = [it for it in items if not passed(it)]
    assert not failed, summary("conformance", "virtual", failed)
    assert len(items) == len(REQUIRED)
    assert sum(len(it["results"]) for it in items) >= 40


def test_a_wrong_expectation_fails_and_reports_say_so() -> None:
    suite = load_suite(SUITE)
    sc = copy.deepcopy(suite["scenarios"][0])  # min green held: A's first green is 5000 ms
    sc["name"] = "deliberately wrong"
    sc["expect"] = [{"kind": "interval", "group": "A", "state": "G", "nth": 1, "ms": 5300}]
    good = copy.deepcopy(suite["scenarios"][0])
    items = _run(dict(suite, scenarios=[good, sc]))
    assert passed(items[0]) and not passed(items[1])
    assert "5000 ms" in items[1]["results"][0][1]
    root = ET.fromstring(junit_xml("conformance", items))
    assert root.get("tests") == "2" and root.get("failures") == "1"
    assert [c.find("failure") is not None for c in root.iter("testcase")] == [False, True]
    assert "1 of 2 scenarios passed" in summary("conformance", "virtual", items)


@pytest.mark.parametrize("port", ["virtual://?heap=512k", "virtual"])  # the pyserial URL, and its short alias
def test_cli_runs_a_suite_on_the_virtual_board_and_writes_junit(tmp_path: Path, port: str) -> None:
    r = subprocess.run([sys.executable, "-m", "ampelwerk", "hil", "run", "conformance", "--port", port,
                        "--only", "garbage", "--junit", str(tmp_path / "j.xml"), "--report", str(tmp_path / "r.txt")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 of 1 scenarios passed" in r.stdout and (tmp_path / "r.txt").read_text() == r.stdout
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "0"


def test_cli_names_a_missing_port() -> None:
    r = subprocess.run([sys.executable, "-m", "ampelwerk", "hil", "run", "conformance", "--port", "/dev/no-such-board"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "cannot open serial port '/dev/no-such-board'" in r.stderr


def test_a_misnamed_detector_is_a_suite_error_naming_it() -> None:
    from hil.conformance import SuiteError, check_names

    suite = load_suite(SUITE)
    sc = copy.deepcopy(suite["scenarios"][0])
    ix = scenario_config(suite, sc)
    check_names(ix, sc)
    sc["actuations"][0]["detector"] = "D9"
    with pytest.raises(SuiteError, match="detector='D9' is not one of DA, DC, DB, PB"):
        check_names(ix, sc)
    sc = copy.deepcopy(suite["scenarios"][3])
    sc["expect"][1]["to"] = "Z"
    with pytest.raises(SuiteError, match="to='Z' is not a signal group"):
        check_names(ix, sc)


def test_cli_report_into_a_missing_directory_is_refused_before_the_suite_runs(tmp_path: Path) -> None:
    # FileNotFoundError after the whole suite had run (issue 14, finding 6)
    r = subprocess.run([sys.executable, "-m", "ampelwerk", "hil", "run", "conformance", "--port", "virtual",
                        "--only", "garbage", "--junit", str(tmp_path / "nowhere" / "j.xml")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "--report/--junit %s: directory %s does not exist" % (tmp_path / "nowhere" / "j.xml", tmp_path / "nowhere") \
        in r.stderr
    assert r.stdout == ""  # refused before the suite ran
