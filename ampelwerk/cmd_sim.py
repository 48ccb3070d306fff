"""``ampelwerk sim import|run|compare|timespace``: the SUMO validation commands (docs/sim.md)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


# the regional profiles (controller/config/profiles.py PROFILE_NAMES; not imported here, to keep --help fast)
PROFILE_CHOICES = ("de-rilsa", "us-mutcd", "uk", "custom")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="SUMO: import a net's traffic lights, run controllers, compare them")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True, parser_class=_DashDashParser)

    i = verbs.add_parser("import", help="turn a scenario's traffic lights into controller configs and loops")
    i.add_argument("scenario", help="bundled scenario name or .sumocfg")
    i.add_argument("--out", required=True, help="directory for the configs and the loop detector file")
    i.add_argument("--red-clearance-ms", type=int, help="red clearance of every signal group (ms; importer default)")
    i.add_argument("--advance-m", type=_positive, help="distance of the advance loop from the stop line (m; importer default)")
    i.add_argument("--sequence", choices=("fixed", "free"), default="free",
                   help="stage order: free, the strategy picks the next stage (default), or fixed, the program's, "
                        "skipping stages without demand")
    i.add_argument("--exit-loops", action="store_true",
                   help="also place an exit loop just past the junction on every outgoing lane, named by the "
                        "approach loops whose lanes lead onto it (the adaptive strategy reads blocked exits)")
    i.add_argument("--profile", choices=PROFILE_CHOICES, help="regional profile (de-rilsa, us-mutcd, uk, custom): its sequence and timings, and intergreens computed from the junction's geometry by its formula (docs/profiles/), instead of the program's yellow and all-red; also writes DIR/intergreens.csv")
    i.add_argument("--corridor", nargs="?", const="auto", metavar="auto|J1,J2,...",
                   help="also write DIR/corridor.json: the arterial found automatically (auto, the default) or over "
                        "these traffic lights in driving order")
    i.add_argument("--priority", metavar="CLASSES", type=_priority_classes,
                   help="priority classes (ems, bus; comma-separated): add their check-in and check-out loops "
                        "(vTypes-filtered) and the priority block to every config (docs/priority.md)")
    i.set_defaults(func=import_cmd)

    r = verbs.add_parser("run", help="run one controller on every traffic light of a scenario",
                         usage="ampelwerk sim run SCENARIO --controller NAME --out DIR [options] [-- SUMO options]",
                         description="Runs one controller on every traffic light; SUMO options after `--` are "
                                     "passed to SUMO as they are (e.g. -- --time-to-teleport -1).")
    r.add_argument("scenario", help="bundled scenario name or .sumocfg")
    r.add_argument("--controller", help="fixed, sumo-actuated, sumo-delay-based, max-pressure or "
                                        "ampelwerk-<strategy>; with "
                                        "--coordinated the strategy of the lights off the corridor (default "
                                        "ampelwerk-adaptive)")
    r.add_argument("--out", required=True, help="run directory (tripinfo, statistics, signals, events, summary)")
    _common(r)
    r.add_argument("--seed", type=int, default=1, help="SUMO random seed (default 1)")
    r.add_argument("--gui", action="store_true", help="watch in sumo-gui (TraCI instead of libsumo)")
    r.add_argument("--traci", action="store_true", help="use TraCI with plain sumo (the --gui code path)")
    r.add_argument("--device", metavar="PORT", help="serial URL of a board that runs one traffic light (HIL); "
                                                 "virtual:// for the virtual board")
    r.add_argument("--device-tls", metavar="ID", help="traffic light the board runs (default: the first)")
    r.add_argument("--coordinated", action="store_true",
                   help="green wave: the corridor's lights run the coordinated strategy under the corridor "
                        "coordinator, in-process (same as --controller ampelwerk-coordinated; docs/coordination.md)")
    r.add_argument("--broker", metavar="URL", help="with --coordinated: plans and reports over MQTT instead of "
                                                 "in-process: 'local' starts a private mosquitto, or "
                                                 "mqtt[s]://host:port")
    r.add_argument("--mqtt-passwords", metavar="FILE", help="with --broker URL: JSON {username: password} for "
                                                           "'coordinator' and each controller id")
    r.add_argument("--ca", metavar="FILE", help="with an mqtts:// --broker: the CA certificate to trust")
    r.add_argument("--poison-reports", metavar="ID",
                   help="with --coordinated: corridor controller ID also publishes a poisoned report (numbers too big "
                        "for a float, wrong types, not JSON, ...) every simulated second, next to its real ones; "
                        "fault injection, docs/coordination.md")
    r.add_argument("--fail-loop", action="append", default=[], metavar="ID=on|off",
                   help="make an E1 loop of the imported configs fail for the whole run: stuck on, or off (dead); "
                        "repeatable")
    r.set_defaults(func=run_cmd)

    c = verbs.add_parser("compare", help="run controllers x scenarios x seeds in parallel; table, CSV, charts")
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="bundled scenario names or .sumocfg files")
    c.add_argument("--controllers", required=True, help="comma-separated controller names")
    c.add_argument("--seeds", default="1,2,3", help="comma-separated SUMO seeds (default 1,2,3)")
    c.add_argument("--out", default="compare-out", help="output directory (default compare-out)")
    c.add_argument("--jobs", type=int, help="parallel runs: local worker processes (default: number of cores)")
    c.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the simulations on the workers of this running Dask scheduler instead of local "
                        "processes; results come back into --out (docs/sim.md, Studies on a Dask cluster)")
    _common(c)
    c.set_defaults(func=compare_cmd)

    from ampelwerk import cmd_sim_studies

    cmd_sim_studies.register(verbs)


def _finite(text: str) -> float:
    """argparse type: a finite number (nan and inf are refused, naming the value)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text) from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError("%r must be a finite number" % text)
    return v


