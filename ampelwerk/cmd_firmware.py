"""``ampelwerk firmware build|flash|virtual``: the board bundle, flashing, the virtual board."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("firmware", help="board firmware: build, flash, virtual board")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)
    b = verbs.add_parser("build", help="compile controller/ and firmware/ with mpy-cross; print sizes")
    b.add_argument("--out", default="build/firmware", help="bundle folder (default: build/firmware)")
    b.set_defaults(func=build)
    f = verbs.add_parser("flash", help="install the bundle (and a config) on a board with mpremote")
    f.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyACM0")
    f.add_argument("--config", help="intersection config JSON to store as config.json")
    f.add_argument("--network", help="network settings JSON (MQTT broker, key; docs/firmware.md) to store as network.json")
    f.add_argument("--bundle", help="an existing bundle folder (default: build a fresh one)")
    f.add_argument("--dry-run", action="store_true", help="print the mpremote commands only")
    f.set_defaults(func=flash)
    v = verbs.add_parser("virtual", help="run the firmware on unix MicroPython behind a pty until Ctrl-C")
    v.add_argument("--config", help="config JSON on the virtual board's flash (default: none; upload one)")
    v.add_argument("--network", help="network settings JSON: the board joins the MQTT broker (docs/firmware.md)")
    v.set_defaults(func=virtual)


def _user_error(e: Exception):
    from ampelwerk.cli import UserError

    return UserError(str(e))


def build(args: argparse.Namespace) -> int:
    from firmware.host_build import build as build_bundle

    out = Path(args.out)
    try:
        sizes = build_bundle(out)
    except (FileNotFoundError, RuntimeError) as e:
        raise _user_error(e) from None
    for name, size in sizes:
        print("%8d  %s" % (size, name))
    print("%8d  total (%d files) in %s" % (sum(s for _, s in sizes), len(sizes), out))
    return 0


def flash(args: argparse.Namespace) -> int:
    from controller.config import ConfigError
    from firmware.host_build import build as build_bundle
    from firmware.host_flash import check_port, compact_config, flash_commands, run_commands

    with tempfile.TemporaryDirectory(prefix="ampelwerk-flash-") as tmp:
        try:
            if not args.dry_run:
                check_port(args.port)
            bundle = Path(args.bundle) if args.bundle else Path(tmp, "bundle")
            if not args.bundle:
                build_bundle(bundle)
            elif not (bundle / "main.py").exists():
                raise FileNotFoundError("%s is not a bundle (no main.py): run 'ampelwerk firmware build'" % bundle)
            config = None
            if args.config:
                config = Path(tmp, "config.json")
                config.write_bytes(compact_config(Path(args.config)))
            extra = []
            if args.network:
                from firmware.host_flash import network_files

                extra = network_files(Path(args.network), Path(tmp, "network"))
            cmds = flash_commands(args.port, bundle, config, extra)
            for cmd in cmds:
                print(" ".join(cmd[1:]))
            if not args.dry_run:
                run_commands(cmds)
                print("flashed %s" % args.port)
        except ConfigError as e:
            raise _user_error(e) from None
        except (FileNotFoundError, RuntimeError, ValueError) as e:
            raise _user_error(e) from None
    return 0


def virtual(args: argparse.Namespace) -> int:
    from firmware.host_virtual import VirtualBoard

    if args.config:
        from controller.config import ConfigError, load_file

        try:
            load_file(args.config)
        except ConfigError as e:
            raise _user_error(e) from None
    board = VirtualBoard(args.config, echo_console=True, network=args.network)
    try:
        port = board.start()
    except (FileNotFoundError, ValueError) as e:
        raise _user_error(e) from None
    print("virtual board on %s (lockstep mode); Ctrl-C stops it" % port, flush=True)
    import signal

    def stop(signum, frame):  # SIGTERM cleans up like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while board.alive():
            time.sleep(0.2)
        print("the firmware exited (code %s)" % board.proc.returncode)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        board.stop()
