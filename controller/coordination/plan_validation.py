# Plan gate: decides whether a decoded coordination plan may be applied to
# this intersection, in the order of docs/coordination-protocol.md: addressed
# to this controller, signature, sequence number newer than the last accepted
# one, validity window open on the controller's clock, and local timing
# bounds. Runs on the board and on the host; not on the tick path (a plan is
# checked when it arrives, so messages may be built here). Units: ms; wall
# times are Unix epoch ms. Never raises on a Plan from decode_plan (which
# checks every field's type and range); every refusal names the field, the
# value and the range.
from controller.compat import const
from controller.config.schema import CYCLE_RANGE
from controller.coordination.messages import (
    PLAN_ACCEPTED,
    PLAN_BAD_SIGNATURE,
    PLAN_NOT_YET_VALID,
    PLAN_OUT_OF_BOUNDS,
    PLAN_REPLAYED,
    PLAN_STALE,
    PLAN_WRONG_CONTROLLER,
)
from controller.coordination.plan_signature import verify_hex

# A validity window longer than this is refused: a leaked or buggy plan must
# not bind a controller for days, and the strategy counts the remaining
# validity in a small int (24 h = 86.4e6 ms, well below 2**29).
MAX_VALIDITY_MS = const(86400000)
# Plan seqs count the coordinator's clock in ms (docs/coordination.md), so a
# seq further ahead of this controller's clock than this is refused: a
# correctly signed plan with a huge seq (a bug, a leaked key) would
# otherwise make every later plan look replayed.
SEQ_LEAD_MS = const(3600000)


def stage_minimum_ms(ix, s, nxt):
    # Shortest split stage s can run before stage nxt: the same rule as a
    # fixed_time plan's splits (Intersection.split_minimum_ms).
    return ix.split_minimum_ms(s, nxt)


class PlanGate:
    def __init__(self, ix, key, skew_tolerance_ms=2000):
        self.ix = ix
        self.key = key
        self.skew_tolerance_ms = skew_tolerance_ms
        self.last_seq = 0  # seq of the last accepted plan (0: none yet)
        self.accepted = 0
        self.rejected = 0

    def check(self, plan, wall_ms):
        # -> (reason, text). Only an accepted plan moves last_seq.
        reason, text = self._check(plan, wall_ms)
        if reason == PLAN_ACCEPTED:
            self.last_seq = plan.seq
            self.accepted += 1
        else:
            self.rejected += 1
        return reason, text

    def _check(self, plan, wall_ms):
        ix = self.ix
        head = "plan seq=%d for %s" % (plan.seq, plan.controller_id)
        if plan.controller_id != ix.id:
            return PLAN_WRONG_CONTROLLER, "%s: addressed to %s, this controller is %s" % (
                head, plan.controller_id, ix.id)
        if not verify_hex(self.key, plan.signing_text(), plan.signature):
            return PLAN_BAD_SIGNATURE, "%s: signature does not match this controller's key" % head
        if plan.seq <= self.last_seq:
            return PLAN_REPLAYED, "%s: seq=%d is not newer than the last accepted seq=%d" % (
                head, plan.seq, self.last_seq)
        if plan.seq > wall_ms + SEQ_LEAD_MS:
            return PLAN_OUT_OF_BOUNDS, "%s: seq=%d is above %d, the controller's clock %d + %d ms (seqs count the coordinator's clock in ms)" % (
                head, plan.seq, wall_ms + SEQ_LEAD_MS, wall_ms, SEQ_LEAD_MS)
        if wall_ms >= plan.valid_until_ms:
            return PLAN_STALE, "%s: validity window ended at valid_until_ms=%d, %d ms before the controller's clock %d" % (
                head, plan.valid_until_ms, wall_ms - plan.valid_until_ms, wall_ms)
        if plan.valid_from_ms > wall_ms + self.skew_tolerance_ms:
            return PLAN_NOT_YET_VALID, "%s: valid_from_ms=%d is %d ms after the controller's clock %d (skew tolerance %d ms)" % (
                head, plan.valid_from_ms, plan.valid_from_ms - wall_ms, wall_ms, self.skew_tolerance_ms)
        window = plan.valid_until_ms - plan.valid_from_ms
        if window <= 0:
            return PLAN_OUT_OF_BOUNDS, "%s: valid_until_ms=%d is not after valid_from_ms=%d" % (
                head, plan.valid_until_ms, plan.valid_from_ms)
        if window > MAX_VALIDITY_MS:
            return PLAN_OUT_OF_BOUNDS, "%s: validity window of %d ms is longer than the %d ms maximum" % (
                head, window, MAX_VALIDITY_MS)
        text = self._bounds(plan)
        if text:
            return PLAN_OUT_OF_BOUNDS, "%s: %s" % (head, text)
        return PLAN_ACCEPTED, ""

    def _bounds(self, plan):
        # "" when the timing fits the local bounds, else what does not
        ix = self.ix
        lo, hi = CYCLE_RANGE
        cycle = plan.cycle_ms
        if cycle < lo or cycle > hi:
            return "cycle_ms=%d is outside %d to %d ms" % (cycle, lo, hi)
        k = len(ix.sequence)
        ids = plan.stage_ids
        for sid in ids:
            if sid not in ix.stage_ids:
                return 'stage "%s" is not a stage of this intersection (stages: %s)' % (sid, ", ".join(ix.stage_ids))
        if len(ids) != k:
            missing = [ix.stage_ids[s] for s in ix.sequence if ix.stage_ids[s] not in ids]
            if missing:
                return 'stage "%s" of the sequence is missing (%d splits, %d stages in the sequence)' % (
                    missing[0], len(ids), k)
            return "%d splits for %d stages in the sequence: list every stage once" % (len(ids), k)
        first = ix.stage_ids.index(ids[0])
        p0 = ix.sequence_position[first]
        for i in range(k):
            want = ix.stage_ids[ix.sequence[(p0 + i) % k]]
            if ids[i] != want:
                return 'stage "%s" at place %d of the splits breaks the sequence order (expected "%s": %s rotated to start with "%s")' % (
                    ids[i], i + 1, want, ",".join(ix.stage_ids[s] for s in ix.sequence), ids[0])
        total = 0
        for i in range(k):
            s = ix.stage_ids.index(ids[i])
            nxt = ix.stage_ids.index(ids[(i + 1) % k])
            need = stage_minimum_ms(ix, s, nxt)
            v = plan.split_ms[i]
            if v < need:
                return 'split of stage "%s"=%d ms is below its %d ms minimum (min green %d ms + intergreen to "%s" %d ms)' % (
                    ids[i], v, need, ix.stage_min_green_ms(s), ids[(i + 1) % k], ix.transition_ms(s, nxt))
            total += v
        if total != cycle:
            return "splits add up to %d ms but cycle_ms=%d; they must be equal" % (total, cycle)
        if plan.offset_ms < 0 or plan.offset_ms >= cycle:
            return "offset_ms=%d is outside 0 to %d ms (below cycle_ms=%d)" % (plan.offset_ms, cycle - 1, cycle)
        return ""