def _positive(text: str) -> float:
    """argparse type: a positive finite number."""
    v = _finite(text)
    if v <= 0:
        raise argparse.ArgumentTypeError("%r must be a positive finite number" % text)
    return v


def _priority_classes(text: str) -> tuple[str, ...]:
    """argparse type: comma-separated priority classes (ems, bus)."""
    from sim.priority_demand import PriorityDemandError, parse_classes

    try:
        return parse_classes(text)
    except PriorityDemandError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class _DashDashParser(argparse.ArgumentParser):
    """Sub-parser that hands everything after `--` to SUMO (as ``args.sumo_options``)."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        args = list(args or [])
        extra: list[str] = []
        if "--" in args:
            i = args.index("--")
            args, extra = args[:i], args[i + 1:]
        ns, rest = super().parse_known_args(args, namespace)
        ns.sumo_options = extra
        return ns, rest


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--begin", type=_finite, help="simulation begin (s; default: the scenario's)")
    p.add_argument("--end", type=_finite, help="simulation end (s; default: the scenario's, else 3600)")
    p.add_argument("--step-length", type=_positive, default=1.0, help="SUMO step length (s, default 1.0)")
    p.add_argument("--tick-ms", type=int, default=100, help="core tick (ms, default 100; must divide the step)")
    p.add_argument("--merge-ticks", action="store_true",
                   help="step runs of ticks without a loop change as one longer tick (faster; decisions due inside "
                        "a run are taken at its end)")
    p.add_argument("--scale", type=_positive, default=1.0,
                   help="demand scale factor passed to SUMO: a positive finite number (default 1.0)")
    p.add_argument("--sequence", choices=("fixed", "free"), default="free",
                   help="stage order of the imported configs for ampelwerk-* controllers: free, the strategy picks "
                        "the next stage (default), or fixed, the program's, skipping stages without demand")
    p.add_argument("--exit-loops", action="store_true",
                   help="import with exit loops past each junction (as `sim import --exit-loops`): ampelwerk-adaptive "
                        "then keeps greens from blocked exits")
    p.add_argument("--profile", choices=PROFILE_CHOICES,
                   help="import the configs of ampelwerk-* controllers with this regional profile (de-rilsa, us-mutcd, uk, custom): its sequence and timings, and intergreens computed from the junction's geometry by its formula (docs/profiles/), instead of the program's yellow and all-red")
    p.add_argument("--corridor", metavar="FILE", help="corridor file (`sim import ... --corridor`): SUMO writes the "
                                                      "corridor's vehicles (fcd.xml), summary.json gets arterial metrics")
    p.add_argument("--start", default="2026-12-07T06:00", metavar="YYYY-MM-DDTHH:MM",
                   help="local date and time at simulation time 0, handed to the cores for their time-of-day "
                        "programs (default: %(default)s, a Monday morning)")
    p.add_argument("--schedule", metavar="FILE", help="a time-of-day and week program (JSON: a schedule block, "
                                                      "docs/schedules.md) run by every ampelwerk-* core; until its "
                                                      "first plan the --controller strategy runs")
    p.add_argument("--priority-demand", metavar="CLASSES", type=_priority_classes,
                   help="add emergency vehicles (ems) and/or buses (bus) to the scenario's demand, drawn from --seed "
                        "(docs/priority.md); summary.json then has the delay per class")
    p.add_argument("--ems-per-hour", type=_positive, default=2.0,
                   help="with --priority-demand ems: emergency vehicles per approach and hour (default 2)")
    p.add_argument("--bus-headway-s", type=_positive, default=480.0,
                   help="with --priority-demand bus: seconds between buses of a line (default 480)")
    p.add_argument("--priority", metavar="CLASSES", type=_priority_classes,
                   help="ampelwerk-* controllers: import with these classes' check-in/out loops and priority block "
                        "(as `sim import --priority`)")


def _corridor_file(args: argparse.Namespace, scenario: Path) -> Path | None:
    """--corridor FILE, checked: readable, with SUMO geometry, and drawn from this scenario's net."""
    from ampelwerk.cli import UserError
    from sim.arterial_metrics import ArterialMetricsError, edges_missing_from, load_geometry

    if not getattr(args, "corridor", None):
        return None
    path = Path(args.corridor).resolve()
    try:
        missing = edges_missing_from(load_geometry(path), scenario)
    except ArterialMetricsError as e:
        raise UserError("--corridor=%s: %s" % (args.corridor, e)) from None
    if missing:
        raise UserError("--corridor=%s is not a corridor of %s: its net has no edge %s%s; write one with `ampelwerk "
                        "sim import %s --out DIR --corridor`" % (args.corridor, scenario.name, ", ".join(missing[:3]),
                                                                 " ..." if len(missing) > 3 else "", scenario))
    return path


