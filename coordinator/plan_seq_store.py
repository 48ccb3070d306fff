"""The last plan seq sent to each controller, kept in a small JSON state file. Host only.

A controller refuses a plan whose seq is not newer than the last it accepted
(replay protection), so a restarted coordinator must never reuse a seq: the
seq is written to disk (atomically: temporary file + rename) before a plan
carrying it is published.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

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
                seqs = raw.get("seq", {}) if isinstance(raw, dict) else {}
                self.seq = {k: int(v) for k, v in seqs.items() if isinstance(v, int) and v >= 0}
            except (OSError, ValueError, AttributeError) as e:
                raise ValueError("state file %s is unreadable (%s): fix it or move it away; a fresh state "
                                 "restarts seqs at 1 and controllers would refuse those plans as replayed"
                                 % (self.path, e)) from None

    def next(self, controller_id: str) -> int:
        """The next seq for this controller (marked for saving)."""
        n = self.seq.get(controller_id, 0) + 1
        self.seq[controller_id] = n
        self.dirty = True
        return n

    def at_least(self, controller_id: str, seq: int) -> None:
        """Learned from a report: the controller runs plan ``seq``; never send a seq at or below it."""
        if seq > self.seq.get(controller_id, 0):
            self.seq[controller_id] = seq
            self.dirty = True

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
