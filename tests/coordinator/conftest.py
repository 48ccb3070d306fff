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


PASSWORDS = {"coordinator": "coord-pw", "coordinator2": "coord2-pw", **{"J%d" % i: "pw-J%d" % i for i in range(1, 6)}}
COORDINATOR_USERS = ("coordinator", "coordinator2")  # a second coordinator account (as a second shard has)


def need_mosquitto() -> None:
    from coordinator.local_broker import BrokerError, find_mosquitto

    try:
        find_mosquitto()
    except BrokerError as e:
        pytest.skip("mosquitto binary missing (%s); CI installs it via scripts/system-deps.sh" % e)


@pytest.fixture
def broker(tmp_path):
    """A real mosquitto on loopback with two coordinator users, J1..J5 as users and the per-controller ACL."""
    need_mosquitto()
    from coordinator.local_broker import LocalBroker, controller_acl

    b = LocalBroker(tmp_path / "broker", PASSWORDS, acl=controller_acl(coordinator_users=COORDINATOR_USERS))
    b.start()
    yield b
    b.stop()


def wait_for(cond, timeout_s: float = 5.0, step_s: float = 0.02, pump=()) -> bool:
    """Poll cond() (processing the given buses) until true or timeout."""
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for bus in pump:
            bus.process(0)
        if cond():
            return True
        time.sleep(step_s)
    for bus in pump:
        bus.process(0)
    return bool(cond())
