"""Replay a detector trace through any controller-shaped object (a board over
the wire included), writing the same signal and event CSVs as
controller/trace_replay.py. It uses only step() and drain_events()."""

from __future__ import annotations

from typing import Callable, Iterable

from controller.event_log import format_csv_row
from controller.trace_replay import TraceError, detector_columns, parse_row, signals_header, signals_row


def replay_controller_shaped(ctl, lines: Iterable[str], write_signal: Callable[[str], None],
                             write_event: Callable[[str], None] | None = None) -> int:
    """Like controller.trace_replay.replay; returns the trace's total ms."""
    ix = ctl.ix
    presence = bytearray(ix.n_detectors)
    mapping = None
    time_ms = 0
    write_signal(signals_header(ix))
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s[0] == "#":
            continue
        if mapping is None:
            mapping = detector_columns(s, ix, "line %d" % n)
            continue
        elapsed = parse_row(s, mapping, presence, "line %d" % n)
        time_ms += elapsed
        ctl.step(elapsed, presence)
        write_signal(signals_row(time_ms, ctl.outputs))
        if write_event is not None:
            for t, code, param in ctl.drain_events():
                write_event(format_csv_row(t, code, param))
    if mapping is None:
        raise TraceError("the trace has no header line (elapsed_ms,<detector ids>)")
    return time_ms
