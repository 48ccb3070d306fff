"""Extras by use: a command whose optional dependencies are missing names the extra to install."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

from ampelwerk import extras
from ampelwerk.cli import main
from tests.conftest import EXAMPLE_CONFIG, ROOT


def _hide(monkeypatch, *modules: str) -> None:
    """Make modules look not installed: import raises ModuleNotFoundError, find_spec finds nothing."""
    for m in modules:
        monkeypatch.setitem(sys.modules, m, None)


def _canonical(requirement: str) -> str:
    return re.split(r"[\s<>=!;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.mark.parametrize("argv, extra", [
    (["sim", "run", "single4", "--controller", "fixed", "--out", "OUT"], "sim"),
    (["sim", "compare", "single4", "--controllers", "fixed", "--out", "OUT"], "sim"),
    (["scenarios", "suite"], "sim"),
    (["coordinator", "serve", "--corridors", "c.json", "--keys", "k.json", "--broker", "mqtt://127.0.0.1:1"],
     "coordinator"),
    (["hil", "run", "conformance", "--port", "loop://"], "hil"),
    (["firmware", "build", "--out", "OUT"], "firmware"),
])
def test_a_verb_without_its_extra_names_the_extra(argv, extra, monkeypatch, tmp_path: Path, capsys) -> None:
    _hide(monkeypatch, *extras.EXTRA_MODULES[extra])
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "needs the '%s' extra" % extra in err
    assert "pip install 'ampelwerk[%s]'" % extra in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # stopped before it started


def test_options_that_reach_another_room_need_its_extra(monkeypatch, tmp_path: Path, capsys) -> None:
    # sim's own extra is there; a board (--device) needs hil, a broker (--broker) needs coordinator
    _hide(monkeypatch, "serial")
    assert main(["sim", "run", "single4", "--controller", "ampelwerk-actuated", "--out", str(tmp_path / "a"),
                 "--device", "loop://"]) == 2
    assert "pip install 'ampelwerk[hil]'" in capsys.readouterr().err
    _hide(monkeypatch, "paho")
    assert main(["sim", "run", "arterial5", "--coordinated", "--broker", "local", "--out", str(tmp_path / "b")]) == 2
    assert "pip install 'ampelwerk[coordinator]'" in capsys.readouterr().err


def test_core_verbs_need_no_extra(monkeypatch, capsys) -> None:
    _hide(monkeypatch, *{m for modules in extras.EXTRA_MODULES.values() for m in modules})
    assert main(["config", "check", str(EXAMPLE_CONFIG)]) == 0
    assert "ok (example-4leg" in capsys.readouterr().out


def test_an_import_that_escapes_a_verb_names_its_extra(monkeypatch, capsys) -> None:
    # an import the table does not foresee still ends in a message, not a traceback
    import ampelwerk.cmd_config as cmd_config

    def check(args):
        import serial  # noqa: F401

    _hide(monkeypatch, "serial")
    monkeypatch.setattr(cmd_config, "check", check)
    assert main(["config", "check", str(EXAMPLE_CONFIG)]) == 2
    err = capsys.readouterr().err
    assert "Python module 'serial' not found" in err and "pip install 'ampelwerk[hil]'" in err


def test_the_extras_table_matches_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(declared) == set(extras.EXTRA_MODULES) | {"all", "test"}
    assert declared["all"] == ["ampelwerk[%s]" % ",".join(extras.EXTRA_MODULES)]
    assert "ampelwerk[all]" in declared["test"]
    provided_by = importlib.metadata.packages_distributions()
    for extra, modules in extras.EXTRA_MODULES.items():
        packages = {_canonical(r) for r in declared[extra]}
        for module in modules:
            # each module the check looks for comes with a package of that extra
            assert {_canonical(d) for d in provided_by.get(module, [])} & packages, (extra, module)
    for extra, in {needed for needed in extras.VERB_EXTRAS.values()}:
        assert extra in extras.EXTRA_MODULES