def _scenario(name: str) -> Path:
    """The scenario's .sumocfg, its net checked before SUMO or sumolib meets it (sim/net_check.py)."""
    from ampelwerk.cli import UserError
    from sim.net_check import check_net
    from sim.scenarios import ScenarioError, read_sumocfg, resolve

    try:
        path = Path(resolve(name))
        check_net(read_sumocfg(path).net_file)
        return path
    except ScenarioError as e:
        raise UserError(str(e)) from None


def _controllers(text: str) -> list[str]:
    from ampelwerk.cli import UserError
    from sim.runner import controller_names

    names = [c.strip() for c in text.split(",") if c.strip()]
    bad = [c for c in names if c not in controller_names()]
    if bad or not names:
        raise UserError("unknown controller %s (known: %s)" % (", ".join(bad) or "''", ", ".join(controller_names())))
    return names


def _priority_demand(args: argparse.Namespace):
    """--priority-demand and its rates as a sim.priority_demand.PriorityDemand (None without it)."""
    from ampelwerk.cli import UserError
    from sim.priority_demand import PriorityDemand, PriorityDemandError

    if not args.priority_demand:
        return None
    demand = PriorityDemand(classes=args.priority_demand, ems_per_hour=args.ems_per_hour,
                            bus_headway_s=args.bus_headway_s)
    try:
        demand.check()
    except PriorityDemandError as e:
        raise UserError(str(e)) from None
    return demand


# SUMO options every run sets itself (sim/runner.py), and what to use instead; given again after `--`,
# SUMO would stop with "A value for the option ... was already set".
_SET_BY_RUN = {
    "-c": "the scenario argument", "--configuration-file": "the scenario argument",
    "--seed": "--seed before `--`", "-b": "--begin before `--`", "--begin": "--begin before `--`",
    "-e": "--end before `--`", "--end": "--end before `--`", "--step-length": "--step-length before `--`",
    "--scale": "--scale before `--`",
    "--tripinfo-output": "the file ampelwerk writes to --out", "--statistic-output": "the file ampelwerk writes to --out",
    "--edgedata-output": "the file ampelwerk writes to --out", "--fcd-output": "the file ampelwerk writes to --out",
}


