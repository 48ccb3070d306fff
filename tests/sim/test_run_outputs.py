"""What `sim import|run|timespace` leave in --out: the whole outputs of the run that succeeded, never
a partial run, never a file of an earlier run (issue 14, finding 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ampelwerk.cli import main

pytestmark = pytest.mark.sumo


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _corridor_run(tmp_path: Path, controller: str) -> tuple[Path, Path]:
    """(run directory, corridor file): 120 s of arterial5 run with --corridor (fcd.xml recorded)."""
    assert main(["sim", "import", "arterial5", "--out", str(tmp_path / "imp"), "--corridor"]) == 0
    corridor = tmp_path / "imp" / "corridor.json"
    run = tmp_path / "run"
    assert main(["sim", "run", "arterial5", "--controller", controller, "--end", "120", "--out", str(run),
                 "--corridor", str(corridor)]) == 0
    return run, corridor


def test_a_reused_run_directory_keeps_nothing_of_the_earlier_run(tmp_path: Path, capsys) -> None:
    run, corridor = _corridor_run(tmp_path, "sumo-actuated")
    assert (run / "fcd.xml").is_file() and (run / "actuated.add.xml").is_file()
    capsys.readouterr()
    assert main(["sim", "run", "arterial5", "--controller", "fixed", "--end", "120", "--out", str(run)]) == 0
    assert "-> %s" % run in capsys.readouterr().out
    names = sorted(p.name for p in run.iterdir())
    assert names == [".ampelwerk-out", "edgedata.xml", "events.csv", "signals.csv", "statistics.xml",
                     "summary.json", "tripinfo.xml"], names
    summary = json.loads((run / "summary.json").read_text())
    assert summary["controller"] == "fixed" and summary["options"]["out_dir"] == str(run)
    # the run's own files name the directory it ends up in, not the one it was written in
    assert all(b".partial-" not in data for data in _tree(run).values())
    # the time-space diagram of a run without a corridor: no fcd.xml to draw (it drew the old one)
    assert main(["sim", "timespace", str(run), "--corridor", str(corridor), "--out", str(tmp_path / "ts.png")]) == 2
    assert "fcd.xml not found: the run was made without a corridor" in capsys.readouterr().err
    assert not (tmp_path / "ts.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imp", "run"]  # nothing half-written or hidden left


def test_timespace_refuses_an_fcd_left_from_an_earlier_run(tmp_path: Path, capsys) -> None:
    # a run directory an older version reused: its fcd.xml beside the signals of a run without --corridor
    run, corridor = _corridor_run(tmp_path, "fixed")
    old = tmp_path / "old"
    shutil.copytree(run, old)
    summary = json.loads((old / "summary.json").read_text())
    del summary["corridor_file"]
    (old / "summary.json").write_text(json.dumps(summary))
    capsys.readouterr()
    assert main(["sim", "timespace", str(old), "--corridor", str(corridor), "--out", str(tmp_path / "ts.png")]) == 2
    assert "fcd.xml is left from an earlier run: the run in %s was made without --corridor" % old in \
        capsys.readouterr().err
    assert main(["sim", "timespace", str(run), "--corridor", str(corridor), "--out", str(tmp_path / "ts.png")]) == 0


def test_a_failed_run_leaves_the_earlier_run_as_it_was(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["sim", "run", "single4", "--controller", "ampelwerk-actuated", "--end", "60", "--out", str(run)]) == 0
    before = _tree(run)
    # fails inside the run, once SUMO has started writing its outputs
    assert main(["sim", "run", "single4", "--controller", "ampelwerk-actuated", "--end", "60", "--out", str(run),
                 "--fail-loop", "NOPE=on"]) == 2
    assert "--fail-loop names loops that are not in the imported configs: NOPE" in capsys.readouterr().err
    assert _tree(run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_output_directory_of_something_else_is_refused_not_replaced(tmp_path: Path, capsys) -> None:
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert main(["sim", "run", "single4", "--controller", "fixed", "--end", "30", "--out", str(mine)]) == 2
    assert "--out %s already holds files that `sim run` did not write (notes.txt): give a new or empty directory" \
        % mine in capsys.readouterr().err
    assert main(["sim", "import", "single4", "--out", str(tmp_path / "imp")]) == 0
    assert main(["sim", "run", "single4", "--controller", "fixed", "--end", "30", "--out", str(tmp_path / "imp")]) == 2
    assert "holds the outputs of `sim import`: give `sim run` a directory of its own" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "mine" and (tmp_path / "imp" / "detectors.add.xml").is_file()


def test_import_with_a_bad_junction_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "imp"
    assert main(["sim", "import", "arterial5", "--out", str(out), "--corridor", "J1,J9"]) == 2
    err = capsys.readouterr().err
    assert "J9" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
