"""End-to-end SUMO runs on a small generated junction (netgenerate) with a hand-made config.

Each run simulates 600 s; they assert traffic outcomes and signal safety, not
only that files appear. The junction: four 200 m single-lane legs, SUMO's
two-phase program (N-S, then E-W), one stop-bar loop per incoming lane.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.runner import Imported, RunOptions, run
from sim.signal_check import check_signals

pytestmark = [pytest.mark.sumo, pytest.mark.slow]
CONTROLLER = str(Path(__file__).resolve().parents[2] / "controller")

ROUTES = """<routes>
  <flow id="ns" begin="0" end="600" from="top0A0" to="A0bottom0" vehsPerHour="300"/>
  <flow id="sn" begin="0" end="600" from="bottom0A0" to="A0top0" vehsPerHour="250"/>
  <flow id="nw" begin="0" end="600" from="top0A0" to="A0right0" vehsPerHour="60"/>
  <flow id="we" begin="0" end="600" from="left0A0" to="A0right0" vehsPerHour="200"/>
  <flow id="ew" begin="0" end="600" from="right0A0" to="A0left0" vehsPerHour="150"/>
  <flow id="es" begin="0" end="600" from="right0A0" to="A0bottom0" vehsPerHour="60"/>
</routes>
"""
# link order of the generated junction: top (0-2), right (3-5), bottom (6-8), left (9-11)
GROUP_LINKS = {"K1": [0, 1, 2, 6, 7, 8], "K2": [3, 4, 5, 9, 10, 11]}
LOOPS = {"D1n": ("top0A0_0", "K1"), "D1s": ("bottom0A0_0", "K1"), "D2e": ("right0A0_0", "K2"), "D2w": ("left0A0_0", "K2")}


def junction_config() -> dict:
    group = {"kind": "vehicle", "min_green_ms": 5000, "max_green_ms": 40000, "passage_ms": 3000,
             "yellow_ms": 3000, "red_clearance_ms": 2000, "recall": "none"}
    return {
        "format": "ampelwerk-intersection/1", "id": "A0", "strategy": "actuated",
        "signal_groups": [dict(group, id="K1"), dict(group, id="K2")],
        "conflicts": [["K1", "K2"]],
        "intergreen_ms": {"K1": {"K2": 5000}, "K2": {"K1": 5000}},
        "stages": [{"id": "S1", "groups": ["K1"]}, {"id": "S2", "groups": ["K2"]}],
        "detectors": [{"id": d, "group": g, "kind": "stop_bar"} for d, (_, g) in LOOPS.items()],
        "fixed_time": {"cycle_ms": 60000, "splits_ms": {"S1": 30000, "S2": 30000}},
        "source": {"sumo": {"tls_id": "A0", "program_id": "0", "link_count": 12, "group_links": GROUP_LINKS,
                            "green_chars": "GGgGGgGGgGGg", "always_red_links": []}},
    }


def build_junction(d: Path) -> tuple[Path, Imported]:
    """Write the junction's net, routes, loops and config into d; returns (sumocfg, Imported)."""
    d.mkdir(parents=True, exist_ok=True)
    netgenerate = Path(sys.executable).parent / "netgenerate"
    subprocess.run([str(netgenerate), "--grid", "--grid.number", "1", "--grid.attach-length", "200",
                    "--tls.set", "A0", "--no-turnarounds", "-o", str(d / "j.net.xml")], check=True, capture_output=True)
    (d / "j.rou.xml").write_text(ROUTES)
    (d / "j.sumocfg").write_text('<configuration><input><net-file value="j.net.xml"/>'
                                 '<route-files value="j.rou.xml"/></input><time><end value="600"/></time></configuration>')
    (d / "loops.add.xml").write_text("<additional>\n%s\n</additional>\n" % "\n".join(
        '  <inductionLoop id="%s" lane="%s" pos="-1.5" period="3600" file="loops.out.xml"/>' % (i, lane)
        for i, (lane, _) in LOOPS.items()))
    (d / "A0.json").write_text(json.dumps(junction_config()))
    return d / "j.sumocfg", Imported({"A0": d / "A0.json"}, d / "loops.add.xml")


