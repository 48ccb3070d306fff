"""Shared fixtures for coordinator tests: the bundled five-intersection arterial."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ARTERIAL = DATA / "arterial5" / "corridor.json"


@pytest.fixture
def arterial_dir(tmp_path: Path) -> Path:
    """A copy of the arterial5 corridor and configs the test may edit."""
    d = tmp_path / "arterial5"
    shutil.copytree(DATA / "arterial5", d)
    return d


def edit_corridor(path: Path, change) -> Path:
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))
    return path


def keys_for(ids) -> dict[str, bytes]:
    """Deterministic test keys (32 bytes each)."""
    return {cid: (cid.encode() * 32)[:32] for cid in ids}
