"""What may import what (docs/architecture.md): every import statement of the rooms,
read with ast (lazy imports inside functions included), checked against the allowed
directions. Nothing imports "up": controller/ imports only itself, the board code only
controller/ and firmware/, sim/, hil/ and coordinator/ import controller/ but not
each other nor ampelwerk/; inside controller/ the safety kernel and monitor import
no strategy, detector, config or message code."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("controller", "firmware", "sim", "hil", "coordinator", "ampelwerk", "tests", "bench", "scripts")
# what the portable core must never import (docs/architecture.md, CONVENTIONS: MicroPython has none of them)
HOST_ONLY_STDLIB = ("typing", "dataclasses", "enum", "abc", "logging", "asyncio", "pathlib", "numpy")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every absolute import in path; `from a import b` gives a.b."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module + "." + a.name) for a in node.names]
    return found


def room(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in ROOMS else None


def offenders(files, allowed) -> list[str]:
    """'file:line imports module' for each import of a room that allowed(file, module) refuses."""
    bad = []
    for path in files:
        for line, module in imports(path):
            if room(module) and not allowed(path, module):
                bad.append("%s:%d imports %s" % (path.relative_to(ROOT), line, module))
    return bad


def sources(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def board_files():
    return [p for p in sources("firmware") if not p.name.startswith("host_") and "host_urlhandler" not in p.parts]


def test_controller_imports_only_controller():
    assert offenders(sources("controller"), lambda p, m: room(m) == "controller") == []


def test_controller_imports_no_host_only_library():
    bad = ["%s:%d imports %s" % (p.relative_to(ROOT), line, m) for p in sources("controller")
           for line, m in imports(p) if m.split(".")[0] in HOST_ONLY_STDLIB]
    assert bad == []


def test_safety_kernel_and_monitor_import_no_decision_code():
    # the rules alone: signal states, events, timing; no strategy, detector, config or message code
    def allowed(path, module):
        parts = module.split(".")
        return parts[0] != "controller" or parts[1] in ("safety", "events", "compat", "timing", "stamp_clock")
    assert offenders(sources("controller/safety"), allowed) == []


def test_only_the_controller_asks_the_host_only_horizon():
    # horizon.py is left out of the board bundle (firmware/host_build.py): only Controller.horizon_ms
    # (a host-only method, imported lazily) may import it inside controller/
    users = [p.relative_to(ROOT).as_posix() for p in sources("controller") + board_files()
             for _, m in imports(p) if m.startswith("controller.horizon")]
    assert users == ["controller/core.py"]


def test_board_code_imports_controller_and_firmware_only():
    # and no host tool of firmware/ (host_*.py are not in the bundle)
    assert offenders(board_files(), lambda p, m: room(m) in ("controller", "firmware")
                     and not m.startswith("firmware.host_")) == []


def test_firmware_host_tools_import_controller_and_firmware_only():
    host = [p for p in sources("firmware") if p not in board_files()]
    assert host and offenders(host, lambda p, m: room(m) in ("controller", "firmware")) == []


def test_sim_hil_coordinator_import_controller_but_not_each_other():
    for folder in ("sim", "hil", "coordinator"):
        assert offenders(sources(folder), lambda p, m, f=folder: room(m) in ("controller", f)) == [], folder


def test_nothing_but_tests_and_benches_imports_them():
    for folder in ("controller", "firmware", "sim", "hil", "coordinator", "ampelwerk"):
        assert offenders(sources(folder), lambda p, m: room(m) not in ("tests", "bench", "scripts")) == [], folder


def test_the_file_map_names_every_module_of_the_core_and_the_firmware():
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = []
    for folder in ("controller", "firmware"):
        for path in sources(folder):
            rel = path.relative_to(ROOT / folder).as_posix()
            if (path.name != "__init__.py" or path.parent == ROOT / folder) and "`%s`" % rel not in text:
                missing.append("%s/%s" % (folder, rel))
    assert missing == []
