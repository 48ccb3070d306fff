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
    f.add_argument("--dry-run", action="store_true",
                   help="print the mpremote commands only, ready to paste: the files they copy stay in --out")
    f.add_argument("--out", default="build/flash",
                   help="with --dry-run: folder for the bundle and the files the commands copy (default: build/flash)")
    f.set_defaults(func=flash)
    v = verbs.add_parser("virtual", help="run the firmware on unix MicroPython behind a pty until Ctrl-C")
    v.add_argument("--config", help="config JSON on the virtual board's flash (default: none; upload one)")
    v.add_argument("--network", help="network settings JSON: the board joins the MQTT broker (docs/firmware.md)")
    v.set_defaults(func=virtual)


def _user_error(e: Exception):
    from ampelwerk.cli import UserError

    return UserError(str(e))


# what a bundle folder held before it had a marker (ampelwerk/outputs.py)
BUNDLE_OUTPUTS = ("main.py", "controller", "firmware")


def build(args: argparse.Namespace) -> int:
    from ampelwerk.outputs import staged_dir
    from firmware.host_build import build as build_bundle

    out = Path(args.out)
    try:
        with staged_dir(out, "firmware build", BUNDLE_OUTPUTS) as stage:
            sizes = build_bundle(stage)
    except (FileNotFoundError, RuntimeError) as e:
        raise _user_error(e) from None
    for name, size in sizes:
        print("%8d  %s" % (size, name))
    print("%8d  total (%d files) in %s" % (sum(s for _, s in sizes), len(sizes), out))
    return 0


def flash(args: argparse.Namespace) -> int:
    import shlex

    from ampelwerk.outputs import refuse_inputs_inside, staged_dir
    from controller.config.loading import ConfigError

    try:
        if not args.dry_run:
            from firmware.host_flash import check_port

            check_port(args.port)
            where = tempfile.TemporaryDirectory(prefix="ampelwerk-flash-")
            with where as tmp:
                cmds = _flash_files(args, Path(tmp), Path(tmp))
                for cmd in cmds:
                    print(shlex.join(cmd))
                from firmware.host_flash import run_commands

                run_commands(cmds)
            print("flashed %s" % args.port)
            return 0
        # --dry-run: the files stay in --out and the commands name them there, with this
        # interpreter, so they can be pasted and run as they are
        out = Path(args.out)
        refuse_inputs_inside(out, [args.bundle, args.config, args.network])
        with staged_dir(out, "firmware flash --dry-run") as stage:
            cmds = _flash_files(args, stage, out.resolve())
        for cmd in cmds:
            print(shlex.join(cmd))
        print("# the files these commands copy are in %s" % out)
    except ConfigError as e:
        raise _user_error(e) from None
    except (FileNotFoundError, RuntimeError, ValueError) as e:
        raise _user_error(e) from None
    return 0


def _flash_files(args: argparse.Namespace, folder: Path, final: Path) -> list[list[str]]:
    """Bundle, config.json and network files in ``folder``; the mpremote commands, naming them
    under ``final`` (where ``folder`` will be once it is renamed into place)."""
    from firmware.host_build import build as build_bundle
    from firmware.host_flash import compact_config, flash_commands

    bundle = Path(args.bundle) if args.bundle else folder / "bundle"
    if not args.bundle:
        build_bundle(bundle)
    elif not (bundle / "main.py").exists():
        raise FileNotFoundError("%s is not a bundle (no main.py): run 'ampelwerk firmware build'" % bundle)
    config = None
    if args.config:
        config = folder / "config.json"
        config.write_bytes(compact_config(Path(args.config)))
    extra = []
    if args.network:
        from firmware.host_flash import network_files

        extra = network_files(Path(args.network), folder / "network")
    cmds = flash_commands(args.port, bundle, config, extra)
    here, there = str(folder), str(final)
    return [[there + a[len(here):] if a.startswith(here) else a for a in cmd] for cmd in cmds]


def virtual(args: argparse.Namespace) -> int:
    from firmware.host_virtual import VirtualBoard

    if args.config:
        from controller.config.loading import ConfigError, load_file

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
