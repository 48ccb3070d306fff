"""``ampelwerk firmware flash``: install a bundle and a config with mpremote.

The commands are built by ``flash_commands`` (unit-tested without a board) and
run as ``python -m mpremote connect PORT fs ...`` subprocesses. Host side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def check_port(port: str) -> None:
    """A clear error when the serial device does not exist."""
    if port.startswith("/dev/") and not os.path.exists(port):
        raise FileNotFoundError("serial port %s does not exist: is the board plugged in? (ls /dev/ttyACM* /dev/ttyUSB*)" % port)


def compact_config(path: Path) -> bytes:
    """The config as stored on flash: compact JSON (validated before it goes anywhere)."""
    from controller.config.loading import load_file

    ix = load_file(str(path))
    return json.dumps(ix.raw, separators=(",", ":")).encode()


def network_files(path: Path, folder: Path) -> list[Path]:
    """network.json and its CA certificate as they go on flash, written into folder; returns their paths.

    The settings are checked as the board checks them (every problem listed in the
    ValueError). A relative ``ca_file`` is found next to the settings file; on flash
    it lies next to network.json under its own file name.
    """
    from firmware import network_settings

    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError("network settings %s: %s" % (path, e)) from None
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    if isinstance(raw, dict) and isinstance(raw.get("ca_file"), str) and raw["ca_file"]:
        ca = Path(raw["ca_file"])
        ca = ca if ca.is_absolute() else path.parent / ca
        if ca.exists():
            (folder / ca.name).write_bytes(ca.read_bytes())
            raw["ca_file"] = ca.name
            out.append(folder / ca.name)
    try:
        network_settings.check(raw, str(folder))
    except network_settings.SettingsError as e:
        raise ValueError("network settings %s:\n  %s" % (path, "\n  ".join(e.errors))) from None
    (folder / network_settings.FILE_NAME).write_text(json.dumps(raw, separators=(",", ":")))
    return [folder / network_settings.FILE_NAME] + out


def flash_commands(port: str, bundle: Path, config_file: Path | None = None,
                   extra_files: list[Path] = ()) -> list[list[str]]:
    """The mpremote invocations that put bundle (and config_file, already compact, and
    extra_files such as network_files(), each under its own name) on the board."""
    base = [sys.executable, "-m", "mpremote", "connect", port]
    # every folder of the bundle, parents first (controller/ before controller/safety/)
    dirs = sorted({d.as_posix() for p in bundle.rglob("*.mpy") for d in p.relative_to(bundle).parents if d.parts})
    cmds = [base + ["fs", "mkdir", ":" + d] for d in dirs]
    for p in sorted(bundle.rglob("*.mpy")):
        cmds.append(base + ["fs", "cp", str(p), ":" + p.relative_to(bundle).as_posix()])
    if config_file is not None:
        cmds.append(base + ["fs", "cp", str(config_file), ":config.json"])
    for f in extra_files:
        cmds.append(base + ["fs", "cp", str(f), ":" + Path(f).name])
    # main.py last: a board interrupted mid-flash does not boot half a bundle
    cmds.append(base + ["fs", "cp", str(bundle / "main.py"), ":main.py"])
    cmds.append(base + ["reset"])
    return cmds


def run_commands(cmds: list[list[str]]) -> None:
    for cmd in cmds:
        r = subprocess.run(cmd, capture_output=True, text=True)
        # mkdir of an existing folder fails harmlessly
        if r.returncode and not (cmd[-2] == "mkdir" and "EEXIST" in (r.stderr + r.stdout)):
            raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd[2:]), r.returncode, (r.stderr or r.stdout).strip()))
