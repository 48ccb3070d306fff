"""The SUMO run loop: one scenario, one controller kind, every traffic light. Host only.

Per SUMO step (default 1 s) and per traffic light:
  ampelwerk-*:   E1 vehicle data -> presence bits per core tick (loop_presence)
                 -> core.step() per tick (quiet ticks held back and stepped as one as far as the
                 core's horizon_ms() allows: exactly as tick by tick) -> outputs -> SUMO state string
                 (sim/ampelwerk_lights.py)
  fixed:         the net's own programs, untouched
  sumo-actuated: SUMO's actuated control on the same phases (peers.py)
  sumo-delay-based: SUMO's time-loss (delay_based) control on the same phases (peers.py)
  max-pressure:  the E2-based peer baseline (peers.py)
The core gets nothing but presence bits: no queues, positions, speeds or
waiting times. Outputs in the run directory: tripinfo.xml, statistics.xml,
edgedata.xml, signals.csv (one row per state change), events.csv (the cores'
high-resolution events) and summary.json (metrics and provenance).
With a corridor file (RunOptions.corridor_file) SUMO also writes fcd.xml for
the corridor's edges only, and summary.json gets the arterial metrics
(sim/arterial_metrics.py). Callers can hook in per step (``step_hooks``, called
with the SUMO time after every step, once the cores have been stepped) and add
sections to summary.json (``summary_hooks``); that is how ampelwerk/ wires the
coordinator in without sim/ importing it.
Times: SUMO seconds at the boundary, integer ms towards the core.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sim import sumo_session
from sim.ampelwerk_lights import AmpelwerkLights
from sim.loop_presence import ticks_per_step
from sim.run_summary import add_findings, run_summary
from sim.sumo_session import SumoError

PEER_CONTROLLERS = ("fixed", "sumo-actuated", "max-pressure", "sumo-delay-based")
DEFAULT_END_S = 3600.0

# controller_factory(tls_id, intersection) -> controller-shaped object
# (attributes ix, outputs, flashing; step(elapsed_ms, presence) -> outputs; drain_events())
ControllerFactory = Callable[[str, Any], Any]
# step_hook(now_s): called after every SUMO step, once the cores have been stepped and shown
StepHook = Callable[[float], None]
# summary_hook() -> dict merged into summary.json after the run (before it is written)
SummaryHook = Callable[[], dict]


def controller_names() -> list[str]:
    """Every controller `sim run` accepts: the peers and one per core strategy."""
    from controller.config.schema import STRATEGY_NAMES

    return list(PEER_CONTROLLERS) + ["ampelwerk-" + n for n in STRATEGY_NAMES]


# the local time at simulation time 0 unless --start says otherwise: a Monday morning
DEFAULT_START = "2026-12-07T06:00"


@dataclass
class RunOptions:
    """What to run and where to write it. Times in seconds."""

    scenario: Path  # a .sumocfg
    controller: str
    out_dir: Path
    seed: int = 1
    begin: float | None = None  # None: the scenario's own
    end: float | None = None  # None: the scenario's own, else DEFAULT_END_S
    step_length: float = 1.0
    tick_ms: int = 100
    merge_ticks: bool = False  # True: a run of ticks with unchanged presence is stepped as one longer tick
    sequence: str = "free"  # stage order of the imported configs: "free" (the strategy picks) or the program's ("fixed")
    exit_loops: bool = False  # import with exit loops (blocked exits, docs/sim-import.md)
    profile: str | None = None  # import with a regional profile (docs/profiles/): red-amber, geometric intergreens
    failed_loops: dict[str, int] = field(default_factory=dict)  # loop id -> forced presence 1 (stuck on) or 0 (dead)
    scale: float = 1.0
    gui: bool = False
    use_traci: bool = False  # TraCI with plain sumo (same path as --gui)
    sumo_options: list[str] = field(default_factory=list)
    progress: bool = True
    corridor_file: Path | None = None  # ampelwerk-corridor/1: write fcd.xml on its edges, arterial metrics
    start: str = DEFAULT_START  # local date and time at simulation time 0 (the cores' time-of-day programs)
    schedule_file: Path | None = None  # a "schedule" block (docs/schedules.md) given to every imported config
    priority_demand: Any = None  # sim.priority_demand.PriorityDemand: add emergency vehicles and buses
    priority: tuple[str, ...] = ()  # import with check-in/out loops and a priority block for these classes


@dataclass
class Imported:
    """Controller configs of a scenario: {tls_id: config path} and the E1 loop file they refer to."""

    configs: dict[str, Path]
    detectors_file: Path


def scenario_window(opts: RunOptions) -> tuple[float, float]:
    """Begin and end of the simulated window: options, else the scenario's, else 0 and DEFAULT_END_S."""
    begin = opts.begin
    if begin is None:
        v = sumo_session.cfg_option(opts.scenario, "begin")
        begin = float(v[0]) if v else 0.0
    end = opts.end
    if end is None:
        v = sumo_session.cfg_option(opts.scenario, "end")
        end = float(v[0]) if v else DEFAULT_END_S
    if end <= begin:
        raise SumoError("end=%g s must be after begin=%g s" % (end, begin))
    return begin, end