def _sumo_extras(args: argparse.Namespace) -> list[str]:
    """The options after `--`, refused where the run sets the same option itself."""
    from ampelwerk.cli import UserError

    extra = list(getattr(args, "sumo_options", None) or [])
    for opt in extra:
        name = opt.split("=", 1)[0]
        if name in _SET_BY_RUN:
            raise UserError("SUMO option %s after `--` is set by ampelwerk for every run; use %s" % (
                name, _SET_BY_RUN[name]))
    return extra


def _options(args: argparse.Namespace, scenario: Path, controller: str, out: Path):
    from ampelwerk.cli import UserError
    from sim.runner import RunOptions

    extra = _sumo_extras(args)
    if args.step_length <= 0:
        raise UserError("--step-length=%g s must be positive" % args.step_length)
    if args.scale <= 0:
        raise UserError("--scale=%g must be positive" % args.scale)
    failed = {}
    for item in getattr(args, "fail_loop", None) or []:
        loop, _, how = item.partition("=")
        if not loop or how not in ("on", "off"):
            raise UserError("--fail-loop=%r: expected LOOP_ID=on or LOOP_ID=off" % item)
        failed[loop] = 1 if how == "on" else 0
    return RunOptions(scenario=scenario, controller=controller, out_dir=out, seed=getattr(args, "seed", 1),
                      failed_loops=failed, priority_demand=_priority_demand(args), priority=args.priority or (),
                      begin=args.begin, end=args.end, step_length=args.step_length, tick_ms=args.tick_ms,
                      merge_ticks=args.merge_ticks, sequence=args.sequence,
                      exit_loops=args.exit_loops, profile=getattr(args, "profile", None),
                      scale=args.scale, gui=getattr(args, "gui", False), use_traci=getattr(args, "traci", False),
                      sumo_options=extra, corridor_file=_corridor_file(args, scenario),
                      start=args.start, schedule_file=Path(args.schedule) if args.schedule else None)


# what each verb's output directory held before it had a marker (ampelwerk/outputs.py):
# the first pattern must be there, and nothing else than these
IMPORT_OUTPUTS = ("detectors.add.xml", "*.json", "intergreens.csv")
RUN_OUTPUTS = ("signals.csv", "*.xml", "*.csv", "*.json", "*.txt", "import", "*.log")
COMPARE_OUTPUTS = ("runs.csv", "*.md", "*.csv", "*.json", "*.png", "*")


