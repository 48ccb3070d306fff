"""The coordinator service: reports in, signed plans out. Host only; transport-free.

The service never reads a clock and never touches a socket: the caller hands
in messages with ``on_message(topic, payload, wall_ms)``, calls
``poll(wall_ms)`` regularly, and the service publishes through the
``publish(topic, payload, retain)`` callable it was given (an MQTT client,
InProcessBus, or a test's list). So the same service runs in-process in a SUMO
study, against mosquitto in ``ampelwerk coordinator serve``, and in tests with
simulated time. Units: wall-clock Unix epoch ms.

Every ``compute_period_ms`` it computes each corridor's timing (the corridors
spread evenly over the period) from the reports of the last
``report_window_ms`` (corridor_plan.py), passes it through the hysteresis
(hysteresis.py), and sends each controller a plan (new seq, fresh
validity window) when the timing changed, when the plan in force is half-way
through its validity (``refresh_ms``), or ``retry_ms`` after a refusal.
Isolation: one controller's bad input never costs another controller its
plans. Every message is checked field by field when it is decoded
(controller/coordination/message_fields.py) and against the controller's config
(groups); each controller's contribution to its corridor's flows is computed
and checked on its own, each corridor's timing is computed on its own, and
each plan is signed and published on its own. A bad message or contribution
is logged, counted for the controller that sent it (``ControllerLink.bad``,
shown by ``status_lines()`` and ``ampelwerk coordinator serve``) and
ignored. Nothing raises out of on_message() or poll().
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable

from controller.coordination.messages import (
    PLAN_ACCEPTED,
    PLAN_REPLAYED,
    TOPIC_PREFIX,
    MessageError,
    Plan,
    decode_plan_status,
    decode_report,
    encode_plan,
    MODE_NAMES,
)
from controller.coordination.message_fields import show
from controller.coordination.plan_validation import SEQ_LEAD_MS

from coordinator.controller_link import ControllerLink
from coordinator.corridor_plan import CYCLE_SEARCH_SPAN, CorridorTiming, add_offsets, compute_splits
from coordinator.corridors import Corridor
from coordinator.cycle_splits import (
    DEMAND_SOURCES,
    SATURATED_BOOST,
    SATURATED_DS,
    SATURATION_FLOW_VPH_PER_LANE,
    SPLIT_RULES,
    busiest_lane_flows,
    demand_flows,
)
from coordinator.hysteresis import TimingHysteresis
from coordinator.plan_seq_store import SeqStore
from coordinator.report_window import ReportTracker

log = logging.getLogger("coordinator")

Publish = Callable[[str, bytes, bool], None]
DEFAULT_REF_MS = 1767225600000  # 2026-01-01T00:00:00Z: cycle position 0 of every corridor counts from here


@dataclass
class CoordinatorOptions:
    """Tunables of the service (ms unless named otherwise); defaults are documented in docs/coordination.md."""

    prefix: str = TOPIC_PREFIX
    report_window_ms: int = 900000  # flows are averaged over the last 15 min of reports
    compute_period_ms: int = 300000  # timings recomputed every 5 min
    validity_ms: int = 600000  # a plan is valid 10 min from when it is sent
    refresh_ms: int = 300000  # the same timing is re-sent (new seq, fresh window) after 5 min
    retry_ms: int = 60000  # after a refusal, try again after 1 min
    hysteresis_fraction: float = 0.10
    hysteresis_confirmations: int = 2
    saturation_vph_per_lane: float = SATURATION_FLOW_VPH_PER_LANE
    weights: tuple[float, float] = (1.0, 1.0)  # forward, backward bandwidth weights
    split_rule: str = SPLIT_RULES[0]  # one of SPLIT_RULES (coordinator/cycle_splits.py)
    cycle_span: float = CYCLE_SEARCH_SPAN  # cycles from Webster's to this multiple are tried for bandwidth; 1: off
    demand: str = DEMAND_SOURCES[0]  # "counts" or "green-used" (coordinator/cycle_splits.py: demand_flows)
    busiest_lane: bool = True  # a group's flow ratio from its busiest lane (cycle_splits.busiest_lane_flows)
    saturated_ds: float = SATURATED_DS
    saturated_boost: float = SATURATED_BOOST
    ref_ms: int = DEFAULT_REF_MS
    state_path: str | None = None  # seq state file; None: in memory only
    seed: int = 1

    def check(self) -> list[str]:
        """Every problem with these options, naming value and allowed range."""
        errors = []
        for name, lo in (("report_window_ms", 1000), ("compute_period_ms", 1000), ("validity_ms", 10000),
                         ("refresh_ms", 1000), ("retry_ms", 1000)):
            v = getattr(self, name)
            if not isinstance(v, int) or v < lo:
                errors.append("%s=%r is below the %d ms minimum" % (name, v, lo))
        if isinstance(self.refresh_ms, int) and isinstance(self.validity_ms, int) and self.refresh_ms >= self.validity_ms:
            errors.append("refresh_ms=%r must be below validity_ms=%r (plans must be re-sent before they expire)"
                          % (self.refresh_ms, self.validity_ms))
        if not 0 <= self.hysteresis_fraction < 1:
            errors.append("hysteresis_fraction=%r is outside 0..1" % (self.hysteresis_fraction,))
        if self.hysteresis_confirmations < 1:
            errors.append("hysteresis_confirmations=%r is below 1" % (self.hysteresis_confirmations,))
        if self.split_rule not in SPLIT_RULES:
            errors.append("split_rule=%r is not one of %s" % (self.split_rule, ", ".join(SPLIT_RULES)))
        if not 1 <= self.cycle_span <= 3:
            errors.append("cycle_span=%r is outside 1..3 (1: no cycle search)" % (self.cycle_span,))
        if self.demand not in DEMAND_SOURCES:
            errors.append("demand=%r is not one of %s" % (self.demand, ", ".join(DEMAND_SOURCES)))
        if not 0.5 <= self.saturated_ds <= 1:
            errors.append("saturated_ds=%r is outside 0.5..1" % (self.saturated_ds,))
        if not 1 <= self.saturated_boost <= 3:
            errors.append("saturated_boost=%r is outside 1..3" % (self.saturated_boost,))
        if not 300 <= self.saturation_vph_per_lane <= 3000:
            errors.append("saturation_vph_per_lane=%r is outside 300..3000 veh/h" % (self.saturation_vph_per_lane,))
        return errors


@dataclass
class CorridorState:
    corridor: Corridor
    hysteresis: TimingHysteresis
    timing: CorridorTiming | None = None
    version: int = 0
    measured: bool = False


class CoordinatorService:
    """Collects reports, computes corridor plans, signs and publishes them; see module header."""

    def __init__(self, corridors: list[Corridor], keys: dict[str, bytes], publish: Publish,
                 options: CoordinatorOptions | None = None) -> None:
        self.options = options or CoordinatorOptions()
        errors = self.options.check()
        ids = [ci.controller_id for c in corridors for ci in c.intersections]
        missing = [cid for cid in ids if cid not in keys]
        if missing:
            errors.append("no key for controller%s %s in the keys file (make one: ampelwerk coordinator keys)" % (
                "s" if len(missing) > 1 else "", ", ".join(missing)))
        if errors:
            raise ValueError("coordinator cannot start: " + "; ".join(errors))
        self.keys = dict(keys)
        self.publish = publish
        self.seqs = SeqStore(self.options.state_path)
        self.corridors = {c.id: CorridorState(c, TimingHysteresis(self.options.hysteresis_fraction,
                                                                   self.options.hysteresis_confirmations))
                          for c in corridors}
        self.links: dict[str, ControllerLink] = {}
        for c in corridors:
            for k, ci in enumerate(c.intersections):
                self.links[ci.controller_id] = ControllerLink(ci.controller_id, c.id, k,
                                                              ReportTracker(self.options.report_window_ms))
        # corridor id -> when its timing is next recomputed; empty until the first poll computes every
        # corridor, after which the recomputations are spread evenly over compute_period_ms
        self.compute_due_ms: dict[str, int] = {}
        self.counters = {"reports": 0, "plans_sent": 0, "accepted": 0, "rejected": 0, "malformed": 0,
                         "unknown_controller": 0, "misaddressed": 0, "stale_status": 0, "bad_input": 0,
                         "corridor_errors": 0, "plan_errors": 0}
        self.on_plan_status: Callable[[str, dict, int], None] | None = None  # hook for tools (load bench)

    # ---- inbound ----------------------------------------------------------------------------------
    def subscriptions(self, own_controllers_only: bool = False) -> list[str]:
        """Topic filters the service needs (QoS 1): every controller's (wildcards), or with
        ``own_controllers_only`` one topic per own controller and kind (a shard: coordinator/shards.py)."""
        p = self.options.prefix
        kinds = ("report", "plan_status", "status")
        if own_controllers_only:
            return ["%s/%s/%s" % (p, cid, kind) for cid in self.links for kind in kinds]
        return ["%s/+/%s" % (p, kind) for kind in kinds]

    def on_message(self, topic: str, payload: bytes, wall_ms: int) -> None:
        """One message from the bus. Never raises: bad input is counted and logged."""
        try:
            parts = topic.split("/")
            if len(parts) != 3 or parts[0] != self.options.prefix:
                return
            cid, kind = parts[1], parts[2]
            link = self.links.get(cid)
            if link is None:
                self.counters["unknown_controller"] += 1
                log.debug("message on %s from a controller on no corridor", topic)
                return
            if kind == "report":
                self._report(link, payload, wall_ms)
            elif kind == "plan_status":
                self._plan_status(link, payload, wall_ms)
            elif kind == "status":
                text = bytes(payload)
                if text not in (b"online", b"offline"):
                    self._bad(link, "status", "status %s is neither online nor offline" % show(text))
                    return
                link.online = text == b"online"
                log.info("controller %s is %s", cid, "online" if link.online else "offline")
        except Exception:  # a runtime fault must not stop the service
            log.exception("message on %s could not be handled", topic)
            link = self.links.get(topic.split("/")[1]) if topic.count("/") == 2 else None
            if link is not None:
                self._bad(link, "unhandled", "message on %s could not be handled" % topic)
            else:
                self.counters["malformed"] += 1

    def _bad(self, link: ControllerLink, kind: str, text: str, malformed: bool = True) -> None:
        self.counters["bad_input"] += 1
        if malformed:
            self.counters["malformed"] += 1
        link.note_bad(kind, text)

    def _plausible_seq(self, link: ControllerLink, field_name: str, seq: int, wall_ms: int) -> bool:
        """A seq a controller says it runs or accepted: False (bad input) when the coordinator can never
        have sent it, i.e. beyond its clock by more than the lead a controller allows."""
        if seq <= wall_ms + SEQ_LEAD_MS:
            return True
        self._bad(link, "seq", "%s=%d is above %d, this coordinator's clock + %d ms: no plan of ours"
                  % (field_name, seq, wall_ms + SEQ_LEAD_MS, SEQ_LEAD_MS), malformed=False)
        return False

    def _report(self, link: ControllerLink, payload: bytes, wall_ms: int) -> None:
        try:
            r = decode_report(payload)
        except MessageError as e:
            self._bad(link, "report", "report refused: %s" % e)
            return
        if r.controller_id != link.controller_id:
            self.counters["misaddressed"] += 1
            self._bad(link, "misaddressed", "report on %s's topic names controller %s" % (
                link.controller_id, show(r.controller_id)), malformed=False)
            return
        ix = self.corridors[link.corridor_id].corridor.intersections[link.index].ix
        unknown = [g for g in r.group_ids if g not in ix.group_ids]
        if unknown:
            self._bad(link, "report", "report refused: group %s is not a signal group of %s's config (groups: %s)"
                      % (show(unknown[0]), link.controller_id, ", ".join(ix.group_ids)))
            return
        self.counters["reports"] += 1
        before = link.reports.lost
        # counted at its own time, but never later than it arrived: a clock far ahead must not keep
        # its counts in the window
        link.reports.add(r, MODE_NAMES[r.mode], wall_ms)
        if link.reports.lost > before:
            log.warning("controller %s: %d report(s) lost (seq %d..%d)", link.controller_id,
                        link.reports.lost - before, *link.reports.gaps[-1])
        if r.plan_seq > self.seqs.seq.get(link.controller_id, 0) and self._plausible_seq(
                link, "report plan_seq", r.plan_seq, wall_ms):
            # the controller runs a plan newer than our state file knows: never send a seq at or below it
            log.warning("controller %s runs plan seq %d, above the last seq on record; seqs continue above it",
                        link.controller_id, r.plan_seq)
            self.seqs.at_least(link.controller_id, r.plan_seq)
            self._save_seqs()

    def _plan_status(self, link: ControllerLink, payload: bytes, wall_ms: int) -> None:
        try:
            d = decode_plan_status(payload)
        except MessageError as e:
            self._bad(link, "plan_status", "plan status refused: %s" % e)
            return
        if d["controller"] != link.controller_id:
            self.counters["misaddressed"] += 1
            self._bad(link, "misaddressed", "plan status on %s's topic names controller %s" % (
                link.controller_id, show(d["controller"])), malformed=False)
            return
        reason, name = d["reason"], d["result"]
        link.last_result, link.last_text = name, d["text"]
        if self.on_plan_status is not None:
            self.on_plan_status(link.controller_id, d, wall_ms)
        if d["seq"] != link.last_sent_seq:
            # an answer to an older plan (e.g. a retained one delivered again): note, do not act
            self.counters["stale_status"] += 1
            if reason != PLAN_ACCEPTED:
                log.info("controller %s refused older plan seq %d (%s)", link.controller_id, d["seq"], name)
            return
        if reason == PLAN_ACCEPTED:
            link.accepted += 1
            link.accepted_seq = d["seq"]
            link.retry_at_ms = None
            link.relearned = False
            self.counters["accepted"] += 1
            log.debug("controller %s accepted plan seq %d", link.controller_id, d["seq"])
            return
        link.rejected[name] = link.rejected.get(name, 0) + 1
        self.counters["rejected"] += 1
        link.retry_at_ms = wall_ms + self.options.retry_ms
        log.warning("controller %s refused plan seq %d: %s %s", link.controller_id, d["seq"], name, link.last_text)
        last = d["last_seq"]
        if (reason == PLAN_REPLAYED and last is not None and last > d["seq"]
                and self._plausible_seq(link, "plan status last_seq", last, wall_ms)):
            # it accepted a newer seq than we sent (our state file lost, our clock gone back): continue
            # above it, at once, once; a second refusal waits for retry_ms as any other
            self.seqs.at_least(link.controller_id, last)
            self._save_seqs()
            if not link.relearned:
                link.relearned = True
                link.retry_at_ms = wall_ms
                log.warning("controller %s last accepted seq %d: the next plan goes above it now",
                            link.controller_id, last)

    # ---- outbound ---------------------------------------------------------------------------------
    def flows(self, corridor: Corridor, wall_ms: int) -> dict[str, dict[str, float]]:
        """Measured flows (veh/h per group) of the corridor's controllers that reported in the window.

        Each controller's flows are computed and checked on their own: one that fails (or gives a value
        that is not a finite flow of 0 or more) is logged, counted for that controller and left out.
        """
        result = {}
        for ci in corridor.intersections:
            link = self.links[ci.controller_id]
            try:
                f = self._controller_flows(ci, link, wall_ms)
            except Exception as e:  # noqa: BLE001 - one controller's data must not stop its corridor
                self._bad(link, "flows", "its flows could not be computed (%r): left out of corridor %s"
                          % (e, corridor.id), malformed=False)
                continue
            if f is not None:
                result[ci.controller_id] = f
        return result

    def _controller_flows(self, ci, link: ControllerLink, wall_ms: int) -> dict[str, float] | None:
        o = self.options
        reports = link.reports
        f = reports.flows_vph(wall_ms)
        if f is not None and o.busiest_lane:
            f = busiest_lane_flows(ci, f, reports.busiest_lane_vph(wall_ms))
        if f is not None and o.demand == "green-used":
            f = demand_flows(ci, f, reports.green_use(wall_ms), o.saturation_vph_per_lane,
                             o.saturated_ds, o.saturated_boost)
        if f is None:
            return None
        for g, v in f.items():
            if not isinstance(v, float | int) or not math.isfinite(v) or v < 0:
                raise ValueError("flow of group %s=%r is not a finite flow of 0 or more" % (g, v))
        return f

    def compute(self, wall_ms: int) -> list[str]:
        """Recompute every corridor's timing now; returns the ids of corridors whose timing changed."""
        return [cid for cid, cs in self.corridors.items() if self._recompute(cs, wall_ms)]

    def _recompute(self, cs: CorridorState, wall_ms: int) -> bool:
        """One corridor's timing from its flows; True if it changed. A corridor whose computation fails keeps
        the timing in force (or, with none yet, gets the no-data timing): the others are computed as usual."""
        try:
            return self._compute_corridor(cs, self.flows(cs.corridor, wall_ms))
        except Exception:  # noqa: BLE001 - one corridor must not stop the others
            self.counters["corridor_errors"] += 1
            log.exception("corridor %s: timing could not be computed; the timing in force stays", cs.corridor.id)
            return cs.timing is None and self._compute_corridor(cs, {})

    def _recompute_due(self, wall_ms: int) -> None:
        """The first time every corridor; then each corridor every compute_period_ms, corridor k of n at k/n
        of the period, so that a process with many corridors never stops handling messages for all of
        them at once (a timing takes about 1 s of CPU, docs/coordination.md "Load")."""
        period = self.options.compute_period_ms
        if not self.compute_due_ms:
            self.compute(wall_ms)
            n = len(self.corridors)
            self.compute_due_ms = {cid: wall_ms + period + k * period // n for k, cid in enumerate(self.corridors)}
            return
        for cid, due in self.compute_due_ms.items():
            if wall_ms >= due:
                self._recompute(self.corridors[cid], wall_ms)
                # behind by a whole period (a stalled process): no burst of catching up
                self.compute_due_ms[cid] = due + period if due + period > wall_ms else wall_ms + period

    def _compute_corridor(self, cs: CorridorState, flows: dict[str, dict[str, float]]) -> bool:
        o = self.options
        choice, timings = compute_splits(cs.corridor, flows, o.saturation_vph_per_lane, o.split_rule,
                                         o.cycle_span, o.weights)
        if choice.measured and not cs.measured:
            cs.hysteresis.current = None  # first counts: leave the no-data timing at once
        if not cs.hysteresis.offer(timings):
            return False
        cs.measured = choice.measured
        offsets, bands = add_offsets(cs.corridor, timings, o.weights, o.seed)
        cs.timing = CorridorTiming(cs.corridor, choice, timings, offsets, bands)
        cs.version += 1
        log.info("corridor %s: new timing v%d, cycle %d ms (%s), bands %s", cs.corridor.id, cs.version,
                 choice.cycle_ms, "critical %s" % choice.critical if choice.measured else "no counts",
                 "forward %.0f / backward %.0f ms" % (bands.forward_ms, bands.backward_ms) if bands else "-")
        return True

    def plan_for(self, controller_id: str, wall_ms: int, seq: int) -> Plan:
        """The plan in force for this controller, with this seq and a validity window from now."""
        link = self.links[controller_id]
        cs = self.corridors[link.corridor_id]
        if cs.timing is None:
            self.compute(wall_ms)
        t = cs.timing
        assert t is not None  # compute() always sets a first timing
        tm = t.timings[link.index]
        return Plan(controller_id, cs.corridor.id, seq, self.options.ref_ms, wall_ms,
                    wall_ms + self.options.validity_ms, tm.cycle_ms, t.offsets_ms[link.index] % tm.cycle_ms,
                    list(tm.stage_ids), list(tm.split_ms))

    def _due(self, link: ControllerLink, wall_ms: int) -> bool:
        if link.hold_until_ms is not None and wall_ms < link.hold_until_ms:
            return False
        if link.last_sent_ms is None:
            return True
        if link.sent_version != self.corridors[link.corridor_id].version:
            return True
        if link.retry_at_ms is not None and wall_ms >= link.retry_at_ms:
            return True
        return wall_ms >= link.last_sent_ms + self.options.refresh_ms

    def _save_seqs(self) -> None:
        """Write the state file; a failure is logged, not fatal (seqs come from the clock, service.py)."""
        try:
            self.seqs.save()
        except OSError:
            log.exception("state file %s could not be written; seqs continue from the clock", self.seqs.path)

    def send_plans(self, controller_ids: list[str], wall_ms: int) -> list[tuple[str, int]]:
        """Sign and publish fresh plans (new seqs, saved first) to these controllers now, each on its own."""
        plans = []
        for cid in controller_ids:
            link = self.links[cid]
            try:
                plans.append((self.plan_for(cid, wall_ms, self.seqs.next(cid, wall_ms)), link))
            except Exception:  # noqa: BLE001 - one controller's plan must not stop the others'
                self.counters["plan_errors"] += 1
                log.exception("plan for %s could not be made; retrying later", cid)
                link.hold_until_ms = wall_ms + self.options.retry_ms
        self._save_seqs()  # before any of these seqs leaves the house
        sent = []
        for p, link in plans:
            try:
                payload = encode_plan(p, self.keys[p.controller_id])
            except Exception:  # noqa: BLE001
                self.counters["plan_errors"] += 1
                log.exception("plan seq %d for %s could not be signed; retrying later", p.seq, p.controller_id)
                link.hold_until_ms = wall_ms + self.options.retry_ms
                continue
            before = (link.last_sent_ms, link.last_sent_seq, link.sent_version, link.retry_at_ms)
            # noted before publishing: an in-process bus hands the answer back from inside publish()
            link.last_sent_ms = wall_ms
            link.last_sent_seq = p.seq
            link.sent_version = self.corridors[link.corridor_id].version
            link.retry_at_ms = None
            try:
                self.publish("%s/%s/plan" % (self.options.prefix, p.controller_id), payload, True)
            except Exception:
                log.exception("publishing plan seq %d for %s failed; retrying later", p.seq, p.controller_id)
                link.last_sent_ms, link.last_sent_seq, link.sent_version, _ = before
                link.retry_at_ms = wall_ms + self.options.retry_ms
                continue
            self.counters["plans_sent"] += 1
            sent.append((p.controller_id, p.seq))
            log.info("plan %s seq %d: cycle %d offset %d splits %s valid until %d", p.controller_id, p.seq,
                     p.cycle_ms, p.offset_ms, ",".join("%s:%d" % x for x in zip(p.stage_ids, p.split_ms)),
                     p.valid_until_ms)
        return sent

    def poll(self, wall_ms: int) -> list[tuple[str, int]]:
        """Recompute when due and send the plans that are due; returns (controller, seq) sent. Never raises."""
        try:
            self._recompute_due(wall_ms)
            due = [cid for cid, link in self.links.items() if self._due(link, wall_ms)]
            return self.send_plans(due, wall_ms) if due else []
        except Exception:
            log.exception("coordinator poll failed; trying again at the next poll")
            return []

    # ---- for people -------------------------------------------------------------------------------
    def controller_summary(self) -> list[dict]:
        """One row per controller: reports, lost, plans accepted/refused, last answer, bad input ignored."""
        rows = []
        for cid, link in self.links.items():
            r = link.reports
            rows.append({"controller": cid, "corridor": link.corridor_id, "online": link.online,
                         "reports": r.received, "lost_reports": r.lost, "duplicates": r.duplicates,
                         "restarts": r.restarts, "mode": r.mode, "plan_seq_sent": link.last_sent_seq,
                         "plan_seq_accepted": link.accepted_seq, "accepted": link.accepted,
                         "rejected": dict(link.rejected), "last_result": link.last_result,
                         "bad_input": dict(link.bad), "last_bad_input": link.last_bad})
        return rows

    def status_lines(self) -> list[str]:
        """What ``coordinator serve`` prints every status period: the totals, then one line per controller
        that sent bad input, refused plans, lost reports or is offline."""
        c = self.counters
        lines = ["status: %d controllers, %d reports, %d plans sent, %d accepted, %d refused, %d bad input "
                 "ignored, %d corridor errors" % (len(self.links), c["reports"], c["plans_sent"], c["accepted"],
                                                  c["rejected"], c["bad_input"], c["corridor_errors"])]
        for cid, link in self.links.items():
            notes = link.status_notes()
            if notes:
                lines.append("  %s: %s" % (cid, "; ".join(notes)))
        return lines
