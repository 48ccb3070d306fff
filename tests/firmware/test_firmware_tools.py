"""Host tooling: the mpy-cross bundle, the mpremote commands, the CLI verbs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from firmware.host_build import board_sources, build
from firmware.host_flash import compact_config, flash_commands
from tests.conftest import EXAMPLE_CONFIG, ROOT
from tests.subprocesses import interruptible


def test_bundle_holds_every_board_file_compiled_and_no_host_tool(tmp_path: Path) -> None:
    sizes = dict(build(tmp_path / "b"))
    assert "main.py" in sizes and "controller/wire/frame.mpy" in sizes and "firmware/wire_server.mpy" in sizes
    assert not any("host_" in name for name in sizes)
    assert "controller/horizon.mpy" not in sizes  # host only: the board boots without it (next test)
    assert "controller/safety/kernel.mpy" in sizes  # the sub-packages' modules, in their folders,
    assert "controller/safety/__init__.mpy" not in sizes  # without the __init__ files that hold no code
    assert len(sizes) == len(board_sources()) + 1
    for name, size in sizes.items():
        assert (tmp_path / "b" / name).stat().st_size == size > 0
        if name.endswith(".mpy"):
            assert (tmp_path / "b" / name).read_bytes()[:1] == b"M"  # mpy header


def test_bundle_boots_on_micropython_from_mpy_files(micropython: str, tmp_path: Path) -> None:
    # the compiled bundle, not the sources: main.py imports firmware/*.mpy
    bundle = tmp_path / "b"
    build(bundle)
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_bytes(compact_config(EXAMPLE_CONFIG))
    r = subprocess.run([micropython, str(bundle / "main.py"), "--flash", str(flash)], input=b"",
                       capture_output=True, cwd=tmp_path, timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "running config example-4leg" in err and "wire closed" in err


def test_flash_commands_copy_everything_and_main_last(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    build(bundle)
    cfg = tmp_path / "config.json"
    cmds = flash_commands("/dev/ttyACM0", bundle, cfg)
    assert all(c[:5] == [sys.executable, "-m", "mpremote", "connect", "/dev/ttyACM0"] for c in cmds)
    copies = [c[-1] for c in cmds if c[5:7] == ["fs", "cp"]]
    assert copies[-1] == ":main.py" and ":config.json" in copies and ":controller/core.mpy" in copies
    assert len(copies) == len(list(bundle.rglob("*.mpy"))) + 2
    made = [c[-1] for c in cmds if "mkdir" in c]  # every folder, each before the folders in it
    assert made == [":controller"] + [":controller/" + p for p in (
        "config", "coordination", "detection", "events", "priority", "safety", "strategies", "wire")] + [":firmware"]
    assert cmds[-1][5:] == ["reset"]


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ampelwerk", *args], cwd=ROOT, capture_output=True, text=True, **kw)


def test_cli_build_prints_sizes_and_total(tmp_path: Path) -> None:
    r = _cli("firmware", "build", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    total = int(last.split()[0])
    assert "total" in last and total == sum(p.stat().st_size for p in (tmp_path / "out").rglob("*")
                                            if p.is_file() and p.name != ".ampelwerk-out")
    # a second build replaces the first whole; a folder of something else is refused, never emptied
    assert _cli("firmware", "build", "--out", str(tmp_path / "out")).returncode == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    r = _cli("firmware", "build", "--out", str(tmp_path / "mine"))
    assert r.returncode == 2 and "already holds files that `firmware build` did not write (notes.txt)" in r.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"


def test_cli_flash_to_a_missing_port_is_a_clear_error() -> None:
    r = _cli("firmware", "flash", "--port", "/dev/ampelwerk-no-board")
    assert r.returncode == 2
    assert "does not exist" in r.stderr and "plugged in" in r.stderr and "Traceback" not in r.stderr


def test_cli_flash_refuses_an_invalid_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(EXAMPLE_CONFIG.read_text().replace('"yellow_ms": 3000', '"yellow_ms": 100', 1))
    r = _cli("firmware", "flash", "--port", "/dev/ttyACM0", "--config", str(bad), "--dry-run")
    assert r.returncode == 2 and "yellow_ms=100" in r.stderr


def test_cli_flash_dry_run_prints_commands_that_can_be_pasted(tmp_path: Path) -> None:
    # they lacked the interpreter and named files in a folder deleted on exit (issue 14, finding 6)
    import shlex

    out = tmp_path / "flash"
    r = _cli("firmware", "flash", "--port", "/dev/ttyACM0", "--config", str(EXAMPLE_CONFIG), "--dry-run",
             "--out", str(out))
    assert r.returncode == 0, r.stderr
    cmds = [shlex.split(line) for line in r.stdout.splitlines() if not line.startswith("#")]
    assert len(cmds) > 10 and all(c[:3] == [sys.executable, "-m", "mpremote"] for c in cmds)
    copied = [Path(c[-2]) for c in cmds if c[5:7] == ["fs", "cp"]]
    assert copied and all(p.is_file() and out.resolve() in p.parents for p in copied), copied
    assert (out / "config.json").read_bytes() == compact_config(EXAMPLE_CONFIG)
    # pasted as printed: the command line parses and finds its files (mpremote's own help, no board needed)
    r = subprocess.run(cmds[0][:3] + ["--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "mpremote" in r.stdout + r.stderr


def test_cli_virtual_prints_the_port_and_stops_on_ctrl_c() -> None:
    p = subprocess.Popen([sys.executable, "-m", "ampelwerk", "firmware", "virtual", "--config", str(EXAMPLE_CONFIG)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    try:
        line = p.stdout.readline()
        assert line.startswith("virtual board on /dev/"), line
        port = line.split()[3]
        from hil.serial_link import SerialLink
        from controller.wire import messages as wm

        link = SerialLink(port)
        reply = link.request(wm.HELLO, bytes([1, 0]))
        assert reply[1] & wm.BOARD_CONFIG_LOADED
        link.close()
        time.sleep(0.1)
        p.send_signal(signal.SIGINT)
        try:
            assert p.wait(timeout=30) == 0, p.stderr.read()
        except subprocess.TimeoutExpired:
            p.kill()
            raise AssertionError("the virtual board did not stop within 30 s of Ctrl-C: %s" % p.communicate()[1]) from None
    finally:
        if p.poll() is None:
            p.kill()
