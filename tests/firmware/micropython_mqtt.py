# firmware/mqtt_client.py on the MicroPython interpreter against a real broker.
#   micropython tests/firmware/micropython_mqtt.py ROOT < job.json
# (the job comes on stdin: this unix port crashes on an argument of 256
# characters or more) job: {"host", "port", "user", "password", "tls", "ca_file", "publish": [[topic, payload, qos], ...],
#       "subscribe": topic, "listen_ms": N}
# Connects (waits up to 3 s for the CONNACK), publishes and waits for the
# PUBACKs, optionally subscribes and listens; prints one JSON line with the
# outcome (state, connack, error, acked packet ids, messages received).
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
from firmware.mqtt_client import CONNECTED, CONNECTING, STATE_NAMES, MqttClient, pem_to_der

job = json.loads(sys.stdin.read())
ca = None
if job.get("ca_file"):
    with open(job["ca_file"], "rb") as f:
        ca = pem_to_der(f.read())
c = MqttClient("mp-" + job["user"], job["host"], job["port"], job["user"], job["password"], keepalive_s=30,
               tls=job.get("tls", False), ca_der=ca, server_hostname=job.get("server_hostname"))
acked = []
got = []
c.on_puback = acked.append
c.on_message = lambda t, m: got.append([t, m.decode()])


def pump(ms, until=None):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < ms:
        c.check_msg(time.ticks_ms())
        if until is not None and until():
            return
        time.sleep_ms(2)


c.connect(time.ticks_ms())
pump(3000, lambda: c.state != CONNECTING)
out = {"state": STATE_NAMES[c.state], "connack": c.connack_code, "error": c.last_error}
if c.state == CONNECTED:
    pids = []
    if job.get("subscribe"):
        c.subscribe(job["subscribe"], 1, time.ticks_ms())
        pump(500, lambda: c.suback_codes)
        out["suback"] = c.suback_codes
    for topic, payload, qos in job.get("publish", []):
        pids.append(c.publish(topic, payload, False, qos, time.ticks_ms()))
    pump(3000, lambda: all(p in acked for p in pids if p))
    pump(job.get("listen_ms", 0))
    out["published"] = pids
    out["acked"] = acked
    out["messages"] = got
    out["state_after"] = STATE_NAMES[c.state]
    c.disconnect()
print(json.dumps(out))
