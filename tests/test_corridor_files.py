"""Corridor files that are not what they should be: one clear error from both
readers (the coordinator's and the SUMO geometry's), never a traceback or a hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coordinator.corridors import CorridorError, load_corridors
from sim.arterial_metrics import ArterialMetricsError, load_geometry
from tests.fuzz_inputs import corridor_folder

GOOD = Path(__file__).resolve().parent / "sim" / "data" / "arterial5_corridor.json"


def _both_refuse(path: Path) -> tuple[str, str]:
    with pytest.raises(CorridorError) as coordinator:
        load_corridors(path)
    with pytest.raises(ArterialMetricsError) as geometry:
        load_geometry(path)
    return "\n".join(coordinator.value.errors), str(geometry.value)


def test_the_good_corridor_file_reads(tmp_path: Path) -> None:
    folder = corridor_folder(tmp_path)
    (folder / "corridor.json").write_bytes(GOOD.read_bytes())
    assert [c.id for c in load_corridors(folder / "corridor.json")] == ["arterial"]
    assert load_geometry(folder / "corridor.json").tls == ["J1", "J2", "J3", "J4", "J5"]


@pytest.mark.parametrize("name,data,message", [
    ("latin1", GOOD.read_bytes().replace(b'"arterial"', b'"Hauptstra\xdfe"'), "is not UTF-8 text (byte 0xdf at offset"),
    ("utf16", GOOD.read_text().encode("utf-16"), "is UTF-16 or UTF-32 text: save it as UTF-8"),
    ("deep", b'{"a":' * 50000 + b"1" + b"}" * 50000, "nested too deep to read"),
])
def test_bad_bytes_and_deep_nesting_are_one_clear_error(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = corridor_folder(tmp_path) / "corridor.json"
    path.write_bytes(data)
    for text in _both_refuse(path):
        assert message in text, text


_READERS = """
import sys
from coordinator.corridors import CorridorError, load_corridors
from sim.arterial_metrics import ArterialMetricsError, load_geometry
for read, error in ((load_corridors, CorridorError), (load_geometry, ArterialMetricsError)):
    try:
        read(sys.argv[1])
    except error as e:
        print(e)
"""


def test_devices_pipes_and_directories_are_refused_without_reading(tmp_path: Path) -> None:
    # in a child with 1 GB of memory: reading /dev/zero whole (as before) must end, and not eat the machine
    import resource
    import subprocess
    import sys

    from tests.conftest import ROOT

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo, tmp_path):
        r = subprocess.run([sys.executable, "-c", _READERS, str(path)], cwd=ROOT, capture_output=True, text=True,
                           timeout=60, preexec_fn=limit)
        assert r.returncode == 0 and r.stderr == "", r.stderr[-1000:]
        said = "%s is not a regular file (a directory, device or pipe): give the path of a corridor file" % path
        assert r.stdout.count(said) == 2, r.stdout


def test_a_damaged_geometry_section_names_the_corridor_and_the_fix(tmp_path: Path) -> None:
    import json

    raw = json.loads(GOOD.read_text())
    raw["corridors"][0]["sumo"]["pieces"]["forward"][0] = [["A0_J1"], 1e400, False]
    path = tmp_path / "corridor.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ArterialMetricsError) as e:
        load_geometry(path)
    assert "corridor 'arterial'" in str(e.value) and "is damaged" in str(e.value) and "sim import" in str(e.value)


def test_a_corridor_id_edited_into_a_list_is_cut_short_in_the_error(tmp_path: Path) -> None:
    import json

    raw = json.loads(GOOD.read_text())
    raw["corridors"][0]["id"] = [json.loads(GOOD.read_text())] * 3  # the whole file pasted where the id was
    del raw["corridors"][0]["sumo"]["pieces"]
    path = tmp_path / "corridor.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ArterialMetricsError) as e:
        load_geometry(path)
    assert len(str(e.value)) < 400 and "characters) in %s has no SUMO geometry" % path in str(e.value), str(e.value)
