"""``ampelwerk config check FILE``: validate intersection configs; ``config schedule``: run a time-of-day program."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="intersection configs")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)
    c = verbs.add_parser("check", help="validate configs; lists every problem, exit 1 if any")
    c.add_argument("files", nargs="+", metavar="FILE", help="intersection config JSON")
    c.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    c.set_defaults(func=check)
    s = verbs.add_parser("schedule", help="run a config's time-of-day and week program, time-compressed, and "
                                          "check every plan change against the listed times (docs/schedules.md)")
    s.add_argument("config", help="intersection config JSON with a schedule block")
    s.add_argument("--start", default="2026-12-07T00:00", metavar="YYYY-MM-DDTHH:MM",
                   help="local date and time to start at (default: %(default)s, a Monday)")
    s.add_argument("--days", type=int, default=7, help="days to run (default: %(default)s)")
    s.add_argument("--tick-ms", type=int, default=1000, help="tick of the run, 100 to 60000 ms (default: %(default)s)")
    s.add_argument("--seed", type=int, default=1, help="seed of the random loop traffic (default: %(default)s)")
    s.add_argument("--trace-out", metavar="CSV", help="also write the detector stream as a trace with a "
                                                      "'# local_time:' line, for `ampelwerk replay`")
    s.set_defaults(func=schedule)


def check(args: argparse.Namespace) -> int:
    from controller.config.loading import ConfigError, load_file

    bad = 0
    for path in args.files:
        try:
            ix = load_file(path)
        except ConfigError as e:
            bad += 1
            print("%s: %d problem%s" % (path, len(e.errors), "" if len(e.errors) == 1 else "s"))
            for err in e.errors:
                print("  " + err)
            continue
        if not args.quiet:
            sched = ix.raw.get("schedule")
            print("%s: ok (%s: %d signal groups, %d stages, %d detectors, strategy %s%s)" % (
                path, ix.id, ix.n_groups, ix.n_stages, ix.n_detectors, ix.strategy,
                "; schedule: %d plans, %d day plans, %d exceptions" % (
                    len(sched["plans"]), len(sched["day_plans"]), len(sched.get("exceptions") or {}))
                if sched else ""))
    return 1 if bad else 0


def schedule(args: argparse.Namespace) -> int:
    import datetime

    from ampelwerk.cli import UserError
    from ampelwerk.schedule_week import run_week
    from controller.config.loading import ConfigError, load_file

    try:
        ix = load_file(args.config)
    except ConfigError as e:
        raise UserError(str(e)) from None
    if not ix.raw.get("schedule"):
        raise UserError("%s has no schedule block: nothing to run (docs/schedules.md)" % args.config)
    try:
        start = datetime.datetime.fromisoformat(args.start)
    except ValueError:
        raise UserError("--start %r is not a local date and time YYYY-MM-DDTHH:MM" % args.start) from None
    if not 1 <= args.days <= 366 or not 100 <= args.tick_ms <= 60000:
        raise UserError("--days %d must be 1 to 366 and --tick-ms %d 100 to 60000" % (args.days, args.tick_ms))
    out = open(args.trace_out, "w") if args.trace_out else None
    try:
        run = run_week(ix, start, args.days, args.tick_ms, args.seed,
                       (lambda line: out.write(line + "\n")) if out else None)
    finally:
        if out:
            out.close()
    names = {p["number"]: name for name, p in ix.raw["schedule"]["plans"].items()}
    print("%s from %s for %d days, %d ticks of %d ms" % (ix.id, start.isoformat(" ", "minutes"), args.days,
                                                       run.ticks, args.tick_ms))
    print("%-22s %-22s %8s  plan" % ("listed", "taken", "delay s"))
    for i in range(max(len(run.listed), len(run.taken))):
        listed = run.listed[i] if i < len(run.listed) else None
        taken = run.taken[i] if i < len(run.taken) else None
        when = lambda ms: (start + datetime.timedelta(milliseconds=ms)).strftime("%a %Y-%m-%d %H:%M:%S")
        print("%-22s %-22s %8s  %s" % (
            when(listed[0]) if listed else "-", when(taken[0]) if taken else "-",
            "%.1f" % ((taken[0] - listed[0]) / 1000) if listed and taken else "-",
            "%s (%d)" % (names[taken[1]], taken[1]) if taken else listed[1]))
    print("%d changes, longest delay %.1f s, conflict monitor: %s" % (
        len(run.taken), run.worst_delay_ms / 1000, "LATCHED FLASH" if run.latched else "no violation"))
    for p in run.problems:
        print("PROBLEM: " + p)
    return 0 if run.ok else 1
