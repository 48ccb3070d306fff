"""What the coordinator knows about one controller, and the bad input it sent. Host only.

Bad input (a report or plan status that does not decode, names another
controller or groups its config does not have, a seq no plan of ours can
have, flows that cannot be computed) is counted per kind and logged, and
the input is ignored: ``status_notes()`` is what ``coordinator serve`` shows
an operator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from coordinator.report_window import ReportTracker

log = logging.getLogger("coordinator")


@dataclass
class ControllerLink:
    """What the coordinator knows about one controller."""

    controller_id: str
    corridor_id: str
    index: int  # position on the corridor (forward order)
    reports: ReportTracker
    online: bool | None = None
    last_sent_ms: int | None = None
    last_sent_seq: int = 0
    sent_version: int = -1  # timing version of the last plan sent
    retry_at_ms: int | None = None
    hold_until_ms: int | None = None  # a plan could not be made or signed: next attempt not before this
    accepted_seq: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    last_result: str = ""
    last_text: str = ""
    relearned: bool = False  # the last retry was sent at once after learning the controller's seq
    bad: dict[str, int] = field(default_factory=dict)  # bad input from this controller, per kind, ignored
    last_bad: str = ""  # what the last one was

    def note_bad(self, kind: str, text: str) -> None:
        """Count and log one piece of bad input from this controller (it is ignored)."""
        self.bad[kind] = self.bad.get(kind, 0) + 1
        self.last_bad = text
        log.warning("controller %s: %s (ignored; %d bad %s so far)", self.controller_id, text, self.bad[kind], kind)

    def status_notes(self) -> list[str]:
        """What an operator should know about this controller: bad input, refusals, lost reports, offline."""
        notes = []
        if self.bad:
            notes.append("BAD INPUT %d (%s), last: %s" % (
                sum(self.bad.values()), ", ".join("%s %d" % kv for kv in sorted(self.bad.items())), self.last_bad))
        if self.rejected:
            notes.append("refused plans: %s" % ", ".join("%s %d" % kv for kv in sorted(self.rejected.items())))
        if self.reports.lost:
            notes.append("%d reports lost" % self.reports.lost)
        if self.online is False:
            notes.append("offline")
        return notes
