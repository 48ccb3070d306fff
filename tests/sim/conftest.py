"""The RESCO benchmark nets, as the test run finds them: fetched before it, never during it.

The nets are third-party and not committed; `ampelwerk scenarios fetch`
(part of the README's test command, so of .ci/run) downloads them once into
the scenario cache ($AMPELWERK_CACHE, else ~/.cache/ampelwerk/scenarios).
Tests read that cache and never touch the network; only the test of the
download itself (marked `network`) does.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def resco_cache() -> Path:
    """The scenario cache holding every RESCO net; a clear failure naming the fix when it does not."""
    from sim.scenarios import RESCO, cache_root

    root = cache_root()
    missing = [n for n in RESCO if not (root / n / (n + ".sumocfg")).is_file()]
    if missing:
        pytest.fail("RESCO nets %s are not in the scenario cache %s: run `ampelwerk scenarios fetch` once before the "
                    "tests (the README's test command does); tests do not download" % (", ".join(missing), root),
                    pytrace=False)
    return root
