"""`ampelwerk sim priority-study | junction-view | timespace`: studies and views over SUMO runs.

Registered by ampelwerk/cmd_sim.py, whose options and helpers they share.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ampelwerk.cmd_sim import COMPARE_OUTPUTS, _common, _controllers, _finite, _options, _scenario, _seeds_and_jobs


def register(verbs: argparse._SubParsersAction) -> None:
    ps = verbs.add_parser("priority-study", help="delay per vehicle class with and without priority (ems, bus)",
                          description="Runs every scenario and seed twice with the same emergency vehicles and buses "
                                      "(--priority-demand, default: the --priority classes): once imported plainly, "
                                      "once with the classes' check-in/out loops and priority block (docs/priority.md).")
    ps.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="bundled scenario names or .sumocfg files")
    ps.add_argument("--controller", default="ampelwerk-actuated", help="an ampelwerk-<strategy> (default ampelwerk-actuated)")
    ps.add_argument("--seeds", default="1,2,3", help="comma-separated SUMO seeds (default 1,2,3)")
    ps.add_argument("--out", default="priority-study", help="output directory (default priority-study)")
    ps.add_argument("--jobs", type=int, help="parallel runs (default: number of cores)")
    ps.add_argument("--without-only", action="store_true",
                    help="run only the variant without priority (a baseline)")
    _common(ps)
    ps.set_defaults(func=priority_study_cmd)

    jv = verbs.add_parser("junction-view", help="one priority vehicle at one junction: signal groups over time, "
                                                "its check-in and its passage (PNG)")
    jv.add_argument("run_dir", metavar="RUN_DIR", help="run directory of `sim run ... --priority-demand ems --priority ems`")
    jv.add_argument("--out", required=True, metavar="PNG", help="the PNG to write")
    jv.add_argument("--vtype", default="ems", help="vehicle type to show (default ems; the first to check in)")
    jv.add_argument("--vehicle", help="this vehicle instead of the first of --vtype")
    jv.add_argument("--tls", help="this traffic light instead of the first the vehicle checked in at")
    jv.set_defaults(func=junction_view_cmd)


    t = verbs.add_parser("timespace", help="time-space diagram (trajectories, signals, green bands) of a corridor run")
    t.add_argument("run_dir", metavar="RUN_DIR", help="run directory of `sim run ... --corridor FILE`")
    t.add_argument("--corridor", required=True, metavar="FILE", help="the corridor file the run was made with")
    t.add_argument("--out", required=True, metavar="PNG", help="the PNG to write")
    t.add_argument("--begin", type=_finite, help="window start (s; default: 600 s around the middle of the run)")
    t.add_argument("--end", type=_finite, help="window end (s; default: begin + 600 s)")
    t.set_defaults(func=timespace_cmd)


def timespace_cmd(args: argparse.Namespace) -> int:
    """`ampelwerk sim timespace RUN_DIR --corridor FILE --out PNG`: the time-space diagram of a corridor run."""
    from ampelwerk.cli import UserError
    from ampelwerk.outputs import staged_files
    from sim.timespace import TimeSpaceError, timespace_command

    try:
        with staged_files([Path(args.out)], make_parents=True) as (png,):
            timespace_command(Path(args.run_dir), Path(args.corridor), png, args.begin, args.end, shown=Path(args.out))
    except TimeSpaceError as e:
        raise UserError(str(e)) from None
    return 0


def priority_study_cmd(args: argparse.Namespace) -> int:
    """`ampelwerk sim priority-study`: both variants, then study.md and study.csv."""
    from dataclasses import replace

    from ampelwerk.cli import UserError
    from ampelwerk.outputs import refuse_inputs_inside, staged_dir
    from sim.priority_study import run_study, study_table
    from sim.sumo_session import SumoError

    controller = _controllers(args.controller)[0]
    if not controller.startswith("ampelwerk-"):
        raise UserError("--controller %s: the study runs an ampelwerk-<strategy> (the core serves priority)" % controller)
    seeds = _seeds_and_jobs(args)
    args.priority = args.priority or ("ems", "bus")
    args.priority_demand = args.priority_demand or args.priority
    scenarios = [_scenario(s) for s in args.scenarios]
    out = Path(args.out)
    refuse_inputs_inside(out, scenarios)
    template = _options(args, scenarios[0], controller, out)
    try:
        with staged_dir(out, "sim priority-study", COMPARE_OUTPUTS) as stage:
            study, failures = run_study(scenarios, controller, seeds, stage, replace(template, out_dir=stage),
                                        tuple(args.priority), args.jobs, without_only=args.without_only)
    except SumoError as e:
        raise UserError(str(e)) from None
    print()
    print(study_table(study))
    print("wrote %s and %s" % (out / "study.md", out / "study.csv"))
    if failures:
        print("%d run(s) failed or broke the signal check: see %s" % (len(failures), out / "study.md"))
        return 1
    return 0


def junction_view_cmd(args: argparse.Namespace) -> int:
    """`ampelwerk sim junction-view RUN_DIR --out PNG`."""
    from ampelwerk.cli import UserError
    from ampelwerk.outputs import staged_files
    from sim.junction_view import JunctionViewError, build, plot

    try:
        view = build(Path(args.run_dir), args.vtype, args.tls, args.vehicle)
        with staged_files([Path(args.out)], make_parents=True) as (png,):
            plot(view, png)
    except JunctionViewError as e:
        raise UserError(str(e)) from None
    print("%s at %s: checked in at %.0f s, %s -> %s" % (
        view.vehicle, view.tls, view.check_in_s, "passed the stop line at %.0f s" % view.check_out_s
        if view.check_out_s is not None else "not past the stop line by the end of the run", args.out))
    return 0
