"""Nets SUMO cannot use are refused with one line before SUMO or sumolib reads them (issue 14, finding 6):
a net cut short gave a SAXParseException, one without its version attribute a KeyError, and SUMO
died of a segmentation fault on it (exit 139, no message)."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.net_check import NetFileError, check_net
from sim.scenarios import BUNDLED_DIR
from tests.conftest import ROOT

pytestmark = pytest.mark.sumo

NET = BUNDLED_DIR / "single4" / "single4.net.xml"


def _scenario(tmp_path: Path, net_bytes: bytes) -> Path:
    for p in (BUNDLED_DIR / "single4").glob("single4.*"):
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "single4.net.xml").write_bytes(net_bytes)
    return tmp_path / "single4.sumocfg"


@pytest.mark.parametrize("net,message", [
    (NET.read_bytes()[:5000], "is not whole XML (line 76, column 9: unclosed token): it may have been cut short"),
    (NET.read_bytes().replace(b'<net version="1.20" ', b"<net ", 1),
     "has no version attribute on <net>: SUMO crashes on such a net (segmentation fault)"),
])
def test_a_broken_net_is_one_line_from_every_verb_and_writes_nothing(tmp_path: Path, net: bytes, message: str) -> None:
    (tmp_path / "scenario").mkdir()
    cfg = str(_scenario(tmp_path / "scenario", net))
    out = str(tmp_path / "out")
    for args in (["sim", "run", cfg, "--controller", "fixed", "--out", out, "--end", "30"],
                 ["sim", "import", cfg, "--out", out],
                 ["sim", "run", cfg, "--controller", "ampelwerk-actuated", "--out", out, "--end", "30"],
                 ["sim", "compare", cfg, "--controllers", "fixed,ampelwerk-actuated", "--out", out, "--end", "30"]):
        r = subprocess.run([sys.executable, "-m", "ampelwerk", *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 2, (args, r.returncode, r.stderr[-2000:])
        assert r.stderr.startswith("ampelwerk: error: net file ") and message in r.stderr, r.stderr[-2000:]
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert list(tmp_path.iterdir()) == [tmp_path / "scenario"]


def test_check_net_reads_gzip_and_names_a_wrong_root(tmp_path: Path) -> None:
    gz = tmp_path / "n.net.xml.gz"
    gz.write_bytes(gzip.compress(NET.read_bytes()))
    check_net(gz)
    gz.write_bytes(gzip.compress(NET.read_bytes())[:-40])
    with pytest.raises(NetFileError, match="cannot read net file"):
        check_net(gz)
    other = tmp_path / "r.xml"
    other.write_text("<routes/>")
    with pytest.raises(NetFileError, match=r"is not a SUMO net: its root element is <routes>, expected <net>"):
        check_net(other)
