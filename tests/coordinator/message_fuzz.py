"""Fuzzing the coordination messages: generated inputs and the property every parser must keep.

Shared by tests/coordinator/test_message_fuzz.py (hypothesis, a few hundred inputs per parser in every
run, a slow test with more) and bench/message_fuzz.py (100,000 per parser, counts printed).

Inputs: a valid message of random content, then 0 to 4 mutations of its JSON object (a field set to any
JSON value: huge or negative integers, floats, NaN, infinity, strings, nested lists and objects; a field
deleted; a list item replaced), then sometimes a mutation of its bytes (cut, a byte changed, bytes
inserted), or plain random bytes. The property, per parser: a valid result within the bounds of
controller/coordination/message_fields.py, or a MessageError whose text names the message and what is wrong; never
another exception. Parsers:

* ``report``: decode_report;
* ``plan``: a controller's CoordinationAgent.offer_plan (decode_plan and the plan gate), each input as it
  is and, when it decodes, signed again with the controller's key so the gate's checks after the
  signature (seq, validity, timing bounds) are reached; the answer is always a plan status that decodes;
* ``plan_status``: decode_plan_status;
* ``service``: the coordinator's on_message for the three topics of one controller (J3; its reports
  name its own groups, so extreme but valid counts reach the flow computation), then poll(): nothing
  escapes, no error is logged, and every controller keeps getting plans. Timings are recomputed every
  60 inputs, without the cycle search (cycle_span 1), which costs 2 to 4 s a computation here.
"""

from __future__ import annotations

import json
import logging
import time
import traceback

from hypothesis import strategies as st

from controller.coordination.agent import CoordinationAgent
from controller.coordination.messages import (
    MODE_NAMES,
    PLAN_ACCEPTED,
    REASON_NAMES,
    STATUS_FORMAT,
    MessageError,
    Plan,
    Report,
    decode_plan,
    decode_plan_status,
    decode_report,
    encode_plan,
    encode_report,
)
from controller.coordination.message_fields import COUNT_MAX, OCCUPANCY_MAX, PERIOD_MAX_MS, SEQ_MAX, WALL_MS_MAX
from controller.coordination.plan_signature import sign_hex
from controller.coordination.plan_validation import SEQ_LEAD_MS
from tests.fuzz_inputs import Hang, no_hang

WALL0 = 1795333100000
KEY = bytes(range(32))
PARSERS = ("report", "plan", "plan_status", "service")
MAX_ERROR_CHARS = 600  # an error names what is wrong; it does not dump the input

# ---- values ------------------------------------------------------------------------------------------
edge_ints = st.sampled_from([0, 1, -1, 2 ** 29 - 1, 2 ** 29, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64,
                             10 ** 400, -(10 ** 400), WALL0, WALL0 + SEQ_LEAD_MS + 1, WALL_MS_MAX + 1])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), edge_ints,
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=70),
                    st.sampled_from(["", "K1", "S1", "J3", "x" * 65, "free", "coordinated", "\u00e4\u00f6\U0001f6a6"]))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=6) | st.dictionaries(st.text(max_size=8), c,
                                                                                         max_size=5), max_leaves=25)
ids = st.text(alphabet="ABCJKSdg0123456789_-", min_size=1, max_size=8)


