"""Fuzz every parser a user or a device reaches, N generated inputs each, and print what came out.

    python bench/fuzz_parsers.py [--count 100000] [--parsers config,corridor,trace,board,host] [--seed S]

Parsers (generators and checks in tests/fuzz_inputs.py, the same the fuzz
tests use with a few hundred inputs):
  config    `ampelwerk config check` on a broken intersection config file
  corridor  both readers of a corridor file (coordinator, SUMO geometry)
  trace     `ampelwerk replay` on a broken detector trace (CSV outputs whole or none)
  board     a board's wire end fed noise and well-formed frames of any type and payload
  host      the bench's DeviceController fed any replies a board could send

For each input the outcome is "valid" (a result), "refused" (a clear error),
"broken" (a verdict that breaks the property: an error that is not one
plain line per problem, a partial output file, a result the core cannot
run), a traceback (any other exception) or a hang (no verdict within
--hang-s). The property holds when broken, tracebacks and hangs are all 0;
the exit status is 1 otherwise. Examples of each traceback kind are
printed. Figures go to the terminal, nothing is written into the repo.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests import fuzz_inputs as fz  # noqa: E402

PARSERS = {
    "config": (fz.config_files, fz.check_config_file, None),
    "corridor": (fz.corridor_files, fz.check_corridor_file, fz.corridor_folder),
    "trace": (fz.trace_files, fz.check_trace_file, None),
    "board": (fz.board_input, fz.check_board_input, None),
    "host": (fz.board_replies, fz.check_board_replies, None),
}


def fuzz(name: str, count: int, hang_s: float, rng_seed: int) -> dict:
    """Run ``count`` generated inputs through one parser; returns the tallies."""
    strategy, check, prepare = PARSERS[name]
    tally: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    folder = Path(tempfile.mkdtemp(prefix="ampelwerk-fuzz-%s-" % name))
    if prepare is not None:
        prepare(folder)

    @seed(rng_seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy())
    def one(data) -> None:
        tally["inputs"] += 1
        try:
            with fz.no_hang(hang_s):
                tally[check(data, folder)] += 1
        except fz.Hang:
            tally["hangs"] += 1
            examples.setdefault("hang", repr(data)[:300])
        except Exception as e:  # the finding: count it, keep an example, go on
            tb = traceback.extract_tb(e.__traceback__)[-1]
            kind = "%s at %s:%d" % (type(e).__name__, Path(tb.filename).name, tb.lineno)
            # an AssertionError raised by the check itself is a verdict that broke the property
            what = "broken" if isinstance(e, AssertionError) and tb.filename == fz.__file__ else "tracebacks"
            tally[what] += 1
            tally["finding " + kind] += 1
            examples.setdefault(kind, "%s | input %s" % (str(e)[:300], repr(data)[:300]))

    t0 = time.perf_counter()
    one()
    tally["seconds"] = round(time.perf_counter() - t0)
    return {"tally": tally, "examples": examples}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100000, help="generated inputs per parser (default 100000)")
    ap.add_argument("--parsers", default=",".join(PARSERS), help="comma-separated, from: %s" % ", ".join(PARSERS))
    ap.add_argument("--hang-s", type=float, default=20.0, help="no verdict within this many seconds is a hang")
    ap.add_argument("--seed", type=int, default=14, help="hypothesis seed (default 14)")
    args = ap.parse_args()
    names = [n.strip() for n in args.parsers.split(",") if n.strip()]
    bad = [n for n in names if n not in PARSERS]
    if bad:
        ap.error("unknown parser %s (known: %s)" % (", ".join(bad), ", ".join(PARSERS)))
    failed = False
    print("%-9s %9s %9s %9s %7s %10s %6s %8s" % ("parser", "inputs", "valid", "refused", "broken", "tracebacks", "hangs",
                                                "seconds"))
    for name in names:
        r = fuzz(name, args.count, args.hang_s, args.seed)
        t = r["tally"]
        print("%-9s %9d %9d %9d %7d %10d %6d %8d" % (name, t["inputs"], t["valid"], t["refused"], t["broken"],
                                                      t["tracebacks"], t["hangs"], t["seconds"]), flush=True)
        for kind, n in sorted((k, v) for k, v in t.items() if k.startswith("finding ")):
            print("    %d x %s: %s" % (n, kind[len("finding "):], r["examples"].get(kind[len("finding "):])))
        if t["hangs"]:
            print("    hang example: %s" % r["examples"]["hang"])
        failed |= bool(t["broken"] or t["tracebacks"] or t["hangs"]) or t["inputs"] < args.count
        if t["inputs"] < args.count:
            print("    only %d of %d inputs were generated" % (t["inputs"], args.count))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
