"""Where the command line's verbs write: under a temporary name, renamed into place on success.

A verb that fails (bad input, SUMO stopped, Ctrl-C) leaves no partial
output and does not touch the outputs of an earlier good run; a verb that
succeeds replaces them whole, so no file of an earlier run is left next to
the new ones to be read as if it belonged to them.

- ``staged_files(paths)``: output files (``replay --out``, ``sim timespace
  --out``). Each is written as ``.STEM.partial-PID.SUFFIX`` in its own
  directory, which must exist, and renamed over it at the end.
- ``staged_dir(out, verb)``: an output directory (``sim import|run|compare
  --out``, ``firmware build --out``). The verb writes a new directory
  ``.NAME.partial-PID`` beside it (paths to it in the outputs are turned
  into paths to NAME); on success the old directory (if any) is
  moved aside and deleted, and the new one takes its name. A directory
  that exists is reused only if it is empty or holds the outputs of the
  same verb (its ``.ampelwerk-out`` marker, or, from before the marker,
  only files matching the verb's ``legacy`` patterns, the first of which
  must be there); anything else is refused, never deleted.

Host only.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
from pathlib import Path
from typing import Iterator, Sequence

MARKER = ".ampelwerk-out"  # in every output directory: which verb wrote it


def _error(message: str) -> Exception:
    from ampelwerk.cli import UserError

    return UserError(message)


def _partial(path: Path) -> Path:
    # the suffix stays last: a writer that goes by it (matplotlib) still knows the format
    return path.with_name(".%s.partial-%d%s" % (path.stem, os.getpid(), path.suffix))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but another user's
        return True
    return True


def _sweep(path: Path) -> None:
    """Remove what a killed verb left beside ``path`` (a partial stage, an old copy being replaced):
    anything named for it whose process is gone."""
    if not path.parent.is_dir():
        return
    for kind in ("partial", "old"):
        for p in path.parent.glob(".%s.%s-*" % (path.stem, kind)):
            pid = p.name[len(".%s.%s-" % (path.stem, kind)):]
            pid = pid[:len(pid) - len(path.suffix)] if path.suffix and pid.endswith(path.suffix) else pid
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)


def _check_parent(path: Path, option: str, make_parents: bool) -> None:
    parent = path.parent
    if make_parents and not parent.exists():
        parent.mkdir(parents=True)
    if not parent.is_dir():
        raise _error("%s %s: directory %s does not exist (create it first, or give another path)" % (
            option, path, parent))
    if path.is_dir():
        raise _error("%s %s is a directory: give the path of the file to write" % (option, path))


@contextlib.contextmanager
def staged_files(paths: Sequence[Path], option: str = "--out", make_parents: bool = False) -> Iterator[list[Path]]:
    """Temporary paths to write; renamed over ``paths`` when the block ends without an exception."""
    paths = [Path(p) for p in paths]
    for p in paths:
        _check_parent(p, option, make_parents)
    if len({p.resolve() for p in paths}) != len(paths):
        raise _error("%s: two outputs would be the same file (%s)" % (option, ", ".join(map(str, paths))))
    for p in paths:
        _sweep(p)
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


def refuse_inputs_inside(out: Path, inputs: Sequence[Path | str | None], option: str = "--out") -> None:
    """A verb never writes over its inputs: refuse an --out that is, or holds, one of them."""
    o = Path(out).resolve()
    for i in inputs:
        if i is None:
            continue
        p = Path(i).resolve()
        if p == o or o in p.parents:
            raise _error("%s %s would replace the input %s: give the outputs another place" % (option, out, i))


def _owner(path: Path) -> str | None:
    try:
        return (path / MARKER).read_text().strip() or None
    except OSError:
        return None


def _check_reusable(out: Path, verb: str, legacy: Sequence[str], option: str) -> None:
    here = Path.cwd().resolve()
    real = out.resolve()
    if real == here or real in here.parents:
        raise _error("%s %s is the current directory or holds it: give `%s` a directory of its own" % (
            option, out, verb))
    if not out.exists():
        return
    if not out.is_dir():
        raise _error("%s %s is a file, not a directory: give a directory for the outputs of `%s`" % (option, out, verb))
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return
    owner = _owner(out)
    if owner == verb:
        return
    if owner is not None:
        raise _error("%s %s holds the outputs of `%s`: give `%s` a directory of its own" % (option, out, owner, verb))
    if legacy and any(fnmatch.fnmatch(n, legacy[0]) for n in entries) and all(
            n.startswith(".") or any(fnmatch.fnmatch(n, pat) for pat in legacy) for n in entries):
        return  # outputs of this verb from before the marker: its signature file, nothing but its files
    shown = ", ".join(entries[:3]) + (" ..." if len(entries) > 3 else "")
    raise _error("%s %s already holds files that `%s` did not write (%s): give a new or empty directory" % (
        option, out, verb, shown))


# text outputs that may name their own directory (summary.json, runs.csv, SUMO's
# XML headers); the names are turned from the stage's to the final one
_TEXT_SUFFIXES = (".json", ".csv", ".md", ".txt", ".xml")
_WHOLE_FILE_BYTES = 16 << 20  # larger files (FCD, events) name it only in their header
_HEADER_BYTES = 64 << 10


def _retarget(stage: Path, out: Path) -> None:
    old, new = str(stage).encode(), str(out).encode()
    for path in stage.rglob("*"):
        if path.suffix not in _TEXT_SUFFIXES or not path.is_file():
            continue
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(_WHOLE_FILE_BYTES if size <= _WHOLE_FILE_BYTES else _HEADER_BYTES)
        if old not in head:
            continue
        if size <= _WHOLE_FILE_BYTES:
            path.write_bytes(head.replace(old, new))
            continue
        tmp = path.with_name(path.name + ".retarget")
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            dst.write(src.read(_HEADER_BYTES).replace(old, new))
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(tmp, path)


@contextlib.contextmanager
def staged_dir(out: Path, verb: str, legacy: Sequence[str] = (), option: str = "--out") -> Iterator[Path]:
    """A fresh directory to write the verb's outputs into; it becomes ``out`` when the block succeeds.

    The stage is a sibling, named as ``out`` is given (relative stays relative), so
    paths the verb writes into its outputs are turned into the final ones exactly.
    """
    out = Path(os.path.normpath(out))
    _check_reusable(out, verb, legacy, option)
    out.parent.mkdir(parents=True, exist_ok=True)
    _sweep(out)
    stage = _partial(out)
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        yield stage
        (stage / MARKER).write_text(verb + "\n")
        _retarget(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(".%s.old-%d%s" % (out.stem, os.getpid(), out.suffix))
        os.replace(out, old)
    os.replace(stage, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
