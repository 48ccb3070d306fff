"""Fuzzing every parser a user reaches from the command line (hypothesis): a
valid result or a clear error, never another exception, a hang or partial
output files. A few hundred inputs each here (AMPELWERK_FUZZ_EXAMPLES to
change that); bench/fuzz_parsers.py runs 100,000 per parser and prints the
counts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests import fuzz_inputs as fz

EXAMPLES = int(os.environ.get("AMPELWERK_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(fz.config_files())
def test_config_check_gives_a_verdict_for_any_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        assert fz.check_config_file(data, Path(d)) in ("valid", "refused")


@FUZZ
@given(fz.corridor_files())
def test_corridor_files_give_corridors_or_every_problem(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        assert fz.check_corridor_file(data, fz.corridor_folder(Path(d))) in ("valid", "refused")


@FUZZ
@given(fz.trace_files())
def test_replay_writes_both_csvs_whole_or_nothing(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        assert fz.check_trace_file(data, Path(d)) in ("valid", "refused")


def test_a_hang_whose_alarm_is_swallowed_still_counts() -> None:
    # the alarm can go off inside a gc callback, which prints "Exception ignored" and goes on
    import time

    with pytest.raises(fz.Hang, match="swallowed"):
        with fz.no_hang(0.05):
            try:
                time.sleep(1)
            except fz.Hang:
                pass
