"""The last plan seq sent to each controller, kept in a small JSON state file. Host only.

A controller refuses a plan whose seq is not newer than the last it accepted
(replay protection) and one whose seq is more than an hour ahead of its own
clock (plan_validation.SEQ_LEAD_MS). Seqs therefore count the coordinator's
wall clock in ms: the next seq is the current time, or one above the last
seq when that is later. So a coordinator restarted without its state file
continues above every seq it sent before (as long as its clock did not go
back); the state file covers a clock that went back, and the controllers'
answers (plan status ``last_seq``, report ``plan_seq``) cover the rest
(service.py). The file is written atomically (temporary file + rename)
before a plan carrying a new seq is published.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from controller.coordination.message_fields import SEQ_MAX

STATE_FORMAT = "ampelwerk-coordinator-state/1"
log = logging.getLogger("coordinator")


class SeqStore:
    """Last seq per controller; ``path`` None keeps it in memory only (tests, dry runs)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.seq: dict[str, int] = {}
        self.dirty = False
        if self.path and self.path.exists():
            try:
                raw = json.loads(self.path.read_text())
                seqs = raw.get("seq", {}) if isinstance(raw, dict) else None
                if not isinstance(seqs, dict):
                    raise ValueError("no \"seq\" object")
            except (OSError, ValueError) as e:
                # Seqs come from the clock, so the service can run without the file: keep the bad
                # file for a look, say so, and start from the clock.
                aside = self.path.with_name(self.path.name + ".unreadable")
                try:
                    os.replace(self.path, aside)
                except OSError as e2:
                    raise ValueError("state file %s is unreadable (%s) and cannot be moved aside (%s): fix or "
                                     "remove it" % (self.path, e, e2)) from None
                log.error("state file %s is unreadable (%s): moved to %s; seqs continue from the clock",
                          self.path, e, aside)
                seqs = {}
            for cid, v in seqs.items():
                if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= SEQ_MAX:
                    self.seq[cid] = v
                else:
                    log.error("state file %s: seq of %s=%r is outside 0..%d: ignored", self.path, cid, v, SEQ_MAX)

    def next(self, controller_id: str, now_ms: int) -> int:
        """The next seq for this controller: now_ms, or one above the last when that is later (marked for saving).

        ValueError when the last seq is already SEQ_MAX (it cannot be reached by a clock in ms).
        """
        last = self.seq.get(controller_id, 0)
        if last >= SEQ_MAX:
            raise ValueError("controller %s: the last seq %d is the maximum %d; no newer plan can be sent"
                             % (controller_id, last, SEQ_MAX))
        n = max(int(now_ms), last + 1)
        self.seq[controller_id] = n
        self.dirty = True
        return n

    def at_least(self, controller_id: str, seq: int) -> bool:
        """Learned from a controller: it accepted plan ``seq``; never send a seq at or below it. True when raised."""
        if seq > self.seq.get(controller_id, 0):
            self.seq[controller_id] = seq
            self.dirty = True
            return True
        return False

    def save(self) -> None:
        """Write the file if anything changed (temporary file, fsync, rename)."""
        if not self.dirty or self.path is None:
            self.dirty = False
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w") as f:
            json.dump({"format": STATE_FORMAT, "seq": self.seq}, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self.dirty = False
