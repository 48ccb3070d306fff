"""Starting and stopping SUMO: libsumo in-process by default, TraCI for sumo-gui. Host only.

Both return a connection object with the same API (``conn.simulationStep()``,
``conn.trafficlight...``, ``conn.inductionloop...``), so the run loop is one
code path whichever is used. Also reads options out of a .sumocfg so that
additional files we add on the command line extend, rather than replace, the
scenario's own. Times in seconds (SUMO's unit).
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


class SumoError(Exception):
    """SUMO is missing, refused to start, or failed during a run (message says what to do)."""


_labels = itertools.count()


def sumo_binary(gui: bool = False) -> str:
    """Path of the ``sumo`` (or ``sumo-gui``) executable, or SumoError naming the fix."""
    name = "sumo-gui" if gui else "sumo"
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if found:
        return found
    home = os.environ.get("SUMO_HOME")
    if home and (Path(home) / "bin" / name).exists():
        return str(Path(home) / "bin" / name)
    raise SumoError("%s not found (looked next to %s, on PATH and in $SUMO_HOME/bin): pip install eclipse-sumo"
                    % (name, sys.executable))


def cfg_option(sumocfg: Path, name: str) -> list[str]:
    """Values of option ``name`` in a .sumocfg (comma/space separated lists), paths left as written."""
    try:
        root = ET.parse(sumocfg).getroot()
    except (OSError, ET.ParseError) as e:
        raise SumoError("cannot read SUMO config %s: %s" % (sumocfg, e)) from None
    for el in root.iter(name):
        value = el.get("value", "")
        return [v for v in value.replace(",", " ").split() if v]
    return []


def cfg_additionals(sumocfg: Path) -> list[str]:
    """The scenario's own additional files, as absolute paths (resolved against the config's folder)."""
    base = Path(sumocfg).resolve().parent
    return [str((base / p).resolve()) for p in cfg_option(sumocfg, "additional-files")]


def start(args: list[str], use_traci: bool = False, gui: bool = False) -> Any:
    """Start SUMO with ``args`` (everything after the binary) and return the connection.

    libsumo runs SUMO inside this process (fast, one simulation per process);
    TraCI runs ``sumo`` or ``sumo-gui`` as a child process behind a socket.
    """
    binary = sumo_binary(gui)
    if gui:
        check_display()
        use_traci = True
        # sumo-gui would otherwise wait for its play button, and stay open after the end
        # while the run waits for it to exit
        args = list(args) + ["--start", "--quit-on-end"]
    if use_traci:
        try:
            import traci
        except ImportError:
            raise SumoError("TraCI not importable: pip install traci") from None
        return _start_traci(traci, binary, args)
    try:
        import libsumo
    except ImportError:
        raise SumoError("libsumo not importable: pip install libsumo (or run with --gui to use TraCI)") from None
    try:
        libsumo.start([binary] + args)
    except Exception as e:  # libsumo raises TraCIException / FatalTraCIError, not importable by one name
        raise SumoError("SUMO did not start: %s; command: %s" % (e, " ".join([binary] + args))) from None
    return libsumo


def check_display() -> None:
    """SumoError when sumo-gui has no display to open (X11/Wayland systems; macOS and Windows always have one)."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SumoError("--gui needs a display and none is set (DISPLAY and WAYLAND_DISPLAY are empty): run it on a "
                        "desktop, over ssh -X, or under xvfb-run; --traci runs the same code path without a window")


def _start_traci(traci: Any, binary: str, args: list[str]) -> Any:
    """SUMO as a child process behind TraCI. A child that exits before it listens (sumo-gui without a
    display, a bad option) is one SumoError at once; traci.start would start it again 60 times."""
    import subprocess

    from sumolib.miscutils import getFreeSocketPort

    label = "ampelwerk-%d-%d" % (os.getpid(), next(_labels))
    command = " ".join([binary] + args)
    for _attempt in range(3):  # a port taken between choosing and binding it: another port
        proc = subprocess.Popen([binary] + args + ["--remote-port", str(getFreeSocketPort())])
        try:
            traci.init(int(proc.args[-1]), label=label, proc=proc)
            return traci.getConnection(label)
        except traci.exceptions.TraCIException:
            code = proc.poll()
            if code is not None and "gui" in Path(binary).name:
                raise SumoError("sumo-gui could not start on the display %r (it exited with code %d, its message is "
                                "above): check DISPLAY, or run without --gui" % (
                                    os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"), code)) from None
            if code is not None:
                raise SumoError("%s exited with code %d before TraCI could connect (its message is above); "
                                "command: %s" % (Path(binary).name, code, command)) from None
            proc.kill()
            proc.wait()
        except traci.exceptions.FatalTraCIError as e:
            proc.kill()
            proc.wait()
            raise SumoError("SUMO (TraCI) did not answer: %s; command: %s" % (e, command)) from None
    raise SumoError("SUMO (TraCI) could not be reached on three ports in a row; command: %s" % command)


def version(conn: Any) -> str:
    """SUMO version string of a running connection, e.g. 'SUMO 1.28.0'."""
    return str(conn.getVersion()[1])


def close(conn: Any) -> None:
    """Close a connection; SUMO writes its output files now."""
    try:
        conn.close()
    except Exception as e:  # closing after a failed start must not hide the first error
        print("ampelwerk: warning: closing SUMO: %s" % e, file=sys.stderr)
