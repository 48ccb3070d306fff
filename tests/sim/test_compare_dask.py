"""`sim compare` on Dask: the same runs.csv as plain runs, locally and through a scheduler; runs travel as content."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from ampelwerk.cli import main
from sim.report import write_runs_csv
from sim.run_shipping import pack, run_shipped, scenario_content, unpack_run_folder
from sim.runner import RunOptions, run
from sim.scenarios import resolve
from tests.sim.test_run import build_junction

pytestmark = [pytest.mark.sumo]

CONTROLLERS = ("fixed", "ampelwerk-adaptive")
SEEDS = (1, 2)
END_S = 300
@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    """The reference: each run of the comparison done in this process, one after the other, no Dask."""
    out = tmp_path_factory.mktemp("plain")
    scenario = resolve("single4")
    runs = [run(RunOptions(scenario, ctl, out / ctl / ("seed%d" % seed), seed=seed, end=END_S, progress=False))
            for ctl in CONTROLLERS for seed in SEEDS]
    write_runs_csv(runs, out / "runs.csv")
    return out


def _compare(out: Path, *extra: str) -> None:
    assert main(["sim", "compare", "single4", "--controllers", ",".join(CONTROLLERS), "--seeds",
                 ",".join(map(str, SEEDS)), "--end", str(END_S), "--out", str(out), *extra]) == 0


def _assert_same_runs(out: Path, plain: Path) -> None:
    # runs.csv holds nothing that depends on where or how fast a run ran: byte for byte the same
    assert (out / "runs.csv").read_bytes() == (plain / "runs.csv").read_bytes()
    timings = list(csv.DictReader(open(out / "timings.csv", newline="")))
    assert [(t["controller"], t["seed"]) for t in timings] == [(c, str(s)) for c in CONTROLLERS for s in SEEDS]
    assert all(float(t["wall_s"]) > 0 for t in timings)
    for ctl in CONTROLLERS:
        for seed in SEEDS:
            run_dir = out / "single4" / ctl / ("seed%d" % seed)
            ref = plain / ctl / ("seed%d" % seed)
            # the run folder came back whole: the signals the controllers showed, byte for byte
            assert (run_dir / "signals.csv").read_bytes() == (ref / "signals.csv").read_bytes()
            assert (run_dir / "tripinfo.xml").stat().st_size > 1000
            summary = json.loads((run_dir / "summary.json").read_text())
            # with the caller's paths, not the worker's temporary folder
            assert summary["options"]["out_dir"] == str(run_dir)
            for name in ("summary.json", "tripinfo.xml", "statistics.xml"):
                assert "ampelwerk-run-" not in (run_dir / name).read_text(), name


def test_local_cluster_gives_the_runs_of_plain_runs(plain, tmp_path):
    _compare(tmp_path / "cmp", "--jobs", "2")
    _assert_same_runs(tmp_path / "cmp", plain)


def test_a_scheduler_by_address_gives_the_same_runs(plain, tmp_path, capsys):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        _compare(tmp_path / "cmp", "--scheduler", cluster.scheduler_address)
    assert "on the Dask scheduler %s (now 2 workers, 2 threads)" % cluster.scheduler_address in capsys.readouterr().out
    _assert_same_runs(tmp_path / "cmp", plain)


def test_jobs_and_scheduler_do_not_go_together(tmp_path, capsys):
    assert main(["sim", "compare", "single4", "--controllers", "fixed", "--jobs", "2", "--scheduler",
                 "tcp://127.0.0.1:1", "--out", str(tmp_path / "cmp")]) != 0
    assert "--jobs goes without --scheduler" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_named(tmp_path, capsys, monkeypatch):
    import sim.study_cluster

    monkeypatch.setattr(sim.study_cluster, "CONNECT_TIMEOUT_S", 1)
    assert main(["sim", "compare", "single4", "--controllers", "fixed", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", str(tmp_path / "cmp")]) != 0
    err = capsys.readouterr().err
    assert "Dask scheduler tcp://127.0.0.1:9 not reachable" in err and "dask worker" in err
    assert not (tmp_path / "cmp" / "runs.csv").exists()


def test_a_shipped_run_needs_none_of_the_callers_files(tmp_path):
    # a scenario of no name and its imported config, packed; then the caller's copies are gone, as they
    # would be on a worker of another machine: the run still happens, and comes back with the caller's paths
    cfg, imported = build_junction(tmp_path / "net")
    out = tmp_path / "cmp" / "j" / "ampelwerk-actuated" / "seed1"
    opts = RunOptions(cfg, "ampelwerk-actuated", out, end=120, progress=False)
    job = pack(opts, scenario_content(cfg), imported, None)
    assert job.scenario.name is None and sorted(job.scenario.files) == ["j.net.xml", "j.rou.xml", "j.sumocfg"]
    shutil.move(tmp_path / "net", tmp_path / "elsewhere")
    result = run_shipped(job)
    assert "error" not in result, result.get("error")
    unpack_run_folder(result["files"], out)
    summary = result["summary"]
    assert summary["scenario"] == str(cfg) and summary["configs"] == {"A0": str(imported.configs["A0"])}
    assert summary["options"]["out_dir"] == str(out) and summary["controlled_by_ampelwerk"] == ["A0"]
    assert summary["arrived"] > 0 and summary["collisions"] == 0
    assert json.loads((out / "summary.json").read_text())["delay_s"] == summary["delay_s"]
    assert (out / "signals.csv").read_text().startswith("time_s,tls_id,state\n")


def test_a_named_scenario_travels_by_name():
    content = scenario_content(resolve("single4"))
    assert content.name == "single4" and content.files is None


def test_a_failed_shipped_run_is_reported_with_the_callers_paths(tmp_path):
    cfg, _ = build_junction(tmp_path / "net")
    opts = RunOptions(cfg, "fixed", tmp_path / "run", end=60, progress=False, sumo_options=["--no-such-option", "1"])
    result = run_shipped(pack(replace(opts), scenario_content(cfg), None, None))
    assert "SUMO did not start" in result["error"] and result["controller"] == "fixed" and result["seed"] == 1
    assert "ampelwerk-run-" not in result["error"]


def test_a_corridor_travels_with_the_configs_it_names(tmp_path):
    from sim.run_shipping import corridor_content

    (tmp_path / "import").mkdir()
    (tmp_path / "import" / "J1.json").write_text("{}")
    (tmp_path / "corridor.json").write_text(json.dumps({"format": "ampelwerk-corridor/1", "corridors": [
        {"id": "a", "intersections": [{"controller": "J1", "config": "import/J1.json"},
                                      {"controller": "J2", "config": "/elsewhere/J2.json"},
                                      {"controller": "J3", "config": "../J3.json"}]}]}))
    # a relative config inside the corridor's folder travels; an absolute or outside one is read by its path
    assert sorted(corridor_content(tmp_path / "corridor.json")) == ["corridor.json", "import/J1.json"]
