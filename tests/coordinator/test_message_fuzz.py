"""Fuzzing reports, plans and plan statuses (issue 14): a valid result or a clear refusal, never another
exception, never a hang. Inputs and property: tests/coordinator/message_fuzz.py. The slow test counts
AMPELWERK_FUZZ_INPUTS inputs per parser (default 2,000); bench/message_fuzz.py runs 100,000."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.coordinator import message_fuzz as mf

# a hang never ends; on a loaded CI machine one slow input may take several seconds, so the
# tests wait far longer than the bench's HANG_S before they call an input a hang
TEST_HANG_S = 120.0

FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(mf.payloads("report"))
def test_report_decoding_gives_a_report_in_bounds_or_names_what_is_wrong(payload: bytes) -> None:
    mf.check_report(payload)


@FAST
@given(mf.payloads("plan_status"))
def test_plan_status_decoding_gives_a_status_in_bounds_or_names_what_is_wrong(payload: bytes) -> None:
    mf.check_plan_status(payload)


_PLAN_TARGET: list = []


@FAST
@given(mf.payloads("plan"))
def test_a_controller_answers_every_plan_with_a_status_and_runs_on(payload: bytes) -> None:
    if not _PLAN_TARGET:
        _PLAN_TARGET.append(mf.PlanTarget())
    _PLAN_TARGET[0].check(payload)


def test_the_coordinator_survives_any_message_from_one_controller_and_plans_for_all() -> None:
    tally = mf.run_counted("service", 600, seed=3, hang_s=TEST_HANG_S)
    assert tally.inputs == 600 and tally.tracebacks == 0 and tally.hangs == 0, tally.first
    assert tally.refused > 300  # most generated messages are bad input, counted for J3


@FAST
@given(mf.valid_report())
def test_every_unmutated_report_is_accepted(d: dict) -> None:
    # the generators start from valid messages: unmutated ones must pass, or the fuzzing proves little
    assert mf.check_report(mf.json.dumps(d).encode()) == "accepted"


@FAST
@given(mf.valid_status())
def test_every_unmutated_plan_status_is_accepted(d: dict) -> None:
    assert mf.check_plan_status(mf.json.dumps(d).encode()) == "accepted"


def test_an_unmutated_plan_in_its_window_is_accepted() -> None:
    assert mf.PlanTarget().check(mf.in_window_plan()) == "accepted"


def test_counted_runs_both_accept_and_refuse() -> None:
    for parser in ("report", "plan", "plan_status"):
        tally = mf.run_counted(parser, 400, seed=5, hang_s=TEST_HANG_S)
        assert tally.tracebacks == 0 and tally.hangs == 0, tally.first
        # how many mutated plans land in the gate's window depends on hypothesis's draws; some always do
        assert tally.accepted >= 1 and tally.refused >= 100, tally.line()


@pytest.mark.slow
@pytest.mark.parametrize("parser", mf.PARSERS)
def test_counted_fuzz_run_gives_no_traceback_and_no_hang(parser: str) -> None:
    n = int(os.environ.get("AMPELWERK_FUZZ_INPUTS", "2000"))
    tally = mf.run_counted(parser, n, seed=11, hang_s=TEST_HANG_S)
    print(tally.line())
    assert tally.inputs == n and tally.tracebacks == 0 and tally.hangs == 0, "\n".join(tally.first)
