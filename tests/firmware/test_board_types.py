"""Board code against the boards' real APIs: the published MicroPython stubs of each board.

scripts/board_typecheck.py runs basedpyright on firmware/ (host tools aside)
with one board's stubs and nothing of the host's Python. The stubs are
fetched before the test run (scripts/fetch_test_inputs.py); this test needs
no network. The second test shows the check can fail: a copy of the tree
with a wrong watchdog, UART and pin call is refused for every board.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # one basedpyright run is several seconds


def _load_script():
    spec = importlib.util.spec_from_file_location("board_typecheck", ROOT / "scripts" / "board_typecheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


board_typecheck = _load_script()
BOARDS = sorted(board_typecheck.BOARDS)

# (the line in firmware/board_io.py, the wrong call put in its place, what the checker must say about it)
BREAKAGES = (
    ("self.wdt = WDT(timeout=timeout_ms)", 'self.wdt = WDT(timeout="x")', '"Literal[\'x\']" is not assignable to "int"'),
    ('self.uart = UART(cfg["id"], baudrate=cfg["baudrate"], tx=Pin(cfg["tx"]), rx=Pin(cfg["rx"]), rxbuf=1024)',
     "self.uart = UART(1, baudrat=9600)", 'No overloads for "__init__" match the provided arguments'),
    ('self.pins = [Pin(p, Pin.IN) for p in cfg["pins"]]', 'self.pins = [Pin(p, Pin.INPUT) for p in cfg["pins"]]',
     'Cannot access attribute "INPUT" for class "type[Pin]"'),
)


def _check(board: str, root: Path = ROOT) -> tuple[int, str]:
    try:
        return board_typecheck.check(board, root)
    except SystemExit as e:  # stubs or checker missing: the script's message names the fix
        pytest.fail(str(e), pytrace=False)


@pytest.mark.parametrize("board", BOARDS)
def test_board_code_matches_the_boards_published_api(board: str) -> None:
    errors, report = _check(board)
    assert errors == 0, report
    assert "board files, 0 errors" in report


@pytest.mark.parametrize("board", BOARDS)
def test_a_wrong_watchdog_uart_or_pin_call_fails_the_check(board: str, tmp_path: Path) -> None:
    for room in ("controller", "firmware"):
        shutil.copytree(ROOT / room, tmp_path / room, ignore=shutil.ignore_patterns("__pycache__"))
    board_io = tmp_path / "firmware" / "board_io.py"
    text = board_io.read_text()
    lines = {}
    for right, wrong, _ in BREAKAGES:
        assert text.count(right) == 1, right
        text = text.replace(right, wrong)
        lines[wrong] = text[:text.index(wrong)].count("\n") + 1
    board_io.write_text(text)
    errors, report = _check(board, tmp_path)
    assert errors == len(BREAKAGES), report
    for _, wrong, says in BREAKAGES:
        assert ("firmware/board_io.py:%d:" % lines[wrong]) in report and says in report, (wrong, report)
