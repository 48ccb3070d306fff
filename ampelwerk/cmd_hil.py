"""``ampelwerk hil run``: conformance suites against a board on a serial port (or the virtual board)."""

from __future__ import annotations

import argparse
from pathlib import Path

SUITES = Path(__file__).resolve().parent.parent / "hil" / "suites"
VIRTUAL_URL = "virtual://"  # what --port virtual stands for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hil", help="hardware-in-the-loop bench: conformance suites")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)
    r = verbs.add_parser("run", help="run a conformance suite against a board; exit 1 if a scenario fails")
    r.add_argument("suite", metavar="SUITE", help="suite JSON, or the name of one in hil/suites/ (e.g. conformance)")
    r.add_argument("--port", required=True, help="serial port or pyserial URL of the board; virtual:// (or "
                                                 "'virtual') starts the virtual board (docs/hil.md)")
    r.add_argument("--junit", help="write JUnit XML here")
    r.add_argument("--report", help="write the human summary here too")
    r.add_argument("--only", help="run only scenarios whose name contains this")
    r.add_argument("--baudrate", type=int, default=115200)
    r.set_defaults(func=run)


def suite_path(name: str) -> Path:
    p = Path(name)
    if p.exists():
        return p
    q = SUITES / (name if name.endswith(".json") else name + ".json")
    if q.exists():
        return q
    known = ", ".join(sorted(s.stem for s in SUITES.glob("*.json")))
    from ampelwerk.cli import UserError

    raise UserError("suite %r not found: give a JSON file or one of: %s" % (name, known))


def run(args: argparse.Namespace) -> int:
    from ampelwerk.cli import UserError
    from ampelwerk.outputs import staged_files
    from hil.conformance import SuiteError, load_suite, scenario_config

    path = suite_path(args.suite)
    try:
        suite = load_suite(path)
        first = scenario_config(suite, suite["scenarios"][0])
    except (SuiteError, ValueError) as e:
        raise UserError(str(e)) from None
    outputs = [(Path(p), write) for p, write in ((args.report, "report"), (args.junit, "junit")) if p]
    # the report files are checked before the suite runs, and appear only once it has run
    with staged_files([p for p, _ in outputs], option="--report/--junit") as temps:
        return _run_suite(args, path, suite, first, dict(zip((w for _, w in outputs), temps)))


def _run_suite(args: argparse.Namespace, path: Path, suite: dict, first, temps: dict[str, Path]) -> int:
    from ampelwerk.cli import UserError
    from firmware.host_urlhandler import register
    from hil.conformance import run_suite
    from hil.proxy import DeviceController, DeviceError, LinkError
    from hil.report import junit_xml, passed, summary

    register()  # virtual:// starts the virtual board; closing the port stops it
    port = VIRTUAL_URL if args.port == "virtual" else args.port
    try:
        device = DeviceController(port, first, bench=True, baudrate=args.baudrate)
    except (LinkError, DeviceError) as e:
        raise UserError(str(e)) from None
    try:
        items = run_suite(device, suite, args.only)
    finally:
        device.close()
    name = suite.get("suite", path.stem)
    text = summary(name, args.port, items)
    print(text, end="")
    if "report" in temps:
        temps["report"].write_text(text)
    if "junit" in temps:
        temps["junit"].write_text(junit_xml(name, items))
    return 0 if items and all(passed(it) for it in items) else 1
