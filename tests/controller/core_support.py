# Helpers for the core's unit tests. Portable: these tests run under pytest on
# CPython and under the real MicroPython interpreter (tests/micropython_runner.py),
# so no pytest features here: plain functions, plain asserts.
import json

from controller.config.loading import load_dict
from controller.core import Controller
from controller.safety.signal_states import LETTERS

def two_group_raw(**top):
    # Two conflicting vehicle groups A and B, one stage each, a loop per group.
    raw = {
        "format": "ampelwerk-intersection/1",
        "id": "two-groups",
        "strategy": "actuated",
        "startup_flash_ms": 2000,
        "signal_groups": [
            {"id": "A", "min_green_ms": 5000, "max_green_ms": 20000, "passage_ms": 2000, "yellow_ms": 3000, "red_clearance_ms": 1000},
            {"id": "B", "min_green_ms": 6000, "max_green_ms": 25000, "passage_ms": 2000, "yellow_ms": 4000, "red_clearance_ms": 2000},
        ],
        "conflicts": [["A", "B"]],
        "intergreen_ms": {"A": {"B": 5000}, "B": {"A": 7000}},
        "stages": [{"id": "S1", "groups": ["A"]}, {"id": "S2", "groups": ["B"]}],
        "sequence": {"mode": "fixed", "order": ["S1", "S2"]},
        "detectors": [
            {"id": "dA", "group": "A", "kind": "stop_bar"},
            {"id": "dB", "group": "B", "kind": "stop_bar"},
        ],
        "fixed_time": {"cycle_ms": 40000, "offset_ms": 0, "splits_ms": {"S1": 20000, "S2": 20000}},
    }
    for k in top:
        raw[k] = top[k]
    return raw

def example_raw():

    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    path = here + "/../../examples/four_leg.json"
    with open(path) as f:
        return json.load(f)

def copy_raw(raw):
    return json.loads(json.dumps(raw))

def controller(raw, strategy=None):
    return Controller(load_dict(raw), strategy)

def letters(outputs):
    return "".join(LETTERS[s] for s in outputs)

class Recorder:
    # Runs a controller tick by tick and keeps the display string each time it changed.
    def __init__(self, ctl, tick_ms=100):
        self.ctl = ctl
        self.tick_ms = tick_ms
        self.time_ms = 0
        self.trace = []  # (time_ms, letters) at every change of any group
        self.presence = bytearray(ctl.ix.n_detectors)

    def run(self, duration_ms, presence_fn=None):
        end = self.time_ms + duration_ms
        while self.time_ms < end:
            self.time_ms += self.tick_ms
            if presence_fn is not None:
                presence_fn(self.time_ms, self.presence)
            self.ctl.step(self.tick_ms, self.presence)
            s = letters(self.ctl.outputs)
            if not self.trace or self.trace[-1][1] != s:
                self.trace.append((self.time_ms, s))
        return self

    def changes(self, group):
        # [(time_ms, letter)] each time the group's display changed
        out = []
        last = None
        for t, s in self.trace:
            if s[group] != last:
                out.append((t, s[group]))
                last = s[group]
        return out

    def intervals(self, group, letter):
        # durations of each complete interval in which `group` showed `letter`
        ch = self.changes(group)
        out = []
        for k in range(len(ch) - 1):
            if ch[k][1] == letter:
                out.append(ch[k + 1][0] - ch[k][0])
        return out

class AlwaysRequest:
    # A strategy that always asks for one stage: the kernel must still hold every safety time.
    name = "always"

    def __init__(self, stage):
        self.stage = stage

    def start(self, ctl):
        pass

    def decide(self, ctl, elapsed_ms):
        return self.stage

class Alternate:
    # A greedy strategy that asks for the other stage as soon as the kernel takes a request.
    name = "alternate"

    def start(self, ctl):
        pass

    def decide(self, ctl, elapsed_ms):
        return (ctl.kernel.stage + 1) % ctl.ix.n_stages
