"""The core sees only loop presence: it never imports or calls SUMO, and gets only 0/1 bits per tick."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTROLLER = ROOT / "controller"
SUMO_MODULES = ("traci", "libsumo", "sumolib", "sumo")


def test_controller_modules_do_not_import_sumo_or_other_rooms():
    pattern = re.compile(r"^\s*(?:import|from)\s+(%s|sim|hil)\b" % "|".join(SUMO_MODULES), re.M)
    offenders = [p.relative_to(CONTROLLER).as_posix() for p in CONTROLLER.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_core_runs_with_sumo_modules_unimportable():
    # import of any SUMO module raises in this interpreter; the core must still run a replay
    code = (
        "import sys\n"
        "for m in %r: sys.modules[m] = None\n"
        "from controller.config.loading import load_file\n"
        "from controller.core import Controller\n"
        "c = Controller(load_file(%r), 'actuated')\n"
        "p = bytearray(c.ix.n_detectors)\n"
        "for t in range(3000):\n"
        "    p[0] = 1 if t %% 40 < 5 else 0\n"
        "    c.step(100, p)\n"
        "print(sorted(set(m for m in sys.modules if m.split('.')[0] in %r and sys.modules[m] is not None)))\n"
    ) % (SUMO_MODULES, str(ROOT / "examples" / "four_leg.json"), SUMO_MODULES)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
