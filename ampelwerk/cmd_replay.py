"""``ampelwerk replay CONFIG DETECTORS.csv --out SIGNALS.csv``: run the core on a recorded trace."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Iterator

# a trace row holds elapsed_ms and one 0/1 per detector (at most 250): a line
# longer than this is not a trace row (and /dev/zero is one endless line)
MAX_LINE_BYTES = 65536


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="run the core on a recorded detector trace (CSV in, CSV out)")
    p.add_argument("config", help="intersection config JSON")
    p.add_argument("trace", help="detector trace CSV: elapsed_ms,<detector ids> (docs/trace-formats.md)")
    p.add_argument("--out", required=True, help="signal states CSV to write (one row per tick)")
    p.add_argument("--events", help="high-resolution events CSV (default: <out>.events.csv)")
    p.add_argument("--strategy", help="strategy to run instead of the config's own")
    p.add_argument("--start", metavar="YYYY-MM-DDTHH:MM",
                   help="local date and time at the trace's start, for the config's time-of-day program "
                        "(default: the trace's '# local_time:' line; without either no program runs)")
    p.set_defaults(func=run)


def trace_lines(f, where: str) -> Iterator[str]:
    """The lines of a trace file opened in binary, decoded; TraceError names the line that is not text."""
    from controller.trace_replay import TraceError

    n = 0
    while True:
        raw = f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        n += 1
        if len(raw) > MAX_LINE_BYTES:
            raise TraceError("line %d is longer than %d bytes: %s is not a detector trace" % (n, MAX_LINE_BYTES, where))
        try:
            yield raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as e:
            raise TraceError("line %d is not UTF-8 text (byte 0x%02x at column %d): save %s as UTF-8" % (
                n, raw[e.start], e.start + 1, where)) from None


def open_trace(path: str):
    """The trace opened for reading in binary: a regular file or a pipe (a device or directory is refused)."""
    from ampelwerk.cli import UserError

    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as e:
        raise UserError("cannot read trace %s: %s" % (path, getattr(e, "strerror", None) or e)) from None
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise UserError("trace %s is not a file (a directory or device): give the path of a detector trace CSV" % path)
    try:
        return open(path, "rb")
    except OSError as e:
        raise UserError("cannot read trace %s: %s" % (path, e.strerror)) from None


def run(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from ampelwerk.outputs import staged_files
    from controller.config.loading import ConfigError, load_file
    from controller.core import Controller
    from controller.events.log import CSV_HEADER
    from controller.trace_replay import TraceError, replay

    try:
        ix = load_file(args.config)
    except ConfigError as e:
        raise UserError(str(e)) from None
    try:
        controller = Controller(ix, args.strategy)
    except ValueError as e:
        raise UserError(str(e)) from None
    start = None
    if args.start:
        from controller.schedule import parse_local_time

        start = parse_local_time(args.start)
        if start is None:
            raise UserError("--start %r is not a local date and time YYYY-MM-DDTHH:MM[:SS]" % args.start)
    out = Path(args.out)
    events_path = Path(args.events) if args.events else out.with_name(out.stem + ".events.csv")
    for o in (out, events_path):
        for i in (args.config, args.trace):
            if os.path.exists(i) and o.exists() and os.path.samefile(i, o):
                raise UserError("output %s is the input %s: give the outputs other names" % (o, i))
    trace = open_trace(args.trace)
    # both outputs under temporary names, renamed into place only when the whole trace replayed:
    # a bad row leaves no partial CSV and the outputs of an earlier replay as they were
    with trace, staged_files([out, events_path]) as (sig_tmp, ev_tmp), open(sig_tmp, "w") as sig, \
            open(ev_tmp, "w") as evf:
        evf.write(CSV_HEADER + "\n")
        try:
            total_ms = replay(controller, trace_lines(trace, args.trace), lambda l: sig.write(l + "\n"),
                              lambda l: evf.write(l + "\n"), start)
        except (TraceError, ValueError) as e:
            raise UserError("%s: %s" % (args.trace, e)) from None
    print("replayed %d ticks (%.1f s) of %s with strategy %s: %s, %s%s" % (
        controller.ticks, total_ms / 1000, ix.id, controller.strategy.name, out, events_path,
        "  MONITOR LATCHED FLASH" if controller.monitor.latched else ""))
    return 0