@pytest.fixture(scope="module")
def junction(tmp_path_factory) -> tuple[Path, Imported]:
    return build_junction(tmp_path_factory.mktemp("junction"))


def assert_sane_run(out: Path, summary: dict) -> None:
    for name in ("tripinfo.xml", "statistics.xml", "signals.csv", "events.csv", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    assert summary["collisions"] == 0
    assert summary["arrived"] > 100
    assert summary["delay_s"] > 0
    assert summary["never_inserted"] == 0
    assert json.loads((out / "summary.json").read_text())["delay_s"] == summary["delay_s"]


@pytest.mark.parametrize("controller", ["ampelwerk-actuated", "ampelwerk-fixed"])
def test_ampelwerk_controls_the_junction_safely(junction, tmp_path, controller):
    cfg, imported = junction
    s = run(RunOptions(cfg, controller, tmp_path, progress=False), imported=imported)
    assert_sane_run(tmp_path, s)
    assert s["controlled_by_ampelwerk"] == ["A0"] and s["monitor_flash"] == [] and s["events_dropped"] == 0
    problems = check_signals(tmp_path / "signals.csv", {"A0": junction_config()}, step_s=1.0)
    assert problems == []
    events = (tmp_path / "events.csv").read_text().splitlines()
    assert any(",A0,1,1,phase_begin_green" in e for e in events)
    assert any(",A0,82," in e for e in events)  # loops reached the core as detector-on events


def test_loops_reach_the_core_as_sumo_measures_them(junction, tmp_path):
    # SUMO's own E1 output for the same loops: every vehicle that entered a loop is one rising edge in
    # the core, and the time the core saw the loop occupied matches SUMO's occupancy within what
    # 100 ms ticks allow (each stay rounded outwards to whole ticks: at most 0.2 s per vehicle).
    import xml.etree.ElementTree as ET

    cfg, imported = junction
    end_s = 600
    run(RunOptions(cfg, "ampelwerk-actuated", tmp_path, end=end_s, progress=False), imported=imported)
    sumo = {i.get("id"): (int(i.get("nVehEntered")), float(i.get("occupancy")) / 100 * end_s)
            for i in ET.parse(imported.detectors_file.parent / "loops.out.xml").getroot().iter("interval")}
    ons = {d: 0 for d in LOOPS}
    on_s = {d: 0.0 for d in LOOPS}
    since: dict[str, float] = {}
    for line in (tmp_path / "events.csv").read_text().splitlines()[1:]:
        t, _, code, param, _ = line.split(",")
        if code in ("81", "82"):
            d = list(LOOPS)[int(param) - 1]
            if code == "82":
                ons[d] += 1
                since[d] = float(t)
            elif d in since:
                on_s[d] += float(t) - since.pop(d)
    for d, t in since.items():
        on_s[d] += end_s - t
    for d, (entered, occupied_s) in sumo.items():
        assert entered > 20
        assert ons[d] == entered, d
        assert abs(on_s[d] - occupied_s) <= 0.2 * entered, (d, on_s[d], occupied_s)


def test_fixed_peer_runs_the_net_program(junction, tmp_path):
    cfg, _ = junction
    s = run(RunOptions(cfg, "fixed", tmp_path, progress=False))
    assert_sane_run(tmp_path, s)
    states = [l.split(",")[2] for l in (tmp_path / "signals.csv").read_text().splitlines()[1:]]
    assert states[:4] == ["GGgrrrGGgrrr", "yyyrrryyyrrr", "rrrGGgrrrGGg", "rrryyyrrryyy"]


def test_traci_path_gives_the_same_run_as_libsumo(junction, tmp_path):
    # --gui uses TraCI; here plain sumo behind TraCI takes the same code path headless
    cfg, imported = junction
    a = run(RunOptions(cfg, "ampelwerk-actuated", tmp_path / "libsumo", end=300, progress=False), imported=imported)
    b = run(RunOptions(cfg, "ampelwerk-actuated", tmp_path / "traci", end=300, use_traci=True, progress=False),
            imported=imported)
    assert b["arrived"] > 0 and b["collisions"] == 0
    assert (a["delay_s"], a["arrived"]) == (b["delay_s"], b["arrived"])
    assert (tmp_path / "libsumo" / "signals.csv").read_text() == (tmp_path / "traci" / "signals.csv").read_text()


@pytest.mark.parametrize("controller", ["sumo-actuated", "sumo-delay-based", "max-pressure"])
def test_peer_baselines_serve_both_directions(junction, tmp_path, controller):
    cfg, _ = junction
    s = run(RunOptions(cfg, controller, tmp_path, progress=False))
    assert_sane_run(tmp_path, s)
    states = {l.split(",")[2] for l in (tmp_path / "signals.csv").read_text().splitlines()[1:]}
    assert {"GGgrrrGGgrrr", "rrrGGgrrrGGg"} <= states
    # both approaches of each direction saw vehicles and got them through
    assert all(v > 0 for v in s["approach_delay_s"]["A0"].values()) and len(s["approach_delay_s"]["A0"]) == 4


class _Guard:
    """Wraps the SUMO connection; fails if any call comes from a frame in controller/."""

    def __init__(self, target, calls):
        self._target, self._calls = target, calls

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if callable(value) or hasattr(value, "getIDList"):
            return _Guard(value, self._calls)
        return value

    def __call__(self, *args, **kwargs):
        f = sys._getframe(1)
        while f is not None:
            assert not f.f_code.co_filename.startswith(CONTROLLER), "SUMO called from %s" % f.f_code.co_filename
            f = f.f_back
        self._calls.append(1)
        return self._target(*args, **kwargs)


def test_in_a_sumo_run_the_core_gets_only_presence_bits(junction, tmp_path, monkeypatch):
    from controller.core import Controller
    from sim import sumo_session
    from sim.runner import RunOptions, run

    calls: list[int] = []
    real_start = sumo_session.start
    monkeypatch.setattr(sumo_session, "start", lambda *a, **k: _Guard(real_start(*a, **k), calls))
    seen = {"elapsed_ms": 0, "on": 0, "bad": []}

    class Recording(Controller):
        def step(self, elapsed_ms, presence):
            # quiet runs of ticks may be stepped as one (exact within the core's horizon), so
            # elapsed is a whole number of 100 ms ticks, never a fraction of one
            seen["elapsed_ms"] += elapsed_ms
            if elapsed_ms <= 0 or elapsed_ms % 100 or type(presence) is not bytearray \
                    or len(presence) != self.ix.n_detectors or any(b not in (0, 1) for b in presence):
                seen["bad"].append((elapsed_ms, bytes(presence)))
            seen["on"] += sum(presence)
            return super().step(elapsed_ms, presence)

    cfg, imported = junction
    s = run(RunOptions(cfg, "ampelwerk-actuated", tmp_path, end=300, progress=False),
            controller_factory=lambda tls, ix: Recording(ix, "actuated"), imported=imported)
    assert seen["bad"] == []
    assert seen["elapsed_ms"] == 300000  # 300 one-second steps, every millisecond handed in once
    assert seen["on"] > 0 and calls and s["arrived"] > 0


@pytest.mark.parametrize("scenario", ["single4", "arterial5"])
@pytest.mark.parametrize("controller", ["ampelwerk-actuated", "fixed"])
def test_bundled_scenarios_run_end_to_end(tmp_path, scenario, controller):
    from sim.scenarios import resolve

    s = run(RunOptions(resolve(scenario), controller, tmp_path, end=900, progress=False))
    assert s["collisions"] == 0 and s["arrived"] > 0 and s["delay_s"] > 0
    assert s["vehicles_scheduled"] == s["arrived"] + s["running_at_end"] + s["never_inserted"]
    for name in ("tripinfo.xml", "statistics.xml", "signals.csv", "events.csv", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    if controller.startswith("ampelwerk-"):
        assert s["controlled_by_ampelwerk"] == s["traffic_lights"] and s["monitor_flash"] == []
        assert check_signals(tmp_path / "signals.csv", s["configs"], step_s=1.0) == []


@pytest.mark.micropython
def test_a_board_behind_a_serial_line_runs_a_traffic_light_like_the_core(junction, tmp_path):
    # the firmware under unix MicroPython behind a pty, driven in lockstep through hil.proxy (what --device does)
    from firmware.host_virtual import VirtualBoard
    from hil.proxy import DeviceController

    cfg, imported = junction
    with VirtualBoard() as port:
        board = run(RunOptions(cfg, "ampelwerk-actuated", tmp_path / "board", end=120, progress=False),
                    controller_factory=lambda tls, ix: DeviceController(port, ix, strategy="actuated"),
                    imported=imported)
    local = run(RunOptions(cfg, "ampelwerk-actuated", tmp_path / "local", end=120, progress=False), imported=imported)
    assert board["arrived"] > 0 and board["monitor_flash"] == []
    for name in ("events.csv", "signals.csv"):
        assert (tmp_path / "board" / name).read_text() == (tmp_path / "local" / name).read_text()
    assert board["delay_s"] == local["delay_s"]
    assert check_signals(tmp_path / "board" / "signals.csv", {"A0": junction_config()}, step_s=1.0) == []


def test_scale_changes_the_demand(junction, tmp_path):
    cfg, _ = junction
    full = run(RunOptions(cfg, "fixed", tmp_path / "full", end=300, progress=False))
    half = run(RunOptions(cfg, "fixed", tmp_path / "half", end=300, scale=0.5, progress=False))
    assert half["scale"] == 0.5
    assert 0.4 < half["vehicles_scheduled"] / full["vehicles_scheduled"] < 0.6


@pytest.mark.micropython
def test_cli_device_option_puts_the_chosen_light_on_the_board(tmp_path):
    # virtual://: the run starts the virtual board by URL, as it would open a real board's port
    r = subprocess.run([sys.executable, "-m", "ampelwerk", "sim", "run", "arterial5", "--controller",
                        "ampelwerk-actuated", "--out", str(tmp_path), "--device", "virtual://", "--device-tls", "J3",
                        "--end", "180"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "traffic light J3 runs on the board at virtual://" in r.stdout
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["arrived"] > 0 and s["monitor_flash"] == [] and s["collisions"] == 0
    assert check_signals(tmp_path / "signals.csv", s["configs"], step_s=1.0) == []


def test_ampelwerk_fixed_reproduces_the_net_program_on_single4(tmp_path):
    # The importer turns single4's program into a fixed-time plan; run by the core and shown through
    # setRedYellowGreenState it must move every vehicle exactly as SUMO's own program does (no vehicle
    # reaches the stop line during the core's startup). Checks the state mapping and signals.csv timing.
    from sim.scenarios import resolve

    cfg = resolve("single4")
    run(RunOptions(cfg, "fixed", tmp_path / "sumo", end=900, progress=False))
    run(RunOptions(cfg, "ampelwerk-fixed", tmp_path / "core", end=900, progress=False))

    def trips(d: Path) -> list[str]:
        return [l for l in (d / "tripinfo.xml").read_text().splitlines() if "<tripinfo " in l]

    assert len(trips(tmp_path / "sumo")) > 100 and trips(tmp_path / "sumo") == trips(tmp_path / "core")
    rows = [(tmp_path / d / "signals.csv").read_text().splitlines() for d in ("sumo", "core")]
    assert rows[0][3:20] == rows[1][5:22]  # after the core's startup flash and all-red, row for row


def test_scenario_additional_files_are_kept_when_loops_are_added(junction, tmp_path):
    # `--additional-files` on the command line replaces the .sumocfg's; the runner must pass both
    cfg, imported = junction
    (tmp_path / "extra.add.xml").write_text('<additional><inductionLoop id="extra" lane="top0A0_0" pos="10" '
                                            'period="60" file="extra.out.xml"/></additional>')
    own = tmp_path / "own.sumocfg"
    own.write_text('<configuration><input><net-file value="%s"/><route-files value="%s"/>'
                   '<additional-files value="extra.add.xml"/></input></configuration>'
                   % (cfg.parent / "j.net.xml", cfg.parent / "j.rou.xml"))
    s = run(RunOptions(own, "ampelwerk-actuated", tmp_path / "out", end=120, progress=False), imported=imported)
    assert s["arrived"] > 0
    assert "<interval" in (tmp_path / "extra.out.xml").read_text()
