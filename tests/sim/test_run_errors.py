"""Host errors of `sim run` say what was expected, what was found and what to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ampelwerk.cli import main
from sim import sumo_session
from sim.runner import RunOptions, run
from sim.scenarios import BUNDLED_DIR
from sim.sumo_session import SumoError


def test_missing_sumo_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SUMO_HOME", raising=False)
    with pytest.raises(SumoError, match="sumo not found .*pip install eclipse-sumo"):
        sumo_session.sumo_binary()


@pytest.mark.sumo
def test_net_without_traffic_lights_is_refused(tmp_path):
    netgenerate = Path(sys.executable).parent / "netgenerate"
    subprocess.run([str(netgenerate), "--grid", "--grid.number", "2", "-o", str(tmp_path / "n.net.xml")],
                   check=True, capture_output=True)
    (tmp_path / "n.sumocfg").write_text('<configuration><input><net-file value="n.net.xml"/></input></configuration>')
    with pytest.raises(SumoError, match="has no traffic lights"):
        run(RunOptions(tmp_path / "n.sumocfg", "fixed", tmp_path / "out", end=10, progress=False))


def test_cli_errors_name_the_value(tmp_path, capsys):
    cfg = tmp_path / "x.sumocfg"
    out = str(tmp_path / "out")
    assert main(["sim", "run", str(tmp_path / "missing.sumocfg"), "--controller", "fixed", "--out", out]) == 2
    assert "missing.sumocfg" in capsys.readouterr().err
    cfg.write_text("<configuration/>")
    assert main(["sim", "run", str(cfg), "--controller", "nope", "--out", out]) == 2
    assert "unknown controller nope (known: fixed, sumo-actuated, max-pressure, sumo-delay-based, ampelwerk-" in \
        capsys.readouterr().err
    assert main(["sim", "run", str(cfg), "--controller", "fixed", "--out", out]) == 2
    assert "x.sumocfg names no net-file" in capsys.readouterr().err  # the net is checked before SUMO starts
    assert main(["sim", "run", "single4", "--controller", "fixed", "--out", out, "--tick-ms", "300"]) == 2
    assert "1000 ms must be a whole multiple of the core tick 300 ms" in capsys.readouterr().err
    assert main(["sim", "compare", str(cfg), "--controllers", "fixed", "--seeds", "1,x"]) == 2
    assert "--seeds='1,x'" in capsys.readouterr().err
    assert main(["sim", "run", "single4", "--controller", "fixed", "--out", out, "--", "--scale", "1.3"]) == 2
    assert "SUMO option --scale after `--` is set by ampelwerk for every run; use --scale before `--`" in \
        capsys.readouterr().err
    assert main(["sim", "compare", "single4", "--controllers", "fixed", "--out", out, "--",
                 "--tripinfo-output=t.xml"]) == 2
    assert "SUMO option --tripinfo-output after `--`" in capsys.readouterr().err
    # a run replaces its --out whole: never a directory that holds one of its inputs
    import shutil

    from sim.scenarios import BUNDLED_DIR

    scen = tmp_path / "scen"
    shutil.copytree(BUNDLED_DIR / "single4", scen)
    before = sorted(p.name for p in scen.iterdir())
    assert main(["sim", "run", str(scen / "single4.sumocfg"), "--controller", "fixed", "--out", str(scen)]) == 2
    assert "--out %s would replace the input %s: give the outputs another place" % (scen, scen / "single4.sumocfg") \
        in capsys.readouterr().err
    assert sorted(p.name for p in scen.iterdir()) == before


def test_additional_files_after_dashdash_join_the_runs_own(tmp_path):
    from sim.runner import _sumo_args

    cfg = tmp_path / "x.sumocfg"
    cfg.write_text("<configuration/>")
    opts = RunOptions(cfg, "fixed", tmp_path, sumo_options=["-a", "x.xml", "--time-to-teleport", "60",
                                                            "--additional-files=y.xml,z.xml"])
    args = _sumo_args(opts, 0, 10, ["loops.xml"], outputs=False)
    assert args.count("--additional-files") == 1
    assert args[args.index("--additional-files") + 1] == "x.xml,y.xml,z.xml,loops.xml"
    assert args[-2:] == ["--time-to-teleport", "60"]


def test_gui_starts_running_and_quits_at_the_end(monkeypatch):
    # sumo-gui waits for its play button by default, and the run would wait for its window
    import traci

    started = []

    class FakeProcess:
        def __init__(self, cmd, **kw):
            started.append(cmd)
            self.args = cmd

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(traci, "init", lambda port, label=None, proc=None, **kw: None)
    monkeypatch.setattr(traci, "getConnection", lambda label: label)
    sumo_session.start(["-c", "x.sumocfg"], gui=True)
    assert started[0][0].endswith("sumo-gui")
    assert started[0][1:-2] == ["-c", "x.sumocfg", "--start", "--quit-on-end"] and started[0][-2] == "--remote-port"


@pytest.mark.parametrize("option,value", [("--scale", "nan"), ("--scale", "inf"), ("--scale", "-1"),
                                          ("--scale", "0"), ("--step-length", "nan"), ("--end", "inf"),
                                          ("--begin", "nan")])
def test_numbers_that_are_not_finite_or_not_positive_are_refused(tmp_path, capsys, option, value):
    # --scale nan and inf were accepted and reported "delay 0.0 s" with exit 0 (issue 14, finding 6)
    for verb in (["sim", "run", "single4", "--controller", "fixed"], ["sim", "compare", "single4", "--controllers",
                                                                      "fixed"]):
        with pytest.raises(SystemExit) as e:
            main([*verb, "--out", str(tmp_path / "out"), option, value])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "argument %s: %r must be a" % (option, value) in err and "finite number" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.sumo
def test_a_run_without_demand_warns_and_says_so_in_its_summary(tmp_path, capsys):
    scen = tmp_path / "scenario"
    scen.mkdir()
    for p in (BUNDLED_DIR / "single4").glob("single4.*"):
        shutil.copy(p, scen / p.name)
    (scen / "single4.rou.xml").write_text("<routes/>\n")
    out = tmp_path / "out"
    assert main(["sim", "run", str(scen / "single4.sumocfg"), "--controller", "fixed", "--end", "60",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "ampelwerk: warning: no vehicle was scheduled in the simulated window" in err, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["vehicles_scheduled"] == 0 and "no demand" in summary["warnings"][0]
    # a run with demand has no warning
    assert main(["sim", "run", "single4", "--controller", "fixed", "--end", "60", "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert "warnings" not in json.loads((out / "summary.json").read_text())


@pytest.mark.sumo
@pytest.mark.parametrize("display,message", [
    (None, "--gui needs a display and none is set (DISPLAY and WAYLAND_DISPLAY are empty): run it on a desktop"),
    (":4711", "sumo-gui could not start on the display ':4711' (it exited with code 1, its message is above)"),
])
def test_gui_without_a_display_is_one_clear_line(tmp_path, display, message):
    # it retried for a minute and ended with "Could not connect" (issue 14, finding 6)
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display:
        env["DISPLAY"] = display
    r = subprocess.run([sys.executable, "-m", "ampelwerk", "sim", "run", "single4", "--controller", "fixed", "--gui",
                        "--end", "20", "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    ours = [line for line in r.stderr.splitlines() if line.startswith("ampelwerk:")]
    assert len(ours) == 1 and message in ours[0], r.stderr[-2000:]
    if display:  # sumo-gui was started once, not again and again for a minute
        assert r.stderr.count("unable to open display") == 1, r.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []
