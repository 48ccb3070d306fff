"""Where the command line's verbs write: under a temporary name, renamed into place on success.

A verb that fails (bad input, SUMO stopped, Ctrl-C) leaves no partial
output and does not touch the outputs of an earlier good run.

- ``staged_files(paths)``: output files (``replay --out``, ``sim timespace
  --out``). Each is written as ``.NAME.partial-PID`` in its own directory,
  which must exist, and renamed over NAME at the end.

Host only.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Sequence


def _error(message: str) -> Exception:
    from ampelwerk.cli import UserError

    return UserError(message)


def _partial(path: Path) -> Path:
    return path.with_name(".%s.partial-%d" % (path.name, os.getpid()))


def _check_parent(path: Path, option: str) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise _error("%s %s: directory %s does not exist (create it first, or give another path)" % (
            option, path, parent))
    if path.is_dir():
        raise _error("%s %s is a directory: give the path of the file to write" % (option, path))


@contextlib.contextmanager
def staged_files(paths: Sequence[Path], option: str = "--out") -> Iterator[list[Path]]:
    """Temporary paths to write; renamed over ``paths`` when the block ends without an exception."""
    paths = [Path(p) for p in paths]
    for p in paths:
        _check_parent(p, option)
    if len({p.resolve() for p in paths}) != len(paths):
        raise _error("%s: two outputs would be the same file (%s)" % (option, ", ".join(map(str, paths))))
    temps = [_partial(p) for p in paths]
    try:
        yield temps
    except BaseException:
        for t in temps:
            t.unlink(missing_ok=True)
        raise
    for t, p in zip(temps, paths):
        if not t.exists():
            t.touch()  # an output the verb had nothing to write into is still replaced
        os.replace(t, p)
