"""`sim compare` on the generated junction of test_run.py: parallel runs, table, CSV, charts."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from sim.compare import compare
from sim.runner import RunOptions

pytestmark = [pytest.mark.sumo, pytest.mark.slow]


def _build_junction(d: Path):
    spec = importlib.util.spec_from_file_location("sim_test_run_junction", Path(__file__).with_name("test_run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build_junction(d)


def test_compare_runs_every_combination_and_reports_unfinished(tmp_path):
    cfg, _ = _build_junction(tmp_path / "net")
    out = tmp_path / "cmp"
    template = RunOptions(cfg, "fixed", out, end=300, progress=False)
    runs, failures = compare([cfg], ["fixed", "max-pressure"], [1, 2], out, template, jobs=2, log=lambda *a: None)
    assert failures == []
    assert sorted((r["controller"], r["seed"]) for r in runs) == [("fixed", 1), ("fixed", 2), ("max-pressure", 1),
                                                                  ("max-pressure", 2)]
    rows = list(csv.DictReader(open(out / "runs.csv")))
    assert len(rows) == 4
    for row in rows:  # the CSV holds what each run directory measured
        s = json.loads((out / "j" / row["controller"] / ("seed" + row["seed"]) / "summary.json").read_text())
        assert float(row["delay_s"]) == pytest.approx(s["delay_s"]) and int(row["running_at_end"]) == s["running_at_end"]
    md = (out / "compare.md").read_text()
    assert "running at end" in md and "never inserted" in md
    assert "| j | fixed | 2 |" in md and "| j | max-pressure | 2 |" in md
    assert (out / "delay_j.png").stat().st_size > 1000 and (out / "approaches_j.png").stat().st_size > 1000
    # seeds differ, so the two runs of one controller are not copies of each other
    fixed = [r for r in runs if r["controller"] == "fixed"]
    assert fixed[0]["seed"] != fixed[1]["seed"]


def test_a_failing_run_is_listed_not_hidden(tmp_path):
    cfg, _ = _build_junction(tmp_path / "net")
    out = tmp_path / "cmp"
    template = RunOptions(cfg, "fixed", out, end=60, progress=False, sumo_options=["--no-such-option", "1"])
    runs, failures = compare([cfg], ["fixed"], [1], out, template, jobs=1, log=lambda *a: None)
    assert runs == [] and len(failures) == 1 and "SUMO did not start" in failures[0]["error"]
    assert "Failed runs" in (out / "compare.md").read_text()