def import_for_run(opts: RunOptions) -> Imported:
    """Import the scenario's traffic lights into configs under <out>/import (sim.net_import)."""
    from sim.net_import import import_scenario
    from sim.scenarios import ScenarioError

    try:
        res = import_scenario(Path(opts.scenario), Path(opts.out_dir) / "import", sequence=opts.sequence,
                              exit_loops=opts.exit_loops, profile=opts.profile, priority=tuple(opts.priority))
    except ScenarioError as e:
        raise SumoError("importing %s: %s" % (opts.scenario, e)) from None
    return Imported(dict(res.configs), Path(res.detectors_file))


def _sumo_args(opts: RunOptions, begin: float, end: float, additional: list[str], outputs: bool,
               routes: list[str] | None = None) -> list[str]:
    args = ["-c", str(opts.scenario), "--seed", str(opts.seed), "--begin", "%g" % begin, "--end", "%g" % end,
            "--step-length", "%g" % opts.step_length, "--scale", "%g" % opts.scale,
            "--no-step-log", "true", "--duration-log.disable", "true"]
    if routes:  # the scenario's route files, then these
        from sim.scenarios import read_sumocfg

        args += ["--route-files", ",".join([str(p) for p in read_sumocfg(Path(opts.scenario)).route_files] + routes)]
    extra, users = _split_additionals(list(opts.sumo_options))
    if additional or users:
        args += ["--additional-files", ",".join(sumo_session.cfg_additionals(opts.scenario) + users + additional)]
    if outputs:
        out = Path(opts.out_dir)
        args += ["--tripinfo-output", str(out / "tripinfo.xml"),
                 "--tripinfo-output.write-unfinished", "true", "--tripinfo-output.write-undeparted", "true",
                 "--statistic-output", str(out / "statistics.xml"), "--edgedata-output", str(out / "edgedata.xml")]
        if opts.corridor_file is not None:
            args += _fcd_args(opts)
    return args + extra


def _split_additionals(options: list[str]) -> tuple[list[str], list[str]]:
    """SUMO options without -a/--additional-files, and the files those named (joined with the run's own)."""
    rest: list[str] = []
    files: list[str] = []
    it = iter(options)
    for opt in it:
        name, eq, value = opt.partition("=")
        if name in ("-a", "--additional-files"):
            files += [f for f in (value if eq else next(it, "")).split(",") if f]
        else:
            rest.append(opt)
    return rest, files


def _fcd_args(opts: RunOptions) -> list[str]:
    """SUMO floating car data on the corridor's edges only (speed, lane, position; every step)."""
    from sim.arterial_metrics import corridor_edges, load_geometry

    out = Path(opts.out_dir)
    edges = corridor_edges(load_geometry(Path(opts.corridor_file)))
    sel = out / "corridor_edges.txt"
    sel.write_text("".join("edge:%s\n" % e for e in edges))
    return ["--fcd-output", str(out / "fcd.xml"), "--fcd-output.filter-edges.input-file", str(sel),
            "--fcd-output.attributes", "speed,pos,lane"]


def _probe(opts: RunOptions, begin: float, end: float) -> dict:
    """Start SUMO once without outputs to read programs and links the peers need."""
    from sim.peers import read_net_info

    conn = sumo_session.start(_sumo_args(opts, begin, end, [], outputs=False))
    try:
        return read_net_info(conn)
    finally:
        sumo_session.close(conn)


