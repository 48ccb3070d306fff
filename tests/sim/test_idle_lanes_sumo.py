"""In SUMO: a junction whose left-turn pockets nobody uses keeps working past minute 30 (the
idle pockets are not dead loops), and a dead stop-bar loop on a busy lane is still found at
no_activity_ms, answered with a call, not a max recall (docs/core.md, "Detector diagnostics")."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from sim.runner import RunOptions, run

pytestmark = [pytest.mark.sumo, pytest.mark.slow]

END_S = 2400
# through and right turns only, from every leg: the four left-turn pockets see no vehicle
ROUTES = "<routes>\n%s\n</routes>\n" % "\n".join(
    '  <flow id="%s_%s" begin="0" end="%d" from="%s0A0" to="A0%s0" vehsPerHour="%d"/>' % (a, b, END_S, a, b, v)
    for a, b, v in (("top", "bottom", 420), ("bottom", "top", 380), ("left", "right", 300), ("right", "left", 260),
                    ("top", "left", 60), ("bottom", "right", 60), ("left", "bottom", 50), ("right", "top", 50)))


@pytest.fixture(scope="module")
def pockets(tmp_path_factory) -> Path:
    """A single junction with 40 m left-turn pockets on every leg (netgenerate), its loops imported."""
    d = tmp_path_factory.mktemp("pockets")
    netgenerate = Path(sys.executable).parent / "netgenerate"
    subprocess.run([str(netgenerate), "--grid", "--grid.number", "1", "--grid.attach-length", "250",
                    "--turn-lanes", "1", "--turn-lanes.length", "40", "--tls.set", "A0", "--no-turnarounds",
                    "-o", str(d / "p.net.xml")], check=True, capture_output=True)
    (d / "p.rou.xml").write_text(ROUTES)
    (d / "p.sumocfg").write_text('<configuration><input><net-file value="p.net.xml"/><route-files value="p.rou.xml"/>'
                                 '</input><time><begin value="0"/><end value="%d"/></time></configuration>' % END_S)
    return d / "p.sumocfg"


def _faults(out: Path) -> list[tuple[float, int]]:
    with open(out / "events.csv") as f:
        return [(float(r["time_s"]), int(r["event_param"])) for r in csv.DictReader(f) if r["event_code"] == "85"]


def test_unused_pockets_are_idle_and_a_dead_stop_bar_is_still_found(pockets, tmp_path):
    import json

    idle = run(RunOptions(pockets, "ampelwerk-actuated", tmp_path / "idle", progress=False))
    raw = json.loads((tmp_path / "idle" / "import" / "A0.json").read_text())
    assert sum(1 for d in raw["detectors"] if d["turn_pocket"]) == 8  # stop bar and advance in four pockets
    assert _faults(tmp_path / "idle") == []  # 40 minutes, and no loop declared without activity
    assert idle["signal_check"]["violations"] == 0

    # the through lane from the top: its stop bar dead for the whole run, its advance loop counting
    dead = [d["id"] for d in raw["detectors"] if d["kind"] == "stop_bar" and not d["turn_pocket"]
            and d["approach"].startswith("top0A0")][0]
    out = tmp_path / "dead"
    failed = run(RunOptions(pockets, "ampelwerk-actuated", out, failed_loops={dead: 0}, progress=False))
    faults = _faults(out)
    assert [p for _, p in faults] == [[d["id"] for d in raw["detectors"]].index(dead) + 1]  # that loop only
    assert 1800 <= faults[0][0] <= 1802  # found when no_activity_ms (30 min) ran out
    assert failed["signal_check"]["violations"] == 0
    # answered with a call, its lane's advance loop extending: the junction runs about as well
    assert failed["delay_s"] < idle["delay_s"] * 1.2
