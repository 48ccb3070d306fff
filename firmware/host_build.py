"""``ampelwerk firmware build``: the board bundle, compiled with mpy-cross.

Layout of the bundle (mirrors the board's flash): ``main.py`` (the entry
point stays source so the board runs it at boot), ``controller/**/*.mpy``
(the core with its sub-packages, except the host-only modules: HOST_ONLY_CORE,
and the sub-packages' __init__.py files that hold nothing but comments),
``firmware/*.mpy`` (board files only: host_*.py stay on the host). Host side.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from firmware.host_tools import find_tool

ROOT = Path(__file__).resolve().parent.parent
# core modules that only a host uses: the horizon (how long the SUMO runner may
# skip quiet ticks) is asked by nothing on the board
HOST_ONLY_CORE = ("horizon.py",)  # paths under controller/


def only_comments(path: Path) -> bool:
    """True for a file with no code: comments and blank lines only."""
    return all(not line.strip() or line.lstrip().startswith("#") for line in path.read_text().splitlines())


def board_sources() -> list[Path]:
    """The .py files that run on the board, except the entry point.

    A sub-package's __init__.py without code is left out: MicroPython imports a
    folder without one as a package all the same, and each compiled __init__.mpy
    would cost the board heap about 100 bytes for nothing.
    """
    core = ROOT / "controller"
    files = [p for p in sorted(core.rglob("*.py")) if p.relative_to(core).as_posix() not in HOST_ONLY_CORE
             and not (p.name == "__init__.py" and p.parent != core and only_comments(p))]
    files += [p for p in sorted((ROOT / "firmware").glob("*.py")) if not p.name.startswith("host_") and p.name != "main.py"]
    return files


def find_mpy_cross() -> str:
    return find_tool("mpy-cross")


def build(out: Path) -> list[tuple[str, int]]:
    """Compile into out/ (replacing an older bundle); returns [(bundle path, bytes)]."""
    mpy_cross = find_mpy_cross()
    if out.exists():
        shutil.rmtree(out)
    sizes = []
    for src in board_sources():
        rel = src.relative_to(ROOT).with_suffix(".mpy")
        (out / rel.parent).mkdir(parents=True, exist_ok=True)
        r = subprocess.run([mpy_cross, "-o", str(out / rel), str(src)], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("mpy-cross failed on %s: %s" % (src.relative_to(ROOT), r.stderr.strip()))
        sizes.append((rel.as_posix(), (out / rel).stat().st_size))
    shutil.copyfile(ROOT / "firmware" / "main.py", out / "main.py")
    sizes.append(("main.py", (out / "main.py").stat().st_size))
    return sizes