@st.composite
def valid_report(draw, controller=None, group_ids=None) -> dict:
    if group_ids:  # a subset of the controller's own groups, in any order
        groups = draw(st.lists(st.sampled_from(group_ids), min_size=1, max_size=len(group_ids), unique=True))
    else:
        groups = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    n = len(groups)
    loops = [draw(st.lists(st.integers(0, 200), max_size=4)) for _ in range(n)]
    green = draw(st.lists(st.integers(0, PERIOD_MAX_MS), min_size=n, max_size=n))
    big = st.integers(0, COUNT_MAX)
    if draw(st.booleans()):  # extreme but valid counts: the flow computation gets them
        loops = [draw(st.lists(big, max_size=3)) for _ in range(n)]
        loops = [c if sum(c) <= COUNT_MAX else [COUNT_MAX] for c in loops]
    wall = draw(st.integers(0, WALL_MS_MAX) | st.integers(WALL0 - 10 ** 7, WALL0 + 10 ** 9))
    r = Report(controller or draw(ids), draw(st.integers(0, SEQ_MAX)), wall,
               draw(st.integers(0, PERIOD_MAX_MS) | st.integers(0, 120000)), draw(st.integers(0, len(MODE_NAMES) - 1)),
               draw(st.integers(0, SEQ_MAX)), groups, [sum(c) for c in loops],
               draw(st.lists(st.integers(0, OCCUPANCY_MAX), min_size=n, max_size=n)), draw(st.lists(ids, max_size=4)),
               green, [draw(st.integers(0, g)) for g in green], loops)
    return json.loads(encode_report(r))


@st.composite
def valid_plan(draw) -> dict:
    # the arterial's stage ids and a timing that fits; mutations reach every check of the gate
    split = draw(st.integers(10000, 60000))
    rest = draw(st.integers(10000, 60000))
    start = WALL0 + draw(st.integers(-700000, 700000))
    p = Plan("J3", "arterial", draw(st.integers(1, WALL0 + SEQ_LEAD_MS + 10)), WALL0, start,
             start + draw(st.integers(-1000, 90000000)), split + rest, draw(st.integers(-1000, split + rest + 1000)),
             ["S1", "S2"], [split, rest])
    return json.loads(encode_plan(p, KEY))


def in_window_plan() -> bytes:
    """A plan for J3 that its gate accepts: starting now, an hour long, a 60 s cycle split evenly."""
    return encode_plan(Plan("J3", "arterial", 1, WALL0, WALL0, WALL0 + 3600000, 60000, 0, ["S1", "S2"],
                            [30000, 30000]), KEY)


@st.composite
def valid_status(draw) -> dict:
    return {"format": STATUS_FORMAT, "controller": draw(ids), "seq": draw(st.integers(0, SEQ_MAX)),
            "reason": draw(st.integers(0, len(REASON_NAMES) - 1)), "result": "accepted",
            "wall_ms": draw(st.integers(0, WALL_MS_MAX)), "text": draw(st.text(max_size=100)),
            "last_seq": draw(st.integers(0, SEQ_MAX))}


