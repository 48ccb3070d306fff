"""Fetch what the tests read that is neither in the repo nor a package of the `test` extra.

Run once before pytest (the README's test command and .ci/run do), so the
test run itself needs no network:

- the RESCO benchmark nets, from the sumo-rl wheel, into the scenario cache
  (`ampelwerk scenarios fetch`; $AMPELWERK_CACHE, else
  ~/.cache/ampelwerk/scenarios);
- the MicroPython stubs of each board, which the board code is type-checked
  against (scripts/board_typecheck.py; $AMPELWERK_STUB_CACHE, else
  ~/.cache/ampelwerk/board-stubs).

Idempotent: what is already there is not fetched again.

    python scripts/fetch_test_inputs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import board_typecheck  # noqa: E402  (next to this script)
from sim.scenarios import RESCO, ScenarioError, cache_root, fetch  # noqa: E402


def main() -> int:
    root = cache_root()
    try:
        fetched = fetch(root)
    except ScenarioError as e:
        print("fetch_test_inputs: %s" % e, file=sys.stderr)
        return 1
    print("RESCO nets in %s: %s" % (root, "fetched " + ", ".join(fetched) if fetched else "all %d there" % len(RESCO)))
    return board_typecheck.main(["--install"])


if __name__ == "__main__":
    raise SystemExit(main())
