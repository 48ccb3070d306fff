"""Priority in SUMO (docs/priority.md): the emergency and bus demand, the class loops (vTypes), the
per-class delay, the with/without study table and the per-junction view."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sim.class_metrics import class_metrics, class_rows
from sim.priority_demand import PriorityDemand, PriorityDemandError, bus_lines, parse_classes, write_priority_demand
from sim.priority_loops import CHECK_IN_M
from sim.priority_study import study_rows
from sim.scenarios import read_sumocfg, resolve



def _vehicles(path: Path) -> list[ET.Element]:
    return list(ET.parse(path).getroot().iter("vehicle"))


def test_demand_is_deterministic_for_a_seed_and_holds_both_classes(tmp_path):
    cfg = resolve("single4")
    a, b, c = tmp_path / "a.xml", tmp_path / "b.xml", tmp_path / "c.xml"
    counts = write_priority_demand(cfg, PriorityDemand(), 1, 0, 3600, a)
    write_priority_demand(cfg, PriorityDemand(), 1, 0, 3600, b)
    write_priority_demand(cfg, PriorityDemand(), 2, 0, 3600, c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    root = ET.parse(a).getroot()
    assert {t.get("id"): t.get("vClass") for t in root.iter("vType")} == {"ems": "emergency", "bus": "bus"}
    veh = _vehicles(a)
    # 2 per hour on each of single4's 4 approaches; 2 bus lines every 480 s over the hour (7 or 8 each)
    assert counts["ems"] == 8 == sum(v.get("type") == "ems" for v in veh)
    assert 14 <= counts["bus"] == sum(v.get("type") == "bus" for v in veh) <= 16
    departs = [float(v.get("depart")) for v in veh]
    assert departs == sorted(departs) and 0 <= min(departs) and max(departs) < 3600
    # emergency vehicles not in the last 5 minutes; every route crosses the junction (its bay edge to an exit)
    assert all(float(v.get("depart")) < 3300 for v in veh if v.get("type") == "ems")
    assert all("_bay" in v.find("route").get("edges") for v in veh)
    # straight through the junction only: the check-in asks for the approach's through stage
    through = {"N_bay S_exit", "S_bay N_exit", "E_bay W_exit", "W_bay E_exit"}
    assert all(any(t in v.find("route").get("edges") for t in through) for v in veh)


def test_buses_run_on_the_busiest_through_routes_one_per_entry():
    import sumolib

    from sim.priority_demand import signal_routes

    cfg = read_sumocfg(resolve("arterial5"))
    net = sumolib.net.readNet(str(cfg.net_file))
    lines = bus_lines(signal_routes(net, cfg.route_files, "bus"), 2)
    # the two arterial through routes: all five crossings, both directions
    assert [x.lights for x in lines] == [5, 5]
    assert {x.edges[0] for x in lines} == {"A0_J1", "A6_J5"}


def test_bad_demand_names_field_value_and_range():
    with pytest.raises(PriorityDemandError) as e:
        PriorityDemand(classes=("ems", "tram"), ems_per_hour=0, bus_headway_s=10).check()
    msg = str(e.value)
    assert "'tram'" in msg and "ems_per_hour=0" in msg and "bus_headway_s=10 s is outside 60..3600 s" in msg
    assert parse_classes("bus, ems,bus") == ("bus", "ems")


@pytest.mark.sumo
def test_a_scenario_vtype_is_reused_not_defined_again(tmp_path, resco_cache):
    # Ingolstadt's route file defines vType "bus": the demand's buses use it (loaded after it)
    out = tmp_path / "p.xml"
    cfg = read_sumocfg(resolve("ingolstadt1"))
    write_priority_demand(cfg.path, PriorityDemand(classes=("bus",)), 1, cfg.begin_s, cfg.end_s, out)
    root = ET.parse(out).getroot()
    assert [t.get("id") for t in root.iter("vType")] == []
    assert _vehicles(out) and all(v.get("type") == "bus" for v in _vehicles(out))


def _single4_class_loops(tmp_path: Path, classes=("ems", "bus")):
    import sumolib

    from sim.detector_layout import write_additional
    from sim.net_import import build_config, link_connections
    from sim.priority_loops import add_priority

    net = sumolib.net.readNet(str(read_sumocfg(resolve("single4")).net_file), withPrograms=True,
                              withPedestrianConnections=True)
    tls = net.getTLS("C")
    raw, _placements = build_config(net, tls, "C", red_clearance_ms=0, default_min_green_ms=5000,
                                    default_max_green_ms=45000, advance_m=40.0)
    loops = add_priority(net, "C", raw, link_connections(tls), classes)
    write_additional(loops, tmp_path / "class.add.xml")
    return net, raw, loops


def test_class_loops_carry_vtypes_and_sit_where_the_rules_say(tmp_path):
    net, raw, loops = _single4_class_loops(tmp_path)
    in_file = {el.get("id"): el for el in ET.parse(tmp_path / "class.add.xml").getroot().iter("inductionLoop")}
    assert set(in_file) == {p.id for p in loops}
    for p in loops:
        cls = "ems" if "_ems_" in p.id else "bus"
        assert in_file[p.id].get("vTypes") == cls
        entry = next(d for d in raw["detectors"] if d["id"] == p.id)
        assert entry["priority_class"] == cls and entry["kind"] == p.kind and entry["vehicle_classes"] == [cls]
    check_in = [p for p in loops if p.kind == "check_in"]
    check_out = [p for p in loops if p.kind == "check_out"]
    # every approach lane's loop 150 m upstream, on the 325 m lane before the bay (both lanes of the bay continue
    # there); the left bay's lane shares the loop of the lane feeding it
    assert {p.lane for p in check_in if "_bus_" in p.id} == {"N_in_0", "N_in_1", "S_in_0", "S_in_1", "E_in_0", "W_in_0"}
    assert all(p.distance_m == pytest.approx(CHECK_IN_M) for p in check_in)
    # check-out 5 m past the junction on every exit lane
    assert {p.lane for p in check_out if "_bus_" in p.id} == {"N_exit_0", "N_exit_1", "S_exit_0", "S_exit_1",
                                                               "E_exit_0", "W_exit_0"}
    assert all(p.pos_m == 5.0 for p in check_out)
    # the stage: the one serving the approach's through movement (S1 north-south, S3 east-west)
    stage = {d["id"]: d.get("stage") for d in raw["detectors"] if d["kind"] == "check_in"}
    assert {stage[p.id] for p in check_in if p.approach in ("N_bay", "S_bay")} == {"S1"}
    assert {stage[p.id] for p in check_in if p.approach in ("E_bay", "W_bay")} == {"S3"}
    kinds = {c["id"]: c["kind"] for c in raw["priority"]["classes"]}
    assert kinds == {"ems": "emergency", "bus": "transit"}


@pytest.mark.sumo
def test_sumo_class_loops_see_only_their_class(tmp_path):
    """SUMO with the class loops and the demand: a bus loop sees buses and nothing else, an ems loop ems."""
    from sim import sumo_session

    _net, _raw, loops = _single4_class_loops(tmp_path)
    cfg = read_sumocfg(resolve("single4"))
    demand = tmp_path / "priority.rou.xml"
    write_priority_demand(cfg.path, PriorityDemand(ems_per_hour=6), 1, 0, 900, demand)
    conn = sumo_session.start(["-c", str(cfg.path), "--end", "900", "--no-step-log", "true",
                               "--route-files", ",".join([str(p) for p in cfg.route_files] + [str(demand)]),
                               "--additional-files", str(tmp_path / "class.add.xml")])
    seen: dict[str, set[str]] = {}
    try:
        while conn.simulation.getTime() < 900:
            conn.simulationStep()
            for p in loops:
                for v in conn.inductionloop.getVehicleData(p.id):
                    seen.setdefault(p.id, set()).add(v[4])
    finally:
        sumo_session.close(conn)
    bus = {t for lid, ts in seen.items() if "_bus_" in lid for t in ts}
    ems = {t for lid, ts in seen.items() if "_ems_" in lid for t in ts}
    assert bus == {"bus"} and ems == {"ems"}
    assert any(lid.endswith("_bus_in") for lid in seen) and any(lid.endswith("_bus_out") for lid in seen)


@pytest.mark.sumo
@pytest.mark.slow
def test_a_bus_check_in_reaches_the_cores_detector(tmp_path):
    """A short run with priority: the bus check-in loop's presence is a 1 in the core's input at that detector,
    the emergency vehicles' check-ins bring preemption dwells, and the signals stay safe."""
    from controller.core import Controller
    from sim.runner import RunOptions, run

    on: dict[str, int] = {}

    class Watching(Controller):
        def step(self, elapsed_ms, presence):
            for j, det in enumerate(self.ix.detector_ids):
                if presence[j] and det.endswith("_bus_in"):
                    on[det] = on.get(det, 0) + 1
            return Controller.step(self, elapsed_ms, presence)

    s = run(RunOptions(scenario=resolve("single4"), controller="ampelwerk-actuated", out_dir=tmp_path, end=900,
                       progress=False, priority_demand=PriorityDemand(ems_per_hour=6), priority=("ems", "bus")),
            controller_factory=lambda tls, ix: Watching(ix, "actuated"))
    assert s["priority_vehicles"]["bus"] >= 2
    assert on, "no bus check-in loop was ever on at the core"
    assert s["signal_check"]["violations"] == 0 and not s["monitor_flash"]
    passed = [r.split(",") for r in (tmp_path / "priority_loops.csv").read_text().splitlines()[1:]]
    assert {r[5] for r in passed if "_bus_" in r[2]} == {"bus"} and {r[5] for r in passed if "_ems_" in r[2]} == {"ems"}
    ems_in = {r[4] for r in passed if r[3] == "check_in" and r[5] == "ems"}
    assert len(ems_in) >= 2
    events = (tmp_path / "events.csv").read_text()
    assert events.count(",preempt_begin_dwell") >= 1


