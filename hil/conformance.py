"""Conformance scenarios written as data (hil/suites/*.json), run against a board.

A suite holds a base config, a tick, a default tolerance and scenarios; a
scenario patches the config, drives detector actuations and bench actions
(power cycle, garbage on the line, an injected conflict) over time, and states
expectations (hil/expectations.py). Format: docs/hil.md. Host side.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from controller.wire import messages as wm
from controller.safety.signal_states import LETTERS
from hil.expectations import Run, check

ACTIONS = ("power_cycle", "garbage", "inject")


class SuiteError(ValueError):
    """The suite file is malformed; the message names the field."""


def load_suite(path: Path) -> dict:
    try:
        suite = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SuiteError("cannot read suite %s: %s" % (path, e)) from None
    for key in ("tick_ms", "config", "scenarios"):
        if key not in suite:
            raise SuiteError("suite %s: missing %r" % (path, key))
    if not 10 <= suite["tick_ms"] <= 1000:
        raise SuiteError("suite %s: tick_ms=%r is outside 10 to 1000 ms" % (path, suite["tick_ms"]))
    for i, sc in enumerate(suite["scenarios"]):
        where = "suite %s: scenario %d (%s)" % (path, i + 1, sc.get("name", "?"))
        if not sc.get("name") or not sc.get("duration_ms") or not sc.get("expect"):
            raise SuiteError("%s: needs name, duration_ms and expect" % where)
        for a in sc.get("actions", []):
            if a.get("do") not in ACTIONS:
                raise SuiteError("%s: action do=%r is not one of %s" % (where, a.get("do"), ", ".join(ACTIONS)))
    return suite


def scenario_config(suite: dict, sc: dict):
    from controller.config.loading import load_dict

    raw = dict(suite["config"])
    raw.update(sc.get("config_patch", {}))
    return load_dict(raw, "scenario " + sc["name"])


def check_names(ix, sc: dict) -> None:
    """Every detector and group a scenario names exists in its config (SuiteError otherwise)."""
    where = "scenario %r" % sc["name"]
    for a in sc.get("actuations", []):
        if a.get("detector") not in ix.detector_ids:
            raise SuiteError("%s: actuation detector=%r is not one of %s" % (where, a.get("detector"), ", ".join(ix.detector_ids)))
    groups = [(k, e[k]) for e in sc["expect"] for k in ("group", "from", "to") if k in e]
    groups += [("inject states", g) for a in sc.get("actions", []) for g in a.get("states", {})]
    for k, g in groups:
        if g not in ix.group_ids:
            raise SuiteError("%s: %s=%r is not a signal group (groups: %s)" % (where, k, g, ", ".join(ix.group_ids)))
    for e in sc["expect"]:
        if "detector" in e and e["detector"] not in ix.detector_ids:
            raise SuiteError("%s: expectation detector=%r is not one of %s" % (where, e["detector"], ", ".join(ix.detector_ids)))


def presence_at(ix, actuations: list[dict], t_ms: int, presence: bytearray) -> None:
    """Detector presence during the tick that ends at t_ms."""
    for i in range(len(presence)):
        presence[i] = 0
    for a in actuations:
        d = ix.detector_ids.index(a["detector"])
        if not a["from_ms"] <= t_ms < a["to_ms"]:
            continue
        every = a.get("every_ms")
        if every is None or (t_ms - a["from_ms"]) % every < a.get("on_ms", every):
            presence[d] = 1


def run_scenario(device, suite: dict, sc: dict) -> tuple[list[tuple[bool, str]], float]:
    """Run one scenario on `device` (a connected hil.proxy.DeviceController)."""
    from controller.core import Controller

    t0 = time.monotonic()
    ix = scenario_config(suite, sc)
    check_names(ix, sc)
    tick = suite["tick_ms"]
    device.use_config(ix)
    core = Controller(ix)
    run = Run(ix, tick)
    run.core_states, run.core_events = [], []
    actions = sorted(sc.get("actions", []), key=lambda a: a["at_ms"])
    presence = bytearray(ix.n_detectors)
    base_ms = 0  # scenario time of the last power cycle: event times restart there
    for k in range(1, sc["duration_ms"] // tick + 1):
        t = k * tick
        while actions and actions[0]["at_ms"] <= t - tick:
            a = actions.pop(0)
            if a["do"] == "power_cycle":
                device.reset(wm.RESET_POWER_CYCLE)
                core = Controller(ix)  # the reference powers up too
                base_ms = t - tick
            elif a["do"] == "garbage":
                rnd = random.Random(a.get("seed", 1))
                low = 1 if a.get("zero_free") else 0  # zero-free: one run longer than any frame
                device.link.send_raw(bytes(rnd.randrange(low, 256) for _ in range(a.get("bytes", 256))))
            else:
                states = bytes(LETTERS.index(a["states"].get(g, "R")) for g in ix.group_ids)
                device.inject(states)
        presence_at(ix, sc.get("actuations", []), t, presence)
        out = device.step(tick, presence)
        run.times.append(t)
        run.states.append("".join(LETTERS[s] for s in out))
        run.flashing.append(device.flashing)
        run.events.extend((base_ms + et, c, p) for et, c, p in device.drain_events())
        core.step(tick, presence)
        run.core_states.append("".join(LETTERS[s] for s in core.outputs))
        run.core_events.extend((base_ms + et, c, p) for et, c, p in core.drain_events())
    run.status = device.status()
    tol = suite.get("tolerance_ticks", 1)
    results = [check(run, e, tol) for e in sc["expect"]]
    return results, time.monotonic() - t0


def run_suite(device, suite: dict, only: str | None = None) -> list[dict]:
    """All scenarios (or those whose name contains `only`): [{name, results, seconds, error}]."""
    out = []
    for sc in suite["scenarios"]:
        if only and only not in sc["name"]:
            continue
        try:
            results, secs = run_scenario(device, suite, sc)
            out.append({"name": sc["name"], "results": results, "seconds": secs, "error": ""})
        except Exception as e:  # a broken link or config fails this scenario, the suite goes on
            out.append({"name": sc["name"], "results": [], "seconds": 0.0, "error": "%s: %s" % (type(e).__name__, e)})
    return out
