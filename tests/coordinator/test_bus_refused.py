"""A broker that refuses the connection is said at once, as "connection refused" (issue 14, finding 6):
it waited the whole connect timeout (10 s) and reported "no answer"."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ampelwerk.cli import main
from coordinator.bus import BusError, MqttBus


def _closed_port() -> int:
    """A local port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_named_as_such() -> None:
    port = _closed_port()
    with pytest.raises(BusError) as e:
        MqttBus("mqtt://127.0.0.1:%d" % port, "J1", connect_timeout_s=60).start()
    assert "connection refused (no broker listens on 127.0.0.1 port %d: is it running, is the port right?)" % port \
        in str(e.value)


@pytest.mark.sumo
def test_sim_run_with_a_refused_broker_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    port = _closed_port()
    assert main(["sim", "run", "arterial5", "--coordinated", "--broker", "mqtt://127.0.0.1:%d" % port, "--end", "30",
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "connection refused" in err[0], err
    assert list(tmp_path.iterdir()) == []