def test_class_metrics_from_a_small_tripinfo(tmp_path):
    trip = tmp_path / "tripinfo.xml"
    trip.write_text("""<tripinfos>
    <tripinfo id="c1" vType="car" depart="0" departDelay="2" arrival="40" duration="40" waitingTime="5" timeLoss="10"/>
    <tripinfo id="c2" vType="pkw" depart="5" departDelay="0" arrival="-1" duration="30" waitingTime="9" timeLoss="20"/>
    <tripinfo id="b1" vType="bus" depart="0" departDelay="1" arrival="60" duration="60" waitingTime="8" timeLoss="15"/>
    <tripinfo id="e1" vType="ems" depart="3" departDelay="0" arrival="30" duration="27" waitingTime="0" timeLoss="4"/>
    <tripinfo id="e2" vType="ems" depart="-1" departDelay="12" arrival="-1" duration="0" waitingTime="0" timeLoss="0"/>
</tripinfos>
""")
    m = class_metrics(trip)
    assert set(m) == {"car", "bus", "emergency"}
    # car: (10 + 2 + 20 + 0) / 2; bus: 15 + 1; emergency: (4 + 0 + 12 never inserted) / 2
    assert m["car"]["delay_s"] == pytest.approx(16.0) and m["car"]["running_at_end"] == 1
    assert m["bus"]["delay_s"] == pytest.approx(16.0) and m["bus"]["mean_waiting_time_s"] == pytest.approx(8.0)
    assert m["emergency"]["delay_s"] == pytest.approx(8.0) and m["emergency"]["never_inserted"] == 1
    # a run of cars only has no per-class figures
    trip.write_text('<tripinfos><tripinfo id="c" vType="car" depart="0" departDelay="0" arrival="9" timeLoss="1"/>'
                    '</tripinfos>')
    assert class_metrics(trip) == {}


