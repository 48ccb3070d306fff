"""`ampelwerk coordinator serve` against a real mosquitto: a controller sending poisoned reports is named
in the status output while the others keep getting plans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from controller.coordination.messages import MODE_FREE, Report, decode_plan, encode_report

from coordinator.bus import MqttBus
from tests.conftest import ROOT
from tests.coordinator.conftest import ARTERIAL, PASSWORDS, keys_for, wait_for
from tests.subprocesses import interrupt, interruptible


def _serve(broker, tmp_path):
    """`coordinator serve` for the bundled arterial as a process (status every second), and its log file."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({cid: k.hex() for cid, k in keys_for(["J1", "J2", "J3", "J4", "J5"]).items()}))
    os.chmod(keys, 0o600)
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "ampelwerk", "coordinator", "serve", "--corridors", str(ARTERIAL), "--broker",
           broker.url, "--keys", str(keys), "--state", str(tmp_path / "state.json"), "--status-every", "1"]
    env = dict(os.environ, AMPELWERK_MQTT_PASSWORD=PASSWORDS["coordinator"])
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=err, stderr=subprocess.STDOUT, env=env, preexec_fn=interruptible)
    return proc, log


def test_serve_names_the_controller_that_sends_bad_reports(broker, tmp_path):
    proc, log = _serve(broker, tmp_path)
    try:
        assert wait_for(lambda: "serving 1 corridor(s)" in log.read_text(), 20), log.read_text()
        j1 = MqttBus(broker.url, "J1", "J1", PASSWORDS["J1"])
        plans = []
        j1.subscribe("ampelwerk/J1/plan", lambda t, p: plans.append(decode_plan(p)))
        j1.start()
        j3 = MqttBus(broker.url, "J3", "J3", PASSWORDS["J3"]).start()
        now = int(time.time() * 1000)
        good = json.loads(encode_report(Report("J3", 1, now, 60000, MODE_FREE, 0, ["K1", "K2"], [3, 4], [0, 0], [])))
        for k, (name, value) in enumerate([("counts", [10 ** 400, 4]), ("period_ms", 10 ** 400),
                                           ("loop_counts", [[10 ** 400], [4]]), ("groups", [[1], "K2"])]):
            j3.publish("ampelwerk/J3/report", json.dumps(dict(good, seq=k + 2, **{name: value})).encode())
        assert wait_for(lambda: plans and "J3: BAD INPUT 4" in log.read_text(), 20, pump=[j1]), log.read_text()
        assert plans[-1].controller_id == "J1"
    finally:
        if not interrupt(proc):
            raise AssertionError("serve did not stop within 30 s of Ctrl-C; its log:\n" + log.read_text())
    text = log.read_text()
    assert proc.returncode == 0, text
    line = next(x for x in text.splitlines() if "J3: BAD INPUT 4" in x)
    assert "WARNING" in line and "(report 4), last: report refused: report field groups[0]=[1]" in line
    assert "Traceback" not in text and "poll failed" not in text
    status = [x for x in text.splitlines() if "status: 5 controllers" in x]
    assert status and "4 bad input ignored" in status[-1]
    j1.stop()
    j3.stop()


def test_serve_stops_cleanly_on_sigterm(broker, tmp_path):
    # what a service manager sends: the same clean stop as Ctrl-C (status and counters logged, exit 0)
    proc, log = _serve(broker, tmp_path)
    try:
        assert wait_for(lambda: "serving 1 corridor(s)" in log.read_text(), 20), log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    assert "stopping: " in log.read_text() and "Traceback" not in log.read_text()
