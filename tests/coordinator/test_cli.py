"""ampelwerk coordinator keys|plan|offsets."""

import json
import os

from ampelwerk.cli import main
from tests.coordinator.conftest import ARTERIAL


def test_keys_plan_offsets(tmp_path, capsys):
    out = tmp_path / "keys.json"
    assert main(["coordinator", "keys", "--corridors", str(ARTERIAL), "--out", str(out)]) == 0
    keys = json.loads(out.read_text())
    assert sorted(keys) == ["J1", "J2", "J3", "J4", "J5"] and all(len(k) == 64 for k in keys.values())
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert main(["coordinator", "keys", "--corridors", str(ARTERIAL), "--out", str(out)]) == 2  # no overwrite
    assert "give --force" in capsys.readouterr().err
    assert main(["coordinator", "plan", "--corridors", str(ARTERIAL), "--flow", "J3:K2=1500", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)[0]
    # Webster's cycle is below the corridor's 60 s floor; the bandwidth search tries 60..90 s
    assert 60000 <= plan["cycle_ms"] <= 90000 and plan["critical"] == "J3"
    assert all(sum(v for _, v in i["splits"]) == plan["cycle_ms"] for i in plan["intersections"])
    assert main(["coordinator", "plan", "--corridors", str(ARTERIAL), "--flow", "J3-K2"]) == 2
    assert "expected ID:GROUP=VPH" in capsys.readouterr().err
    assert main(["coordinator", "offsets", "--corridors", str(ARTERIAL), "--cycle", "60",
                 "--coordinated-split", "30"]) == 0
    assert "bandwidth search" in capsys.readouterr().out