def test_study_rows_give_the_change_per_class():
    def run(variant_delay):
        return {"scenario": "/x/single4.sumocfg", "controller": "ampelwerk-actuated", "seed": 1,
                "classes": {c: {"vehicles_scheduled": 10, "delay_s": d, "mean_waiting_time_s": 0, "arrived": 10,
                                "running_at_end": 0, "never_inserted": 0} for c, d in variant_delay.items()}}
    rows = class_rows([run({"car": 20.0, "emergency": 30.0})], "without") + class_rows(
        [run({"car": 22.0, "emergency": 6.0})], "with")
    study = {r["class"]: r for r in study_rows(rows)}
    assert study["emergency"]["delay_without_s"] == 30.0 and study["emergency"]["delay_with_s"] == 6.0
    assert study["emergency"]["change_s"] == -24.0 and study["emergency"]["change_pct"] == -80.0
    assert study["car"]["change_s"] == 2.0 and study["car"]["change_pct"] == 10.0


def test_junction_view_marks_check_in_and_passage(tmp_path):
    from sim.junction_view import build, plot

    config = {"signal_groups": [{"id": "K1"}, {"id": "K2"}], "stages": [{"id": "S1", "groups": ["K1"]},
                                                                         {"id": "S2", "groups": ["K2"]}],
              "detectors": [{"id": "in1", "kind": "check_in", "priority_class": "ems", "stage": "S2"}],
              "source": {"sumo": {"group_links": {"K1": [0], "K2": [1]}}}}
    (tmp_path / "C.json").write_text(json.dumps(config))
    (tmp_path / "summary.json").write_text(json.dumps({"configs": {"C": str(tmp_path / "C.json")}}))
    (tmp_path / "signals.csv").write_text("time_s,tls_id,state\n0.000,C,Gr\n100.000,C,yr\n103.000,C,rr\n"
                                          "105.000,C,rG\n130.000,C,ry\n")
    (tmp_path / "priority_loops.csv").write_text(
        "time_s,tls_id,loop_id,kind,vehicle_id,vtype\n90.00,C,in1,check_in,b0,bus\n98.50,C,in1,check_in,e0,ems\n"
        "112.00,C,out1,check_out,e0,ems\n")
    v = build(tmp_path)
    assert (v.vehicle, v.check_in_s, v.check_out_s, v.stage, v.stage_groups) == ("e0", 98.5, 112.0, "S2", ["K2"])
    assert v.groups["K2"] == [(58.5, 105.0, "red"), (105.0, 130.0, "green"), (130.0, 152.0, "yellow")]
    assert v.groups["K1"][0] == (58.5, 100.0, "green")
    png = plot(v, tmp_path / "view.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.sumo
@pytest.mark.slow
def test_study_without_priority_runs_end_to_end(tmp_path):
    """The study's pipeline on the bundled single4, both halves:
    per-class rows in study.csv, the same demand in every variant, a clean signal check."""
    import csv

    from sim.priority_study import run_study
    from sim.runner import RunOptions

    template = RunOptions(scenario=resolve("single4"), controller="ampelwerk-actuated", out_dir=tmp_path, end=600,
                          progress=False, priority_demand=PriorityDemand(ems_per_hour=6))
    study, failures = run_study([resolve("single4")], "ampelwerk-actuated", [1], tmp_path, template, ("ems", "bus"),
                                jobs=1, log=lambda *a: None)
    assert failures == []
    rows = list(csv.DictReader((tmp_path / "study.csv").read_text().splitlines()))
    assert [r["class"] for r in rows] == ["car", "bus", "emergency"]
    assert all(float(r["delay_without_s"]) > 0 for r in rows)
    runs = sorted(tmp_path.glob("*/single4/ampelwerk-actuated/seed1"))
    demands = {(d / "priority.rou.xml").read_bytes() for d in runs}
    assert len(demands) == 1  # with and without carry the same vehicles
    for d in runs:
        assert json.loads((d / "summary.json").read_text())["signal_check"]["violations"] == 0
    assert all(r["delay_with_s"] != "" for r in rows)
