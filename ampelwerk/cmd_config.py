"""``ampelwerk config check FILE``: validate intersection configs."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="intersection configs")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)
    c = verbs.add_parser("check", help="validate configs; lists every problem, exit 1 if any")
    c.add_argument("files", nargs="+", metavar="FILE", help="intersection config JSON")
    c.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    c.set_defaults(func=check)


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
            print("%s: ok (%s: %d signal groups, %d stages, %d detectors, strategy %s)" % (
                path, ix.id, ix.n_groups, ix.n_stages, ix.n_detectors, ix.strategy))
    return 1 if bad else 0