def import_cmd(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from ampelwerk.outputs import refuse_inputs_inside, staged_dir
    from sim.net_import import import_command
    from sim.scenarios import ScenarioError

    given = {k: v for k, v in (("red_clearance_ms", args.red_clearance_ms), ("advance_m", args.advance_m),
                               ("sequence", args.sequence), ("exit_loops", args.exit_loops),
                               ("profile", args.profile), ("priority", args.priority)) if v is not None}
    out = Path(args.out)
    scenario = _scenario(args.scenario)
    refuse_inputs_inside(out, [scenario])
    try:
        # configs and corridor.json appear together or not at all (a bad --corridor leaves nothing)
        with staged_dir(out, "sim import", IMPORT_OUTPUTS) as stage:
            rc = int(import_command(str(scenario), stage, shown=out, **given) or 0)
            if args.corridor is not None:
                _import_corridor(args, scenario, stage, out)
        return rc
    except ScenarioError as e:
        raise UserError(str(e)) from None


def _import_corridor(args: argparse.Namespace, scenario: Path, stage: Path, out: Path) -> None:
    """`sim import --corridor`: write DIR/corridor.json and check it as the coordinator will."""
    from coordinator.corridors import CorridorError, load_corridors
    from sim.corridor_import import corridor_command

    path = corridor_command(scenario, stage, args.corridor, shown=out)
    try:
        load_corridors(path)
    except CorridorError as e:
        print("warning: the coordinator will refuse %s as it is (edit it): %s" % (
            out / path.name, str(e).replace(str(stage), str(out))))


def _device_factory(device: str, device_tls: str, strategy: str, opened: list):
    """controller_factory that puts the board on traffic light ``device_tls`` and in-process cores elsewhere;
    the board's DeviceController goes into ``opened`` (the caller closes it)."""
    from ampelwerk.cli import UserError
    from controller.core import Controller
    from firmware.host_urlhandler import register
    from hil.proxy import DeviceController
    from hil.serial_link import DeviceError, LinkError

    register()  # --device virtual://: the virtual board, for as long as the run keeps its port open

    def factory(tls_id: str, ix):
        if tls_id != device_tls:
            return Controller(ix, strategy)
        print("traffic light %s runs on the board at %s" % (tls_id, device))
        try:
            opened.append(DeviceController(device, ix, strategy=strategy))
        except (LinkError, DeviceError) as e:
            raise UserError("--device %s: %s" % (device, e)) from None
        return opened[-1]

    return factory


def run_cmd(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from ampelwerk.sim_coordination import COORDINATED_CONTROLLER, arterial_line

    coordinated = args.coordinated or args.controller == COORDINATED_CONTROLLER
    if args.controller is None and not coordinated:
        raise UserError("give --controller NAME (or --coordinated)")
    controller = COORDINATED_CONTROLLER if coordinated else _controllers(args.controller)[0]
    for flag in ("broker", "mqtt_passwords", "ca", "poison_reports"):
        if getattr(args, flag) and not coordinated:
            raise UserError("--%s goes with --coordinated" % flag.replace("_", "-"))
    if coordinated and args.device:
        raise UserError("--device and --coordinated do not go together yet: a board's plans come over its own "
                        "MQTT link (ampelwerk firmware virtual --network)")
    from ampelwerk.outputs import refuse_inputs_inside, staged_dir

    out = Path(args.out)
    scenario = _scenario(args.scenario)
    refuse_inputs_inside(out, [scenario, args.corridor, args.mqtt_passwords, args.ca])
    from dataclasses import replace

    opts = _options(args, scenario, controller, out)  # every option checked before anything is written
    with staged_dir(out, "sim run", RUN_OUTPUTS) as stage:
        s = _run_in(args, controller, coordinated, replace(opts, out_dir=stage))
    print("%s on %s, seed %d: delay %.1f s per scheduled vehicle (%d scheduled: %d arrived, %d running at end, "
          "%d never inserted), trip %.1f s, waiting %.1f s, teleports %d, collisions %d, wall %.1f s -> %s" % (
              controller, scenario.name, s["seed"], s["delay_s"], s["vehicles_scheduled"], s["arrived"],
              s["running_at_end"], s["never_inserted"], s["mean_trip_duration_s"], s["mean_waiting_time_s"],
              s["teleports"], s["collisions"], s["wall_s"], out))
    for w in s.get("warnings", ()):
        print("ampelwerk: warning: %s" % w, file=sys.stderr)
    if s.get("arterial"):
        print(arterial_line(s["arterial"]))
    if s.get("coordination"):
        c = s["coordination"]
        print("coordination (%s): %d reports, %d plans sent, %d accepted, %d refused, %d bad input ignored" % (
            c["transport"], c["counters"]["reports"], c["counters"]["plans_sent"], c["counters"]["accepted"],
            c["counters"]["rejected"], c["counters"]["bad_input"]))
        for row in c["controllers"]:
            if row["bad_input"] or "poisoned_reports_sent" in row:
                print("  %s: %s poisoned reports sent, %d bad input ignored (%s); plans accepted %d, refused %d" % (
                    row["controller"], row.get("poisoned_reports_sent", 0), sum(row["bad_input"].values()),
                    ", ".join("%s %d" % kv for kv in sorted(row["bad_input"].items())),
                    row["plans_accepted_by_controller"], row["plans_refused_by_controller"]))
    if s.get("monitor_flash"):
        print("CONFLICT MONITOR LATCHED FLASH at: %s" % ", ".join(s["monitor_flash"]))
    check = s.get("signal_check")
    if check is not None:
        if check["violations"]:
            print("SIGNAL CHECK: %d violation(s), see %s; first: %s" % (
                check["violations"], out / "signal_check.txt", check["first"][0]))
            return 1
        print("signal check: no violations (conflicts, yellow trap, yellow to green, short yellows)")
    return 0


def _run_in(args: argparse.Namespace, controller: str, coordinated: bool, opts) -> dict:
    """The run itself, into opts.out_dir; known failures become UserError."""
    from ampelwerk.cli import UserError
    from ampelwerk.sim_coordination import run_coordinated_from_args
    from sim.metrics import MetricsError
    from sim.runner import import_for_run, run
    from sim.sumo_session import SumoError

    factory = imported = None
    opened: list = []  # the board's DeviceController, closed after the run (a virtual:// board stops then)
    try:
        if coordinated:
            s = run_coordinated_from_args(args, opts)
        elif args.device:
            if not controller.startswith("ampelwerk-"):
                raise UserError("--device runs the ampelwerk core on a board: use --controller ampelwerk-<strategy>")
            imported = import_for_run(opts)
            tls_ids = list(imported.configs)
            device_tls = args.device_tls or tls_ids[0]
            if device_tls not in tls_ids:
                raise UserError("--device-tls %s is not a traffic light of %s (traffic lights: %s)"
                                % (device_tls, opts.scenario.name, ", ".join(tls_ids)))
            factory = _device_factory(args.device, device_tls, controller[len("ampelwerk-"):], opened)
        if not coordinated:
            s = run(opts, controller_factory=factory, imported=imported)
    except (SumoError, MetricsError, ValueError, OSError) as e:  # ValueError: e.g. an unknown strategy name
        raise UserError(str(e)) from None
    finally:
        for device in opened:
            device.close()
    return s


def _seeds_and_jobs(args: argparse.Namespace) -> list[int]:
    """--seeds as integers, --jobs checked (compare, priority-study)."""
    from ampelwerk.cli import UserError

    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise UserError("--seeds=%r must be comma-separated integers, e.g. 1,2,3" % args.seeds) from None
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs=%d must be at least 1" % args.jobs)
    return seeds


def compare_cmd(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from sim.compare import compare
    from sim.report import aggregate, markdown_table
    from sim.study_cluster import ClusterError
    from sim.sumo_session import SumoError

    controllers = _controllers(args.controllers)
    seeds = _seeds_and_jobs(args)
    if args.jobs is not None and args.scheduler:
        raise UserError("--jobs goes without --scheduler: with a scheduler its workers run the simulations "
                        "(start them with `dask worker ... --nworkers N`)")
    scenarios = [_scenario(s) for s in args.scenarios]
    if args.corridor and len(scenarios) > 1:
        raise UserError("--corridor=%s belongs to one net: compare one scenario with it, not %d" % (
            args.corridor, len(scenarios)))
    from ampelwerk.outputs import refuse_inputs_inside, staged_dir

    out = Path(args.out)
    refuse_inputs_inside(out, [*scenarios, args.corridor])
    from dataclasses import replace

    template = _options(args, scenarios[0], controllers[0], out)  # every option checked before anything is written
    from ampelwerk.sim_coordination import COORDINATED_CONTROLLER, run_in_compare

    coordinated = COORDINATED_CONTROLLER in controllers
    try:
        # the whole comparison appears when it is done (failed runs listed in it); Ctrl-C leaves nothing
        with staged_dir(out, "sim compare", COMPARE_OUTPUTS) as stage:
            runs, failures = compare(scenarios, controllers, seeds, stage, replace(template, out_dir=stage), args.jobs,
                                     runners={COORDINATED_CONTROLLER: run_in_compare}, derive_corridors=coordinated,
                                     scheduler=args.scheduler)
    except (SumoError, ClusterError) as e:
        raise UserError(str(e)) from None
    print()
    print(markdown_table(aggregate(runs)))
    print("wrote %s, %s and charts in %s" % (out / "runs.csv", out / "compare.md", out))
    if failures:
        print("%d run(s) failed: see %s" % (len(failures), out / "compare.md"))
        return 1
    return 0
