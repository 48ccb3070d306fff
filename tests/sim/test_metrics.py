"""Metrics against hand-written SUMO outputs with hand-computed expected values (no SUMO needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.metrics import MetricsError, approach_delays, run_metrics, trip_metrics

DATA = Path(__file__).parent / "data"


def test_delay_counts_unfinished_and_never_inserted_vehicles():
    m = trip_metrics(DATA / "tripinfo_small.xml")
    # in the window: a, b (arrived), c (driving at the end), d (never inserted); e is scheduled after the end
    # a: 10 + 2 = 12; b: 20 + 0 = 20; c: 16 + 4 = 20; d: end - scheduled = departDelay 30
    # (12 + 20 + 20 + 30) / 4 = 82 / 4 = 20.5
    assert m["vehicles_scheduled"] == 4
    assert m["delay_s"] == pytest.approx(20.5)
    assert (m["arrived"], m["running_at_end"], m["never_inserted"]) == (2, 1, 1)
    # duration and waiting time over arrived vehicles: (40 + 50) / 2, (5 + 15) / 2
    assert m["mean_trip_duration_s"] == pytest.approx(45.0)
    assert m["mean_waiting_time_s"] == pytest.approx(10.0)


def test_run_metrics_reads_statistics_and_approaches(tmp_path):
    for name in ("tripinfo", "statistics", "edgedata"):
        (tmp_path / (name + ".xml")).write_text((DATA / (name + "_small.xml")).read_text())
    m = run_metrics(tmp_path, {"J1": ["north_in"]})
    assert (m["teleports"], m["collisions"], m["emergency_braking"]) == (2, 1, 3)
    assert m["delay_s"] == pytest.approx(20.5)
    assert m["approach_delay_s"] == {"J1": {"north_in": pytest.approx(10.0)}}


def test_approach_delay_is_time_loss_per_vehicle_on_the_edge():
    d = approach_delays(DATA / "edgedata_small.xml", {"J1": ["north_in", "east_in", "unused_in"]})
    # north_in: 30 s over 2 entered + 1 departed = 10 s; east_in: 8 / 2 = 4 s; unused_in: no vehicles, left out
    assert d == {"J1": {"north_in": pytest.approx(10.0), "east_in": pytest.approx(4.0)}}


def test_missing_output_names_the_file(tmp_path):
    with pytest.raises(MetricsError, match="tripinfo.xml not found"):
        trip_metrics(tmp_path / "tripinfo.xml")
