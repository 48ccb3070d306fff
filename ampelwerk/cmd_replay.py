"""``ampelwerk replay CONFIG DETECTORS.csv --out SIGNALS.csv``: run the core on a recorded trace."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="run the core on a recorded detector trace (CSV in, CSV out)")
    p.add_argument("config", help="intersection config JSON")
    p.add_argument("trace", help="detector trace CSV: elapsed_ms,<detector ids> (docs/trace-formats.md)")
    p.add_argument("--out", required=True, help="signal states CSV to write (one row per tick)")
    p.add_argument("--events", help="high-resolution events CSV (default: <out>.events.csv)")
    p.add_argument("--strategy", help="strategy to run instead of the config's own")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from controller.config import ConfigError, load_file
    from controller.core import Controller
    from controller.event_log import CSV_HEADER
    from controller.trace_replay import TraceError, replay

    try:
        ix = load_file(args.config)
    except ConfigError as e:
        raise UserError(str(e)) from None
    try:
        controller = Controller(ix, args.strategy)
    except ValueError as e:
        raise UserError(str(e)) from None
    out = Path(args.out)
    events_path = Path(args.events) if args.events else out.with_name(out.stem + ".events.csv")
    try:
        trace = open(args.trace)
    except OSError as e:
        raise UserError("cannot read trace %s: %s" % (args.trace, e.strerror)) from None
    with trace, open(out, "w") as sig, open(events_path, "w") as evf:
        evf.write(CSV_HEADER + "\n")
        try:
            total_ms = replay(controller, trace, lambda l: sig.write(l + "\n"), lambda l: evf.write(l + "\n"))
        except TraceError as e:
            raise UserError("%s: %s" % (args.trace, e)) from None
    print("replayed %d ticks (%.1f s) of %s with strategy %s: %s, %s%s" % (
        controller.ticks, total_ms / 1000, ix.id, controller.strategy.name, out, events_path,
        "  MONITOR LATCHED FLASH" if controller.monitor.latched else ""))
    return 0
