"""``ampelwerk scenarios list|fetch|suite``: bundled SUMO scenarios, the RESCO cache, the generated suite."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="SUMO scenarios: bundled ones, the RESCO benchmark nets, the generated suite")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)
    ls = verbs.add_parser("list", help="bundled and fetched scenarios with traffic lights and time window")
    ls.add_argument("--cache", type=Path, help="RESCO cache (default: $AMPELWERK_CACHE or ~/.cache/ampelwerk/scenarios)")
    ls.set_defaults(func=list_scenarios)
    f = verbs.add_parser("fetch", help="download the RESCO nets (from the sumo-rl wheel, with pip) into the cache")
    f.add_argument("--cache", type=Path, help="where to put them (default: $AMPELWERK_CACHE or ~/.cache/ampelwerk/scenarios)")
    f.add_argument("--force", action="store_true", help="download again even if present")
    f.set_defaults(func=fetch_scenarios)
    g = verbs.add_parser("suite", help="build the generated network suite (SUMO's netgenerate, randomTrips.py, "
                                       "jtrrouter) into the cache")
    g.add_argument("--cache", type=Path, help="where to put it (default: $AMPELWERK_CACHE or ~/.cache/ampelwerk/scenarios)")
    g.add_argument("--names", default="all", help="all (default), tuning, validation or a comma-separated list of nets")
    g.add_argument("--force", action="store_true", help="build again even if present")
    g.add_argument("--verify", action="store_true",
                   help="rebuild in a temporary directory and compare every file's sha256 with the cache")
    g.add_argument("--list", action="store_true", help="only list the nets, their half and how they are made")
    g.set_defaults(func=suite_scenarios)


def list_scenarios(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from sim import suite
    from sim.scenarios import RESCO, ScenarioError, available, cache_root

    try:
        found = available(args.cache)
    except ScenarioError as e:
        raise UserError(str(e)) from None
    print("%-26s %-16s %5s  %-12s %s" % ("scenario", "origin", "tls", "window (s)", "sumocfg"))
    for s in found:
        window = "%g-%s" % (s.begin_s, "%g" % s.end_s if s.end_s is not None else "end")
        print("%-26s %-16s %5d  %-12s %s" % (s.name, s.origin, s.traffic_lights, window, s.sumocfg))
    missing = [n for n in RESCO if n not in {s.name for s in found}]
    if missing:
        print("not fetched (%s): %s; run `ampelwerk scenarios fetch`" % (cache_root(args.cache), ", ".join(missing)))
    unbuilt = [n for n in suite.NAMES if n not in {s.name for s in found}]
    if unbuilt:
        print("not built (%s): %d of %d suite nets; run `ampelwerk scenarios suite`" % (
            suite.suite_root(args.cache), len(unbuilt), len(suite.NAMES)))
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


def _suite_names(text: str) -> tuple[str, ...]:
    from ampelwerk.cli import UserError
    from sim import suite

    if text in ("all", "tuning", "validation"):
        return {"all": suite.NAMES, "tuning": suite.TUNING, "validation": suite.VALIDATION}[text]
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in suite.NAMES]
    if bad or not names:
        raise UserError("--names=%r: unknown suite net %s (known: all, tuning, validation, %s)"
                        % (text, ", ".join(bad) or "''", ", ".join(suite.NAMES)))
    return names


def suite_scenarios(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from sim import suite
    from sim.scenarios import ScenarioError

    names = _suite_names(args.names)
    if args.list:
        for d in suite.describe():
            if d["name"] in names:
                print("%-28s %-10s %s; %s" % (d["name"], d["half"], d["what"], d["demand"]))
        return 0
    try:
        if args.verify:
            result = suite.verify(names, args.cache)
            combined = hashlib.sha256()
            for name, (same, hashes) in result.items():
                for f, h in hashes.items():
                    combined.update(("%s/%s %s\n" % (name, f, h)).encode())
                print("%-28s %s" % (name, "identical" if same else "DIFFERS from the cache"))
            bad = [n for n, (same, _) in result.items() if not same]
            print("%d of %d nets rebuilt byte-identically; sha256 over every file of the rebuild: %s"
                  % (len(result) - len(bad), len(result), combined.hexdigest()))
            return 1 if bad else 0
        built = suite.build(names, args.cache, force=args.force)
    except ScenarioError as e:
        raise UserError(str(e)) from None
    if not built:
        print("all %d suite nets already in %s (use --force to build again)" % (len(names), suite.suite_root(args.cache)))
    else:
        print("built %d suite nets into %s" % (len(built), suite.suite_root(args.cache)))
    return 0
