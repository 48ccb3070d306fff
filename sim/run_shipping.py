"""One run of a study packed for a worker that may sit on another machine, and its run folder packed back. Host only.

sim/compare.py hands each (scenario, controller, seed) to a Dask worker
(sim/study_cluster.py). The worker shares no filesystem with the caller, so a
run travels as content:
  the scenario   a named one (bundled, RESCO, generated suite) by its name, resolved
                 through the worker's own package and scenario cache; any other
                 .sumocfg as its bytes and those of the files it names under <input>
                 (net, route and additional files) when they lie in its folder, else
                 by its path as it is (then the worker must see that path: same machine
                 or a shared filesystem)
  the imported   each controller config and the loop detector file, as bytes
  configs
  the corridor   the corridor file and the controller configs it names by a relative
                 path, as bytes (one it names by an absolute path goes as it is)
The worker writes them into a temporary folder, runs into a run folder there,
and returns the summary and every file of the run folder (zlib-compressed
bytes); paths of the temporary folder in the summary (and summary.json) and in
the header comments of SUMO's XML outputs are turned back into the caller's, so the caller's run directory reads as if the
run had happened there. Paths in SUMO options after `--` travel as written.
Times in seconds.
"""

from __future__ import annotations

import json
import tempfile
import threading
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from sim.runner import Imported, RunOptions, run

RunFunction = Callable[[RunOptions, "Imported | None"], dict]  # one run -> its summary

# libsumo holds one simulation per process: a worker started with more than one thread runs them one by one
_ONE_SIMULATION = threading.Lock()


@dataclass
class ScenarioContent:
    """A scenario as it travels: by name, or as files relative to the .sumocfg's folder, or by path."""

    name: str | None  # bundled, RESCO or suite name: resolved on the worker
    cfg: str | None  # with files: the .sumocfg's path relative to its folder
    files: dict[str, bytes] | None  # relative path -> content


@dataclass
class ImportedContent:
    """Imported controller configs as they travel: tls id -> (file name, content), and the loop detector file."""

    configs: dict[str, tuple[str, bytes]]
    detectors: tuple[str, bytes]


@dataclass
class ShippedRun:
    """Everything a worker needs for one run, none of it a path on the caller's machine (but ``opts``' own,
    which only name where the caller wants things)."""

    opts: RunOptions  # as the caller planned it: its paths
    scenario: ScenarioContent
    imported: ImportedContent | None
    corridor: dict[str, bytes] | None  # the corridor file's name and the configs it names -> content
    caller_configs: dict[str, str] | None  # tls id -> the caller's config path (for the summary)
    run_fn: RunFunction | None
    caller_detectors: str | None = None  # the caller's loop detector file (for SUMO's output headers)


def scenario_content(scenario: Path) -> ScenarioContent:
    """How a scenario travels: by name if it is the named scenario of that name here, else its files."""
    from sim import suite
    from sim.report import scenario_label
    from sim.scenarios import BUNDLED, RESCO, ScenarioError, read_sumocfg, resolve

    label = scenario_label(scenario)
    if label in BUNDLED + RESCO + suite.NAMES:
        try:
            if resolve(label).resolve() == Path(scenario).resolve():
                return ScenarioContent(label, None, None)
        except ScenarioError:
            pass
    try:
        cfg = read_sumocfg(Path(scenario))
    except ScenarioError:
        return ScenarioContent(None, None, None)  # the run reports it, as a local one would
    base = cfg.path.resolve().parent
    files: dict[str, bytes] = {}
    for f in [cfg.path, cfg.net_file, *cfg.route_files, *cfg.additional_files]:
        try:
            files[Path(f).resolve().relative_to(base).as_posix()] = Path(f).read_bytes()
        except (ValueError, OSError):  # outside the folder, or missing: the worker goes by the path
            return ScenarioContent(None, None, None)
    return ScenarioContent(None, cfg.path.name, files)


def imported_content(imported: Imported) -> ImportedContent:
    return ImportedContent({tls: (Path(p).name, Path(p).read_bytes()) for tls, p in imported.configs.items()},
                           (Path(imported.detectors_file).name, Path(imported.detectors_file).read_bytes()))


def corridor_content(path: Path) -> dict[str, bytes]:
    """A corridor file (ampelwerk-corridor/1) under its name, with each config it names relative to its folder
    (an absolute or unreadable one stays out: the worker reads it by its path, or the run reports it)."""
    data = path.read_bytes()
    files = {path.name: data}
    try:
        corridors = json.loads(data).get("corridors", [])
        names = [i.get("config") for c in corridors for i in c.get("intersections", [])]
    except (ValueError, AttributeError, TypeError):  # not a corridor file: the run says what is wrong with it
        return files
    for name in names:
        if isinstance(name, str) and name:
            try:
                rel = _safe(Path(name).as_posix())
                files[rel.as_posix()] = (path.parent / rel).read_bytes()
            except (ValueError, OSError):
                pass
    return files


