# Coordination agent: the portable glue between one controller and the
# coordinator, used by every transport (the board's MQTT link, the in-process
# sim bus, host simulators). It does no I/O: the transport calls advance()
# after every ctl.step(), publishes report() when advance() says one is due,
# and hands every payload received on the plan topic to offer_plan(), which
# answers with the plan-status payload to publish. Runs on the board and on
# the host. advance() is on the tick path and allocates nothing; report() and
# offer_plan() run between ticks and may allocate. Units: ms; wall times are
# Unix epoch ms from the transport's clock. Payloads: docs/coordination-protocol.md.
from array import array

from controller.events import codes as ev
from controller.coordination.messages import (
    MODE_FLASH,
    MODE_FREE,
    MODE_STARTUP,
    PLAN_ACCEPTED,
    PLAN_MALFORMED,
    PLAN_NOT_COORDINATED,
    MessageError,
    Report,
    decode_plan,
    encode_plan_status,
    encode_report,
    topic,
)
from controller.detection.detectors import COUNT_WRAP
from controller.detection.diagnostics import FAULT_NONE
from controller.detection.green_usage import GreenUsage
from controller.intersection import DETECTOR_ADVANCE, DETECTOR_STOP_BAR
from controller.coordination.plan_signature import parse_key
from controller.coordination.plan_validation import PlanGate
from controller.safety.kernel import MODE_RUN
from controller.timing import TIMER_MAX_MS


def counting_loops(ix, g):
    # The loops whose rising edges count group g's vehicles: its stop-bar
    # loops, or its advance loops where it has no stop-bar loop (none for a
    # pedestrian group).
    for kind in (DETECTOR_STOP_BAR, DETECTOR_ADVANCE):
        loops = tuple(d for d in ix.group_detectors[g] if ix.detector_kind[d] == kind)
        if loops:
            return loops
    return ()


class CoordinationAgent:
    def __init__(self, ctl, key, report_period_ms=60000, skew_tolerance_ms=2000, prefix="ampelwerk"):
        # key: this controller's plan key, bytes or hex text (plan_signature.parse_key)
        if isinstance(key, str):
            key = parse_key(key)
        self.ctl = ctl
        ix = ctl.ix
        self.ix = ix
        self.controller_id = ix.id
        self.report_topic = topic(ix.id, "report", prefix)
        self.plan_topic = topic(ix.id, "plan", prefix)
        self.plan_status_topic = topic(ix.id, "plan_status", prefix)
        self.status_topic = topic(ix.id, "status", prefix)
        # priority requests (coordination/priority_messages.py), for a config with a priority block
        self.priority_topic = topic(ix.id, "priority", prefix)
        self.priority_status_topic = topic(ix.id, "priority_status", prefix)
        self.priority_gate = None
        if ctl.priority is not None:
            from controller.coordination.priority_messages import PriorityGate

            self.priority_gate = PriorityGate(ctl, key)
        self.report_period_ms = report_period_ms
        self.gate = PlanGate(ix, key, skew_tolerance_ms)
        self.since_report_ms = 0
        self.seq = 0  # of the last report sent
        self.plans_accepted = 0
        self.plans_rejected = 0
        self.last_reason = -1  # reason code of the last plan offered (-1: none yet)
        self.last_text = ""
        self.loops = [counting_loops(ix, g) for g in range(ix.n_groups)]
        # detector counts at the last report; counts wrap at COUNT_WRAP
        self.count_at_report = array("i", ctl.detectors.count)
        self.usage = GreenUsage(ix, ctl.detectors, self.loops)  # green and used green per group
        bind = getattr(ctl.strategy, "bind", None)
        if bind is not None:
            bind(ctl)  # a plan offered during startup is timed on the controller's clock

    @property
    def mode(self):
        ctl = self.ctl
        if ctl.flashing:
            return MODE_FLASH
        if ctl.kernel.mode != MODE_RUN:
            return MODE_STARTUP
        mode = getattr(ctl.strategy, "mode", None)
        return MODE_FREE if mode is None else mode

    @property
    def plan_seq(self):
        plan = getattr(self.ctl.strategy, "plan", None)
        return 0 if plan is None else plan.seq

    def advance(self, elapsed_ms):
        # After each ctl.step(elapsed_ms): True when a report is due.
        self.usage.update(elapsed_ms, self.ctl.kernel.state)
        t = self.since_report_ms + elapsed_ms
        if t > TIMER_MAX_MS:
            t = TIMER_MAX_MS
        self.since_report_ms = t
        return t >= self.report_period_ms

    def report(self, wall_ms):
        # The report for the period since the last one (bytes); seq rises by one.
        ix = self.ix
        det = self.ctl.detectors
        fault = self.ctl.diagnostics.fault
        counts = []
        occupancy = []
        green = []
        used = []
        loop_counts = []
        for g in range(ix.n_groups):
            gm, um = self.usage.take(g)
            green.append(gm)
            used.append(um)
            n = 0
            occ = 0
            per_loop = []
            for d in self.loops[g]:
                c = det.count[d] - self.count_at_report[d]
                if c < 0:
                    c += COUNT_WRAP
                n += c
                per_loop.append(c)
                if det.occupancy_permille[d] > occ:
                    occ = det.occupancy_permille[d]
            counts.append(n)
            occupancy.append(occ)
            loop_counts.append(per_loop)
        for d in range(ix.n_detectors):
            self.count_at_report[d] = det.count[d]
        faults = [ix.detector_ids[d] for d in range(ix.n_detectors) if fault[d] != FAULT_NONE]
        self.seq += 1
        period = self.since_report_ms
        self.since_report_ms = 0
        return encode_report(Report(ix.id, self.seq, wall_ms, period, self.mode, self.plan_seq, ix.group_ids,
                                    counts, occupancy, faults, green, used, loop_counts))

    def offer_plan(self, payload, wall_ms):
        # A payload from the plan topic -> the plan-status payload to publish
        # (with the seq of the last plan accepted, so a coordinator that lost
        # its state learns where to continue).
        # Applies the plan when it passes the gate; logs COORD_PLAN_ACCEPTED /
        # COORD_PLAN_REJECTED (param: reason) on the controller's event log. Never
        # raises on bad input.
        seq = 0
        try:
            plan = decode_plan(payload)
            seq = plan.seq
            strategy = self.ctl.strategy
            if getattr(strategy, "set_plan", None) is None:
                reason = PLAN_NOT_COORDINATED
                text = "plan seq=%d for %s: this controller runs the %s strategy, not coordinated" % (
                    seq, plan.controller_id, getattr(strategy, "name", "?"))
            else:
                reason, text = self.gate.check(plan, wall_ms)
                if reason == PLAN_ACCEPTED:
                    strategy.set_plan(plan, wall_ms)
        except MessageError as e:
            reason = e.reason
            text = str(e)
        except Exception as e:  # noqa: BLE001 - a plan never takes the controller down
            reason = PLAN_MALFORMED
            text = "plan could not be read: %r" % (e,)
        self.last_reason = reason
        self.last_text = text
        if reason == PLAN_ACCEPTED:
            self.plans_accepted += 1
            self.ctl.events.add(ev.COORD_PLAN_ACCEPTED, reason)
        else:
            self.plans_rejected += 1
            self.ctl.events.add(ev.COORD_PLAN_REJECTED, reason)
        return encode_plan_status(self.ix.id, seq, reason, wall_ms, text, self.gate.last_seq)
