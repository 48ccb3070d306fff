"""Fuzz benchmark of the coordination messages: N generated inputs per parser, every outcome counted.

    python bench/message_fuzz.py                      # 100,000 per parser: report, plan, plan_status, service
    python bench/message_fuzz.py --inputs 5000 --parsers report,plan

Inputs and the property each parser must keep are in tests/coordinator/message_fuzz.py (the same code the
fuzz tests run): a valid result within the bounds, or a refusal naming what is wrong; an exception of any
other kind counts as a traceback (the first three are printed), an input that takes over 10 s as a hang.
Prints one line per parser and exits 1 unless every parser gave 0 tracebacks and 0 hangs.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.coordinator import message_fuzz as mf  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", type=int, default=100000, help="generated inputs per parser (default 100000)")
    ap.add_argument("--parsers", default=",".join(mf.PARSERS), help="comma-separated: %s" % ", ".join(mf.PARSERS))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    parsers = [p for p in args.parsers.split(",") if p]
    unknown = [p for p in parsers if p not in mf.PARSERS]
    if unknown or args.inputs < 1:
        ap.error("unknown parser %s (known: %s)" % (", ".join(unknown), ", ".join(mf.PARSERS)) if unknown
                 else "--inputs must be 1 or more")
    print("message fuzz, %d inputs per parser, seed %d; Python %s, %s" % (
        args.inputs, args.seed, platform.python_version(), platform.machine()))
    ok = True
    for parser in parsers:
        t0 = time.perf_counter()
        tally = mf.run_counted(parser, args.inputs, args.seed,
                               progress=lambda t: print("  %s: %d ..." % (t.parser, t.inputs), flush=True))
        print("%s  (%.0f s)" % (tally.line(), time.perf_counter() - t0), flush=True)
        for text in tally.first:
            print(text)
        ok = ok and tally.inputs == args.inputs and tally.tracebacks == 0 and tally.hangs == 0
    print("result: %s" % ("0 tracebacks, 0 hangs" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
