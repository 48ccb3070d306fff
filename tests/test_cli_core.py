"""`ampelwerk config check` and `ampelwerk replay` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE_CONFIG, ROOT


def ampelwerk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ampelwerk", *args], cwd=ROOT, capture_output=True, text=True)


def test_config_check_ok_and_all_problems(tmp_path: Path) -> None:
    r = ampelwerk("config", "check", str(EXAMPLE_CONFIG))
    assert r.returncode == 0 and "ok (example-4leg: 10 signal groups, 4 stages, 18 detectors" in r.stdout
    raw = json.loads(EXAMPLE_CONFIG.read_text())
    raw["signal_groups"][1]["yellow_ms"] = 2500
    raw["stages"][0]["groups"].append("K5")
    raw["detectors"][0]["group"] = "K99"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    r = ampelwerk("config", "check", str(bad), str(EXAMPLE_CONFIG))
    assert r.returncode == 1
    assert 'signal group "K2": yellow_ms=2500 is below the 3000 ms minimum' in r.stdout
    assert "conflicting signal groups K1 and K5 in one stage" in r.stdout
    assert 'detector "D1s": group="K99" is not a known signal group' in r.stdout
    assert re.search(r"bad.json: \d+ problems", r.stdout)


def test_config_check_unreadable_and_not_json(tmp_path: Path) -> None:
    r = ampelwerk("config", "check", str(tmp_path / "missing.json"))
    assert r.returncode == 1 and "cannot read" in r.stdout
    (tmp_path / "x.json").write_text("{not json")
    r = ampelwerk("config", "check", str(tmp_path / "x.json"))
    assert r.returncode == 1 and "not valid JSON" in r.stdout


def test_config_check_bad_files_give_one_clear_line_each_and_never_hang(tmp_path: Path) -> None:
    # tracebacks before (issue 14, finding 5): UnicodeDecodeError, RecursionError,
    # TypeError on a list where a group name belongs; /dev/zero hung
    text = EXAMPLE_CONFIG.read_text()
    raw = json.loads(text)
    raw["conflicts"][0] = [["K1"], "K2"]
    cases = {
        "utf16.json": (text.encode("utf-16"), "is UTF-16 or UTF-32 text: save it as UTF-8"),
        "latin1.json": (text.replace("Four-leg", "Vier-Schenkel-Kreuzung Stra\u00dfe").encode("latin-1"),
                        "is not UTF-8 text (byte 0xdf at offset"),
        "deep.json": (b"[" * 100000 + b"]" * 100000, "not valid JSON for a config: lists or objects nested too deep"),
        "unhashable.json": (json.dumps(raw).encode(), "conflicts #1: unknown signal group ['K1']"),
    }
    for name, (data, _) in cases.items():
        (tmp_path / name).write_bytes(data)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    r = subprocess.run([sys.executable, "-m", "ampelwerk", "config", "check", *(str(tmp_path / n) for n in cases),
                        "/dev/zero", str(fifo), str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr == "", r.stderr[-2000:]
    for name, (_, message) in cases.items():
        assert message in r.stdout, (name, r.stdout)
    assert "/dev/zero is not a regular file (a directory, device or pipe): give the path of a config" in r.stdout
    assert "fifo.json is not a regular file" in r.stdout
    assert "%s is not a regular file" % tmp_path in r.stdout
    assert r.stdout.count(": 1 problem\n") == 6, r.stdout  # one line for each file but the unhashable one


def test_replay_writes_signals_and_events(tmp_path: Path) -> None:
    out = tmp_path / "signals.csv"
    r = ampelwerk("replay", str(EXAMPLE_CONFIG), str(ROOT / "examples" / "four_leg_trace.csv"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = out.read_text().splitlines()
    assert rows[0] == "time_ms,K1,K2,K3,K4,K5,K6,K7,K8,P1,P2"
    assert len(rows) == 3001 and rows[-1].startswith("300000,")
    events = (tmp_path / "signals.events.csv").read_text().splitlines()
    assert events[0] == "time_ms,event_code,event_param,event_name"
    greens = [e for e in events if e.split(",")[1] == "1"]
    assert len(greens) >= 8
    assert "LATCHED" not in r.stdout


def test_replay_reports_trace_errors_without_traceback(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("elapsed_ms,D1s\n100,1\n")
    r = ampelwerk("replay", str(EXAMPLE_CONFIG), str(trace), "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 2
    assert "detectors missing from the trace" in r.stderr and "Traceback" not in r.stderr


def test_replay_into_a_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    r = ampelwerk("replay", str(EXAMPLE_CONFIG), str(ROOT / "examples" / "four_leg_trace.csv"),
                  "--out", str(tmp_path / "nowhere" / "x.csv"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == "ampelwerk: error: --out %s: directory %s does not exist (create it first, or give " \
        "another path)" % (tmp_path / "nowhere" / "x.csv", tmp_path / "nowhere"), r.stderr


def test_a_failed_replay_leaves_no_partial_csv_and_keeps_the_earlier_outputs(tmp_path: Path) -> None:
    good = (ROOT / "examples" / "four_leg_trace.csv").read_text()
    out = tmp_path / "signals.csv"
    r = ampelwerk("replay", str(EXAMPLE_CONFIG), str(ROOT / "examples" / "four_leg_trace.csv"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    lines = good.splitlines()
    bad = tmp_path.parent / (tmp_path.name + "-bad.csv")
    bad.write_text("\n".join(lines[:2000] + ["100,0,1,2" + ",0" * 15] + lines[2000:]) + "\n")
    r = ampelwerk("replay", str(EXAMPLE_CONFIG), str(bad), "--out", str(out))
    assert r.returncode == 2 and "line 2001: detector column 3 value '2' must be 0 or 1" in r.stderr, r.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing new, nothing half-written
    out.unlink()
    (tmp_path / "signals.events.csv").unlink()
    r = ampelwerk("replay", str(EXAMPLE_CONFIG), str(bad), "--out", str(out))
    assert r.returncode == 2 and list(tmp_path.iterdir()) == []


def test_what_a_killed_replay_left_is_swept_by_the_next(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = tmp_path / (".o.partial-%d.csv" % dead.pid)  # a replay killed before it could clean up
    left.write_text("time_ms,K1\n100,")
    r = ampelwerk("replay", str(EXAMPLE_CONFIG), str(ROOT / "examples" / "four_leg_trace.csv"),
                  "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "o.events.csv"]


def test_replay_of_a_trace_that_is_not_text_or_not_a_file(tmp_path: Path) -> None:
    out = str(tmp_path / "o.csv")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((ROOT / "examples" / "four_leg_trace.csv").read_bytes().replace(b"\n# ", b"\n# Stra\xdfe ", 1)
                       + b"# caf\xe9\n")
    for trace, message in ((latin1, "is not UTF-8 text (byte 0xe9 at column 6): save"),
                           ("/dev/zero", "trace /dev/zero is not a file (a directory or device)"),
                           (tmp_path, "is not a file (a directory or device)")):
        r = subprocess.run([sys.executable, "-m", "ampelwerk", "replay", str(EXAMPLE_CONFIG), str(trace), "--out", out],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]
        assert list(tmp_path.glob("o*")) == [] and list(tmp_path.glob(".o*")) == []


def test_config_reference_documents_every_field() -> None:
    from controller.config import schema as config_schema

    doc = (ROOT / "docs" / "config-reference.md").read_text()
    fields = set(config_schema.VEHICLE_TIMING) | set(config_schema.PEDESTRIAN_TIMING) | set(config_schema.DIAGNOSTICS)
    fields |= {"occupancy_window_ms", "startup_flash_ms", "cycle_ms", "offset_ms", "splits_ms"}
    missing = sorted(f for f in fields if "`%s`" % f not in doc)
    assert missing == []
    for table in (config_schema.VEHICLE_TIMING, config_schema.PEDESTRIAN_TIMING):
        for name, (default, lo, hi) in table.items():
            assert "%d to %d" % (lo, hi) in doc, (name, lo, hi)