class _Signals:
    """signals.csv: one row whenever a traffic light's state string changes."""

    def __init__(self, path: Path) -> None:
        self.f = open(path, "w")
        self.f.write("time_s,tls_id,state\n")
        self.last: dict[str, str] = {}

    def record(self, now_s: float, tls: str, state: str) -> None:
        if self.last.get(tls) != state:
            self.last[tls] = state
            self.f.write("%.3f,%s,%s\n" % (now_s, tls, state))


def local_start(opts: RunOptions) -> datetime.datetime:
    """The local date and time at simulation time 0 (--start); SumoError when it is not one."""
    try:
        return datetime.datetime.fromisoformat(opts.start)
    except (TypeError, ValueError):
        raise SumoError("--start %r is not a local date and time YYYY-MM-DDTHH:MM" % (opts.start,)) from None


def _make_cores(opts: RunOptions, factory: ControllerFactory | None, imported: Imported,
                begin: float = 0.0) -> dict[str, Any]:
    from controller.config.loading import ConfigError, load_dict, load_file, parse
    from controller.core import Controller

    strategy = opts.controller[len("ampelwerk-"):]
    block = None
    if opts.schedule_file is not None:
        try:
            block = json.loads(Path(opts.schedule_file).read_text())
        except (OSError, ValueError) as e:
            raise SumoError("schedule file %s: %s" % (opts.schedule_file, e)) from None
        block = block.get("schedule", block) if isinstance(block, dict) else block
    cores = {}
    for tls, path in imported.configs.items():
        try:
            if block is None:
                ix = load_file(str(path))
            else:
                # the controller's strategy until the program's first plan, then the program's plans
                raw = parse(Path(path).read_text(), str(path))
                raw["schedule"] = block
                raw["strategy"] = strategy
                ix = load_dict(raw, "%s with %s" % (path, opts.schedule_file), True)
        except ConfigError as e:
            raise SumoError("imported config %s is invalid:\n%s" % (path, e)) from None
        if factory is not None:
            cores[tls] = factory(tls, ix)
        else:
            cores[tls] = Controller(ix) if block is not None else Controller(ix, strategy)
    # the local time of `begin`, handed in like the elapsed time; the cores advance it themselves
    at = local_start(opts) + datetime.timedelta(seconds=begin)
    for core in cores.values():
        set_local_time = getattr(core, "set_local_time", None)
        if set_local_time is not None:
            set_local_time(int(at.strftime("%Y%m%d")), at.weekday(),
                           ((at.hour * 60 + at.minute) * 60 + at.second) * 1000 + at.microsecond // 1000)
    return cores


def run(opts: RunOptions, controller_factory: ControllerFactory | None = None,
        imported: Imported | None = None, step_hooks: list[StepHook] | None = None,
        summary_hooks: list[SummaryHook] | None = None) -> dict:
    """Run one simulation and write the run directory; returns the summary (also in summary.json).

    ampelwerk-* runs import the scenario unless ``imported`` is given, and build each
    traffic light's controller with ``controller_factory`` (default: an in-process core).
    ``step_hooks`` are called with the SUMO time (s) after every step, after the cores
    were stepped; ``summary_hooks`` return dicts merged into the summary at the end.
    """
    wall0 = time.perf_counter()  # wall time includes import and probe
    begin, end, step_ms = _checked_window(opts)
    out = Path(opts.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    setup = _set_up_controllers(opts, controller_factory, imported, begin, end)
    demand = _priority_demand(opts, begin, end, setup)

    conn = sumo_session.start(_sumo_args(opts, begin, end, setup.additional, outputs=True, routes=setup.routes),
                              opts.use_traci, opts.gui)
    signals = _Signals(out / "signals.csv")
    events = open(out / "events.csv", "w")
    events.write("time_s,tls_id,event_code,event_param,event_name\n")
    try:
        sumo_version = sumo_session.version(conn)
        infos = _net_infos(conn, opts, setup.cores)
        _simulate(conn, opts, infos, setup, begin, end, step_ms, signals, events, step_hooks or [])
    finally:
        signals.f.close()
        events.close()
        sumo_session.close(conn)
    wall = time.perf_counter() - wall0

    summary = run_summary(opts, setup.cores, setup.imported, infos, begin, end, sumo_version, wall)
    if demand is not None:
        summary["priority_vehicles"] = demand
    add_findings(summary, opts, setup.cores, setup.imported)
    for hook in summary_hooks or ():
        summary.update(hook())
    (out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


@dataclass
class _Setup:
    """What the run's controller brings before SUMO starts."""

    cores: dict[str, Any]  # tls id -> controller-shaped object (ampelwerk-* runs), else empty
    imported: Imported | None  # the configs the cores were built from (ampelwerk-* runs)
    additional: list[str]  # SUMO additional files: the cores' loops, or a peer's programs or detectors
    programs: dict[str, str]  # tls id -> program to switch to (sumo-actuated, sumo-delay-based)
    routes: list[str] = field(default_factory=list)  # route files loaded after the scenario's (priority demand)


def _checked_window(opts: RunOptions) -> tuple[float, float, int]:
    """The options checked before anything is written: (begin s, end s, SUMO step ms)."""
    if opts.controller not in controller_names():
        raise SumoError("unknown controller %r (known: %s)" % (opts.controller, ", ".join(controller_names())))
    if not Path(opts.scenario).is_file():
        raise SumoError("scenario %s not found: give a .sumocfg or a bundled scenario name" % opts.scenario)
    step_ms = round(opts.step_length * 1000)
    ticks_per_step(step_ms, opts.tick_ms)
    begin, end = scenario_window(opts)
    local_start(opts)
    if opts.schedule_file is not None and not opts.controller.startswith("ampelwerk-"):
        raise SumoError("--schedule runs on ampelwerk-* controllers, not on %s" % opts.controller)
    return begin, end, step_ms


def _set_up_controllers(opts: RunOptions, factory: ControllerFactory | None, imported: Imported | None,
                        begin: float, end: float) -> _Setup:
    """ampelwerk-*: import the scenario (unless given) and build the cores; a SUMO peer: write its programs
    or detectors into the run directory (from a probe run of SUMO)."""
    from sim.peers import write_actuated_programs, write_delay_based_programs, write_pressure_detectors

    name = opts.controller
    out = Path(opts.out_dir)
    setup = _Setup({}, None, [], {})
    if name.startswith("ampelwerk-"):
        setup.imported = imported if imported is not None else import_for_run(opts)
        setup.additional.append(str(setup.imported.detectors_file))
        setup.cores = _make_cores(opts, factory, setup.imported, begin)
    if name == "sumo-actuated":
        setup.programs = write_actuated_programs(_probe(opts, begin, end), out / "actuated.add.xml")
        setup.additional.append(str(out / "actuated.add.xml"))
    elif name == "sumo-delay-based":
        setup.programs = write_delay_based_programs(_probe(opts, begin, end), out / "delay_based.add.xml")
        setup.additional.append(str(out / "delay_based.add.xml"))
    elif name == "max-pressure":
        write_pressure_detectors(_probe(opts, begin, end), out / "pressure.add.xml")
        setup.additional.append(str(out / "pressure.add.xml"))
    return setup


def _priority_demand(opts: RunOptions, begin: float, end: float, setup: _Setup) -> dict[str, int] | None:
    """--priority-demand: write the run's emergency vehicles and buses (sim/priority_demand.py) and load them."""
    if opts.priority_demand is None:
        return None
    from sim.priority_demand import DEMAND_FILE, PriorityDemandError, write_priority_demand

    path = Path(opts.out_dir) / DEMAND_FILE
    try:
        counts = write_priority_demand(Path(opts.scenario), opts.priority_demand, opts.seed, begin, end, path)
    except PriorityDemandError as e:
        raise SumoError(str(e)) from None
    setup.routes.append(str(path))
    return counts


def _net_infos(conn: Any, opts: RunOptions, cores: dict[str, Any]) -> dict:
    """The net's traffic lights (sim.peers.read_net_info), checked against the cores and --fail-loop."""
    from sim.peers import read_net_info

    infos = read_net_info(conn)
    if not infos:
        raise SumoError("%s has no traffic lights: nothing to control" % opts.scenario)
    missing = sorted(set(cores) - set(infos))
    if missing:
        raise SumoError("configs name traffic lights the net does not have: %s" % ", ".join(missing))
    unknown = sorted(set(opts.failed_loops) - {d for c in cores.values() for d in c.ix.detector_ids})
    if unknown:
        raise SumoError("--fail-loop names loops that are not in the imported configs: %s" % ", ".join(unknown))
    return infos


def _simulate(conn: Any, opts: RunOptions, infos: dict, setup: _Setup, begin: float, end: float, step_ms: int,
              signals: _Signals, events: Any, step_hooks: list[StepHook]) -> None:
    """Every SUMO step from begin to end: cores and peers stepped, signals recorded, hooks called."""
    lights, peers = _start_lights(conn, opts, infos, setup, begin, step_ms)
    record_signals = _signal_recorder(conn, opts, infos, setup.cores, lights, peers, signals)
    now = conn.simulation.getTime()
    record_signals(now)
    n_steps = int(round((end - now) / opts.step_length))
    bar = None
    if opts.progress and n_steps > 600 and sys.stderr.isatty():
        bar = _progress(n_steps, "%s %s" % (Path(opts.scenario).stem, opts.controller))
    try:
        for k in range(n_steps):
            conn.simulationStep()
            now = conn.simulation.getTime()
            lights.step(conn, now, opts.step_length, events, begin)
            for p in peers:
                p.step(conn, now)
            record_signals(now)
            for hook in step_hooks:
                hook(now)
            if bar is not None and k % 50 == 0:
                bar[0].update(bar[1], completed=k)
        lights.finish()
        if lights.passages is not None:
            lights.passages.close()
    finally:
        if bar is not None:
            bar[0].stop()


def _start_lights(conn: Any, opts: RunOptions, infos: dict, setup: _Setup, begin: float,
                  step_ms: int) -> tuple[AmpelwerkLights, list[Any]]:
    """Before the first step: the cores' first states shown, the peers' programs switched on, max-pressure
    started; returns the cores' lights and the max-pressure peers (one per traffic light with a green)."""
    from sim.peers import MaxPressure, has_green_phase

    lights = AmpelwerkLights(setup.cores, infos, step_ms, opts.tick_ms, opts.merge_ticks, opts.failed_loops)
    if lights.class_loops:
        lights.record_passages(open(Path(opts.out_dir) / "priority_loops.csv", "w"))
    for tls in setup.cores:
        lights.show(conn, tls)
    for tls, program in setup.programs.items():
        conn.trafficlight.setProgram(tls, program)
    peers = ([MaxPressure(info) for info in infos.values() if has_green_phase(info)]
             if opts.controller == "max-pressure" else [])
    for p in peers:
        p.start(conn, begin)
    return lights, peers


def _signal_recorder(conn: Any, opts: RunOptions, infos: dict, cores: dict[str, Any], lights: AmpelwerkLights,
                     peers: list[Any], signals: _Signals) -> Callable[[float], None]:
    """record(now_s): every traffic light's state into signals.csv, stamped as SUMO would act on it."""
    # A state set through TraCI after the step that ended at T acts like a program's state at
    # T + step (SUMO's convention): stamp it so, and both kinds line up in signals.csv.
    by_traci = set(cores) | {p.tls_id for p in peers}
    lag = {tls: opts.step_length if tls in by_traci else 0.0 for tls in infos}
    # what each traffic light shows: the state string a core set (exactly what SUMO would give
    # back), or SUMO's own for the others
    get_state = conn.trafficlight.getRedYellowGreenState
    shown = [(tls, lag[tls], lights.shown if tls in cores else None) for tls in infos]

    def record_signals(now_s: float) -> None:
        for tls, tls_lag, set_by_core in shown:
            signals.record(now_s + tls_lag, tls, set_by_core[tls] if set_by_core is not None else get_state(tls))

    return record_signals


def _progress(total: int, label: str) -> tuple[Any, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    prog = Progress("[progress.description]{task.description}", BarColumn(), "{task.percentage:>3.0f}%",
                    TimeElapsedColumn(), TimeRemainingColumn(), transient=True, console=Console(stderr=True))
    task = prog.add_task(label, total=total)
    prog.start()
    return prog, task
