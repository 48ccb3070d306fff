"""The one command line: ``ampelwerk <area> <verb>``.

Each area lives in its own module ``ampelwerk/cmd_<area>.py`` that defines
``register(subparsers)``; heavy dependencies (SUMO, MQTT, serial) are imported
inside the verbs, so ``ampelwerk --help`` stays fast, and come with extras by
use (``ampelwerk/extras.py``): a verb whose extra is missing says which one to
install.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# area modules in the order --help lists them
AREAS = ("config", "replay", "sim", "scenarios", "firmware", "hil", "coordinator", "bench")


class UserError(Exception):
    """An error the user can fix; printed without a traceback, exit code 2."""


class _VersionAction(argparse.Action):
    """--version: "ampelwerk X.Y.Z" on stdout, exit 0; the version is looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, nargs=0,
                         help="show program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from ampelwerk import __version__

        print("ampelwerk " + __version__)
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ampelwerk", description="Adaptive traffic signal controller")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="area", metavar="<area>")
    for area in AREAS:
        try:
            module = importlib.import_module("ampelwerk.cmd_" + area)
        except ModuleNotFoundError as e:
            if e.name == "ampelwerk.cmd_" + area:
                continue  # area not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from ampelwerk.extras import check_extras, missing_module_message

    try:
        missing = check_extras(args)
        if missing:
            raise UserError(missing)
        return int(args.func(args) or 0)
    except UserError as e:
        print("ampelwerk: error: %s" % e, file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        message = missing_module_message(e.name)
        if message is None:
            raise
        print("ampelwerk: error: %s" % message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ampelwerk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
