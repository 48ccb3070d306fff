# Configs and helpers for the priority tests (portable: CPython and MicroPython).
from controller.config.loading import load_dict
from controller.core import Controller
from controller.safety.signal_states import GREEN


def three_stage_raw(priority=None, strategy="actuated", extra_detectors=()):
    # Three mutually conflicting groups A, B, C, one stage each (S1, S2, S3),
    # a stop-bar loop each; intergreens hand-picked so the expected times
    # below can be computed by hand.
    raw = {
        "format": "ampelwerk-intersection/1",
        "id": "three-stages",
        "strategy": strategy,
        "startup_flash_ms": 2000,
        "signal_groups": [
            {"id": "A", "min_green_ms": 10000, "max_green_ms": 30000, "passage_ms": 2000, "yellow_ms": 3000,
             "red_clearance_ms": 1000},
            {"id": "B", "min_green_ms": 8000, "max_green_ms": 30000, "passage_ms": 2000, "yellow_ms": 4000,
             "red_clearance_ms": 2000},
            {"id": "C", "min_green_ms": 6000, "max_green_ms": 30000, "passage_ms": 2000, "yellow_ms": 3000,
             "red_clearance_ms": 1000},
        ],
        "conflicts": [["A", "B"], ["A", "C"], ["B", "C"]],
        "intergreen_ms": {"A": {"B": 5000, "C": 4000}, "B": {"A": 7000, "C": 6000}, "C": {"A": 4000, "B": 5000}},
        "stages": [{"id": "S1", "groups": ["A"]}, {"id": "S2", "groups": ["B"]}, {"id": "S3", "groups": ["C"]}],
        "sequence": {"mode": "fixed", "order": ["S1", "S2", "S3"]},
        "detectors": [
            {"id": "dA", "group": "A"},
            {"id": "dB", "group": "B"},
            {"id": "dC", "group": "C"},
        ] + list(extra_detectors),
    }
    if priority is not None:
        raw["priority"] = priority
    return raw


EMS = {"id": "ems", "kind": "emergency", "stage": "S2", "preempt_min_green_ms": 3000, "max_dwell_ms": 60000,
       "request_timeout_ms": 60000, "exit_stage": "S3"}
RAIL = {"id": "rail", "kind": "railroad", "stage": "S3", "track_clearance_stage": "S2", "track_clearance_ms": 15000,
        "preempt_min_green_ms": 2000, "request_timeout_ms": 120000, "exit_stage": "S1"}
BUS = {"id": "bus", "kind": "transit", "stage": "S2", "groups": ["B"], "max_extension_ms": 10000,
       "max_early_ms": 10000, "max_per_cycle_ms": 15000, "request_timeout_ms": 90000}


def loops(*classes):
    # a check-in and a check-out loop per class id
    out = []
    for c in classes:
        out.append({"id": c + "_in", "kind": "check_in", "priority_class": c})
        out.append({"id": c + "_out", "kind": "check_out", "priority_class": c})
    return out


class Run:
    # Steps a controller tick by tick; pulses loops; records when groups turn green.
    def __init__(self, raw, tick_ms=100, strategy=None):
        self.ctl = Controller(load_dict(raw), strategy)
        self.ix = self.ctl.ix
        self.tick_ms = tick_ms
        self.t = 0
        self.presence = bytearray(self.ix.n_detectors)
        self.pulses = []  # (detector index, on from, off at)
        self.green_at = {}  # group id -> [times it turned green]
        self.last = bytes(self.ctl.outputs)
        self.events = []

    def det(self, name):
        return self.ix.detector_ids.index(name)

    def pulse(self, name, at_ms, length_ms=300):
        self.pulses.append((self.det(name), at_ms, at_ms + length_ms))

    def hold(self, name, on=True):
        self.presence[self.det(name)] = 1 if on else 0

    def run_until(self, end_ms):
        ix = self.ix
        while self.t < end_ms:
            self.t += self.tick_ms
            for d, a, b in self.pulses:
                if a <= self.t < b:
                    self.presence[d] = 1
                elif self.t == b:
                    self.presence[d] = 0
            out = self.ctl.step(self.tick_ms, self.presence)
            for g in range(ix.n_groups):
                if out[g] == GREEN and self.last[g] != GREEN:
                    self.green_at.setdefault(ix.group_ids[g], []).append(self.t)
            self.last = bytes(out)
            for _, code, param in self.ctl.drain_events():
                self.events.append((self.t, code, param))
            assert not self.ctl.flashing, "monitor tripped at %d" % self.t
        return self

    def green(self, gid):
        return self.ctl.outputs[self.ix.group_ids.index(gid)] == GREEN

    def first_green_after(self, gid, t):
        for x in self.green_at.get(gid, []):
            if x > t:
                return x
        return -1

    def codes(self, code):
        return [(t, p) for t, c, p in self.events if c == code]