def pack(opts: RunOptions, scenario: ScenarioContent, imported: Imported | None,
         run_fn: RunFunction | None) -> ShippedRun:
    """One run for a worker; ``scenario`` from scenario_content() (once per scenario)."""
    return ShippedRun(opts, scenario, imported_content(imported) if imported is not None else None,
                      corridor_content(Path(opts.corridor_file)) if opts.corridor_file is not None else None,
                      {tls: str(p) for tls, p in imported.configs.items()} if imported is not None else None, run_fn,
                      str(imported.detectors_file) if imported is not None else None)


def run_shipped(job: ShippedRun) -> dict[str, Any]:
    """On the worker: the run in a temporary folder; returns {"summary": ..., "files": {...}}, or, when the run
    failed, {"error": ..., "scenario", "controller", "seed", "files": what it wrote before}."""
    opts = job.opts
    with tempfile.TemporaryDirectory(prefix="ampelwerk-run-", dir=_scratch()) as tmp:
        run_dir = Path(tmp) / "run"
        paths = {str(run_dir): str(opts.out_dir)}  # worker path -> caller path
        result: dict[str, Any]
        try:
            wopts, imported = _unpack_inputs(job, Path(tmp), paths)
            with _ONE_SIMULATION:
                summary = job.run_fn(wopts, imported) if job.run_fn else run(wopts, imported=imported)
            result = {"summary": json.loads(_to_caller(json.dumps(summary), paths))}
        except Exception as e:  # report the failed run; the others go on
            result = {"error": "%s: %s" % (type(e).__name__, _to_caller(str(e), paths)), "scenario": str(opts.scenario),
                      "controller": opts.controller, "seed": opts.seed}
        result["files"] = _pack_folder(run_dir, paths)
    return result


def _scratch() -> str | None:
    """The Dask worker's own folder (removed with the worker, even one that was stopped mid-run), else the
    system's temporary folder."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):  # not in a Dask worker
        return None


def _unpack_inputs(job: ShippedRun, tmp: Path, paths: dict[str, str]) -> tuple[RunOptions, Imported | None]:
    """Write the job's inputs under ``tmp``; the run's options on the worker, its imported configs."""
    from sim.scenarios import resolve

    opts = job.opts
    scenario = Path(opts.scenario)
    if job.scenario.name is not None:
        scenario = resolve(job.scenario.name)
    elif job.scenario.files is not None:
        _write_files(tmp / "scenario", job.scenario.files)
        scenario = tmp / "scenario" / str(job.scenario.cfg)
    paths[str(scenario)] = str(opts.scenario)
    paths[str(scenario.parent)] = str(Path(opts.scenario).parent)  # its other files (the longer path goes first)
    imported = None
    if job.imported is not None:
        configs = {}
        for k, (tls, (name, data)) in enumerate(job.imported.configs.items()):  # the caller's order
            configs[tls] = _write(tmp / "import" / str(k) / name, data)
            paths[str(configs[tls])] = (job.caller_configs or {}).get(tls, name)
        imported = Imported(configs, _write(tmp / "import" / job.imported.detectors[0], job.imported.detectors[1]))
        if job.caller_detectors is not None:
            paths[str(imported.detectors_file)] = job.caller_detectors
    corridor = None
    if job.corridor is not None:
        _write_files(tmp / "corridor", job.corridor)
        corridor = tmp / "corridor" / Path(str(opts.corridor_file)).name
        paths[str(tmp / "corridor")] = str(Path(str(opts.corridor_file)).parent)
    return replace(opts, scenario=scenario, out_dir=tmp / "run", corridor_file=corridor), imported


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        _write(folder / _safe(rel), data)


def _safe(rel: str) -> Path:
    """A relative path that stays inside its folder, or ValueError."""
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError("refusing file %r: not a relative path inside the run folder" % rel)
    return p


def _to_caller(text: str, paths: dict[str, str]) -> str:
    """``text`` (plain or JSON) with the worker's temporary paths turned into the caller's."""
    for worker, caller in sorted(paths.items(), key=lambda kv: -len(kv[0])):
        if worker != caller:
            text = text.replace(worker, caller).replace(json.dumps(worker)[1:-1], json.dumps(caller)[1:-1])
    return text


def _pack_folder(folder: Path, paths: dict[str, str]) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, zlib-compressed; summary.json with the caller's paths."""
    files = {}
    for f in sorted(folder.rglob("*")) if folder.is_dir() else ():
        if f.is_file():
            rel = f.relative_to(folder).as_posix()
            data = f.read_bytes()
            if rel == "summary.json":
                data = _to_caller(data.decode(), paths).encode()
            elif rel.endswith(".xml"):
                data = _xml_header_to_caller(data, paths)
            files[rel] = zlib.compress(data, 1)
    return files


def _xml_header_to_caller(data: bytes, paths: dict[str, str]) -> bytes:
    """A SUMO output with the worker's paths in its header comment (the configuration SUMO ran with) turned
    into the caller's; the body (which can be tens of MB and names no paths) is left as it is."""
    end = data.find(b"-->", 0, 1 << 16)
    if end < 0:
        return data
    return _to_caller(data[:end].decode("utf-8", "replace"), paths).encode() + data[end:]


def unpack_run_folder(files: dict[str, bytes], out_dir: Path) -> None:
    """On the caller: a run folder's files (as run_shipped returned them) written under ``out_dir``."""
    for rel, data in files.items():
        _write(Path(out_dir) / _safe(rel), zlib.decompress(data))
