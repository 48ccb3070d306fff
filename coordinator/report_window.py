"""What the coordinator knows from each controller's reports: rolling flows and report-seq gaps. Host only.

Units: ms, vehicles per hour. Reports arrive at QoS 1, so one may come twice
(a duplicate: seq not newer, same run) and, after a controller restarts, seq
starts again (a restart: seq not newer but wall time moved on). A jump in seq
counts the reports in between as lost.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from controller.coordination.messages import Report


@dataclass
class ReportTracker:
    """Per-controller report bookkeeping: seq gaps, duplicates, restarts and a rolling window of counts."""

    window_ms: int
    last_seq: int | None = None
    last_wall_ms: int = 0
    received: int = 0
    lost: int = 0
    duplicates: int = 0
    restarts: int = 0
    mode: str = ""
    plan_seq: int = 0
    faults: list[str] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (first missing seq, last missing seq), newest last
    _window: deque = field(default_factory=deque)

    def add(self, r: Report, mode_name: str, received_ms: int | None = None) -> str:
        """Record a report; returns "new", "duplicate" or "restart".

        Its counts go into the window at its own wall_ms, but never later than ``received_ms`` (when
        it arrived), so a controller whose clock runs far ahead cannot keep them there."""
        kind = "new"
        if self.last_seq is not None and r.seq <= self.last_seq:
            if r.wall_ms <= self.last_wall_ms:
                self.duplicates += 1
                return "duplicate"
            self.restarts += 1
            kind = "restart"
        elif self.last_seq is not None and r.seq > self.last_seq + 1:
            self.lost += r.seq - self.last_seq - 1
            self.gaps.append((self.last_seq + 1, r.seq - 1))
            del self.gaps[:-20]
        self.last_seq = r.seq
        self.last_wall_ms = r.wall_ms
        self.received += 1
        self.mode = mode_name
        self.plan_seq = r.plan_seq
        self.faults = list(r.faults)
        at_ms = r.wall_ms if received_ms is None else min(r.wall_ms, received_ms)
        self._window.append((at_ms, r.period_ms, list(r.group_ids), list(r.counts),
                             list(r.green_ms) if r.green_ms is not None else None,
                             list(r.used_green_ms) if r.used_green_ms is not None else None,
                             [list(c) for c in r.loop_counts] if r.loop_counts is not None else None))
        self.trim(at_ms)
        return kind

    def trim(self, now_ms: int) -> None:
        while self._window and self._window[0][0] <= now_ms - self.window_ms:
            self._window.popleft()

    def flows_vph(self, now_ms: int) -> dict[str, float] | None:
        """Flow per signal group over the window (veh/h); None without reports in the window."""
        self.trim(now_ms)
        total_ms = 0
        counts: dict[str, int] = {}
        for _, period_ms, groups, c, _, _, _ in self._window:
            if period_ms <= 0:
                continue
            total_ms += period_ms
            for g, n in zip(groups, c):
                if isinstance(n, int) and n >= 0:
                    counts[g] = counts.get(g, 0) + n
        if total_ms <= 0:
            return None
        return {g: n * 3600000.0 / total_ms for g, n in counts.items()}

    def green_use(self, now_ms: int) -> dict[str, tuple[int, int, int]] | None:
        """Per signal group (green ms, used green ms, period ms) summed over the window's reports that
        measure them; None when none does."""
        self.trim(now_ms)
        out: dict[str, list[int]] = {}
        for _, period_ms, groups, _, green, used, _ in self._window:
            if green is None or used is None or period_ms <= 0:
                continue
            for g, gm, um in zip(groups, green, used):
                if isinstance(gm, int) and isinstance(um, int) and 0 <= um <= gm:
                    t = out.setdefault(g, [0, 0, 0])
                    t[0] += gm
                    t[1] += um
                    t[2] += period_ms
        return {g: (t[0], t[1], t[2]) for g, t in out.items()} or None

    def busiest_lane_vph(self, now_ms: int) -> dict[str, float] | None:
        """Per signal group, the flow of its busiest counting loop (lane) over the window (veh/h), from
        the reports that carry per-loop counts; None when none does."""
        self.trim(now_ms)
        total_ms = 0
        per_loop: dict[str, list[int]] = {}
        for _, period_ms, groups, _, _, _, loops in self._window:
            if loops is None or period_ms <= 0:
                continue
            total_ms += period_ms
            for g, c in zip(groups, loops):
                acc = per_loop.setdefault(g, [0] * len(c))
                if len(acc) != len(c):
                    continue  # the controller's loops changed: its older reports no longer line up
                for k, n in enumerate(c):
                    acc[k] += n
        if total_ms <= 0:
            return None
        return {g: max(acc) * 3600000.0 / total_ms for g, acc in per_loop.items() if acc}