@st.composite
def mutated(draw, base) -> bytes:
    """A valid message (dict), mutated 0..4 times as an object, then maybe as bytes; or random bytes."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=300))
    d = draw(base)
    for _ in range(draw(st.integers(0, 4))):
        keys = sorted(d)
        how = draw(st.integers(0, 3))
        if how == 0 or not keys:
            d[draw(st.sampled_from(keys + ["extra"]) if keys else st.just("extra"))] = draw(json_values)
        elif how == 1:
            del d[draw(st.sampled_from(keys))]
        else:
            k = draw(st.sampled_from(keys))
            if isinstance(d[k], list) and d[k]:
                i = draw(st.integers(0, len(d[k]) - 1))
                item = d[k][i]
                if how == 3 and isinstance(item, list) and item:
                    item = list(item)
                    item[draw(st.integers(0, len(item) - 1))] = draw(json_values)
                    d[k][i] = item
                else:
                    d[k][i] = draw(json_values)
            else:
                d[k] = draw(json_values)
    data = json.dumps(d).encode()
    how = draw(st.integers(0, 9))
    if how == 0 and data:
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif how == 1 and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    elif how == 2:
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.binary(min_size=1, max_size=20)) + data[i:]
    return data


def payloads(parser: str):
    base = {"report": valid_report(), "plan": valid_plan(), "plan_status": valid_status()}
    if parser == "service":
        return st.tuples(st.sampled_from(["report", "report", "plan_status", "status"]),
                         st.one_of(mutated(valid_report("J3", ["K1", "K2"])), mutated(valid_status()),
                                   st.binary(max_size=40)))
    return mutated(base[parser])


# ---- the property, per parser --------------------------------------------------------------------------
def _decoded(decode, payload: bytes, what: str):
    """The decoded value, or None when refused; a refusal must name the message and stay short."""
    try:
        return decode(payload)
    except MessageError as e:
        text = str(e)
        assert text.startswith(what + " "), text
        assert len(text) <= MAX_ERROR_CHARS, len(text)
        return None


def check_report(payload: bytes) -> str:
    r = _decoded(decode_report, payload, "report")
    if r is None:
        return "refused"
    # a valid result: within the bounds, and it survives encoding again unchanged
    assert 0 <= r.period_ms <= PERIOD_MAX_MS and all(0 <= c <= COUNT_MAX for c in r.counts)
    assert len(set(r.group_ids)) == len(r.group_ids) == len(r.counts)
    again = decode_report(encode_report(r))
    assert (again.counts, again.group_ids, again.loop_counts, again.green_ms) == (
        r.counts, r.group_ids, r.loop_counts, r.green_ms)
    return "accepted"


def check_plan_status(payload: bytes) -> str:
    d = _decoded(decode_plan_status, payload, "plan status")
    if d is None:
        return "refused"
    assert isinstance(d["controller"], str) and 0 <= d["seq"] <= SEQ_MAX and isinstance(d["text"], str)
    return "accepted"


class PlanTarget:
    """A controller (J3 of the bundled arterial, coordinated strategy) and its agent, offered every plan."""

    def __init__(self) -> None:
        from controller.core import Controller
        from coordinator.corridors import load_corridors
        from tests.coordinator.conftest import ARTERIAL

        ci = [c for c in load_corridors(ARTERIAL)[0].intersections if c.controller_id == "J3"][0]
        self.ctl = Controller(ci.ix, "coordinated")
        self.agent = CoordinationAgent(self.ctl, KEY)
        self.presence = bytearray(ci.ix.n_detectors)

    def check(self, payload: bytes) -> str:
        outcome = self._offer(payload)
        try:
            plan = decode_plan(payload)
        except MessageError:
            return outcome
        d = json.loads(payload)
        d["sig"] = sign_hex(KEY, plan.signing_text())  # signed again: the gate's later checks are reached
        return self._offer(json.dumps(d).encode())

    def _offer(self, payload: bytes) -> str:
        st_ = decode_plan_status(self.agent.offer_plan(payload, WALL0))
        assert st_["controller"] == "J3" and (st_["reason"] == PLAN_ACCEPTED or st_["text"]), st_
        assert "could not be read" not in st_["text"], st_["text"]  # the agent's catch-all: a bug
        self.ctl.step(100, self.presence)  # the core runs on with whatever plan is in force
        if st_["reason"] == PLAN_ACCEPTED:
            self.agent.gate.last_seq = 0  # so the next generated plan is judged on its own
            return "accepted"
        return "refused"


class ServiceTarget:
    """The coordinator for the bundled arterial; J3 sends the generated messages, J1 good reports."""

    def __init__(self) -> None:
        from coordinator.bus import InProcessBus
        from coordinator.corridors import load_corridors
        from coordinator.service import CoordinatorOptions, CoordinatorService
        from tests.coordinator.conftest import ARTERIAL, keys_for

        corridors = load_corridors(ARTERIAL)
        self.bus = InProcessBus()
        self.svc = CoordinatorService(corridors, keys_for(corridors[0].controller_ids()), self.bus.publish,
                                      CoordinatorOptions(compute_period_ms=60000, refresh_ms=120000,
                                                         validity_ms=240000, cycle_span=1))
        self.wall_ms = WALL0
        for f in self.svc.subscriptions():
            self.bus.subscribe(f, lambda t, p: self.svc.on_message(t, p, self.wall_ms))
        self.last_plan: dict[str, int] = {}
        self.bus.subscribe("ampelwerk/+/plan", lambda t, p: self.last_plan.__setitem__(t.split("/")[1], self.wall_ms))
        self.errors = _ErrorLog()
        logging.getLogger("coordinator").addHandler(self.errors)
        self.seq = 0

    def check(self, item: tuple[str, bytes]) -> str:
        kind, payload = item
        self.wall_ms += 1000
        self.seq += 1
        if self.seq % 60 == 0:
            self.bus.publish("ampelwerk/J1/report", encode_report(Report(
                "J1", self.seq, self.wall_ms, 60000, 1, 0, ["K1", "K2"], [5, 20], [0, 0], [])))
        bad = self.svc.counters["bad_input"]
        self.bus.publish("ampelwerk/J3/%s" % kind, payload)
        self.svc.poll(self.wall_ms)
        assert not self.errors.records, self.errors.records[:3]
        # every controller got a plan within the last refresh period (+ the first poll)
        for cid in self.svc.links:
            assert self.wall_ms - self.last_plan.get(cid, self.wall_ms) <= 121000, (cid, self.last_plan)
        return "refused" if self.svc.counters["bad_input"] > bad else "accepted"

    def close(self) -> None:
        logging.getLogger("coordinator").removeHandler(self.errors)


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def target(parser: str):
    """A callable that checks one input of this parser (raises on a broken property)."""
    if parser == "report":
        return check_report
    if parser == "plan_status":
        return check_plan_status
    if parser == "plan":
        return PlanTarget().check
    return ServiceTarget().check


# ---- counting runs (slow test, bench) ------------------------------------------------------------------
class Tally:
    """Outcomes of a counted run: inputs, accepted, refused, tracebacks (and the first few), hangs, slowest."""

    def __init__(self, parser: str) -> None:
        self.parser = parser
        self.inputs = self.accepted = self.refused = self.tracebacks = self.hangs = 0
        self.slowest_ms = 0.0
        self.first: list[str] = []

    def line(self) -> str:
        return ("%-12s %7d inputs: %7d accepted, %7d refused, %d tracebacks, %d hangs (over %g s), slowest %.1f ms"
                % (self.parser, self.inputs, self.accepted, self.refused, self.tracebacks, self.hangs,
                   HANG_S, self.slowest_ms))


HANG_S = 10.0  # an input that takes longer than this counts as a hang (a slow machine's worst is about 1 s)


CHUNK = 10000  # inputs per hypothesis run: its record of the inputs tried grows with every one


def run_counted(parser: str, n: int, seed: int = 1, progress=None, hang_s: float = HANG_S) -> Tally:
    """Feed n generated inputs to the parser; every outcome is counted, none stops the run."""
    check = target(parser)
    tally = Tally(parser)
    try:
        k = 0
        while tally.inputs < n:
            _run_chunk(check, parser, min(CHUNK, n - tally.inputs), seed * 1000 + k, tally, progress, hang_s)
            k += 1
    finally:
        close = getattr(getattr(check, "__self__", None), "close", None)
        if close:
            close()
    return tally


def _run_chunk(check, parser: str, n: int, seed: int, tally: Tally, progress, hang_s: float) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    @hypothesis_seed(seed)
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(payloads(parser))
    def one(payload) -> None:
        tally.inputs += 1
        t0 = time.perf_counter()
        try:
            with no_hang(hang_s):
                outcome = check(payload)
            if outcome == "accepted":
                tally.accepted += 1
            else:
                tally.refused += 1
        except Hang:
            tally.hangs += 1
        except Exception:  # noqa: BLE001 - counted: the run goes on
            tally.tracebacks += 1
            if len(tally.first) < 3:
                tally.first.append("%r\n%s" % (payload[:300] if isinstance(payload, bytes) else payload,
                                               traceback.format_exc()))
        tally.slowest_ms = max(tally.slowest_ms, (time.perf_counter() - t0) * 1000)
        if progress and tally.inputs % 10000 == 0:
            progress(tally)

    before = tally.inputs
    one()
    # hypothesis stops early only when it runs out of distinct inputs, which these spaces never do
    assert tally.inputs - before == n, (tally.inputs - before, n)
