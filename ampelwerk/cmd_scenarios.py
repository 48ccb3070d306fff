"""``ampelwerk scenarios list|fetch``: bundled SUMO scenarios and the RESCO cache."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="SUMO scenarios: bundled ones and the RESCO benchmark nets")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)
    ls = verbs.add_parser("list", help="bundled and fetched scenarios with traffic lights and time window")
    ls.add_argument("--cache", type=Path, help="RESCO cache (default: $AMPELWERK_CACHE or ~/.cache/ampelwerk/scenarios)")
    ls.set_defaults(func=list_scenarios)
    f = verbs.add_parser("fetch", help="download the RESCO nets (from the sumo-rl wheel, with pip) into the cache")
    f.add_argument("--cache", type=Path, help="where to put them (default: $AMPELWERK_CACHE or ~/.cache/ampelwerk/scenarios)")
    f.add_argument("--force", action="store_true", help="download again even if present")
    f.set_defaults(func=fetch_scenarios)


def list_scenarios(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from sim.scenarios import RESCO, ScenarioError, available, cache_root

    try:
        found = available(args.cache)
    except ScenarioError as e:
        raise UserError(str(e)) from None
    print("%-14s %-8s %5s  %-16s %s" % ("scenario", "origin", "tls", "window (s)", "sumocfg"))
    for s in found:
        window = "%g-%s" % (s.begin_s, "%g" % s.end_s if s.end_s is not None else "end")
        print("%-14s %-8s %5d  %-16s %s" % (s.name, s.origin, s.traffic_lights, window, s.sumocfg))
    missing = [n for n in RESCO if n not in {s.name for s in found}]
    if missing:
        print("not fetched (%s): %s; run `ampelwerk scenarios fetch`" % (cache_root(args.cache), ", ".join(missing)))
    return 0


def fetch_scenarios(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from sim.scenarios import SUMO_RL, ScenarioError, cache_root, fetch

    try:
        written = fetch(args.cache, force=args.force)
    except ScenarioError as e:
        raise UserError(str(e)) from None
    if written:
        print("fetched %s from %s into %s" % (", ".join(written), SUMO_RL, cache_root(args.cache)))
    else:
        print("all RESCO scenarios already in %s (use --force to fetch again)" % cache_root(args.cache))
    return 0
