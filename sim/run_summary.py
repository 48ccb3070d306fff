"""What a SUMO run writes to summary.json: its provenance, outcomes, metrics and signal check. Host only.

Used by sim/runner.py at the end of a run.
"""

from __future__ import annotations

import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any


def ampelwerk_version() -> str:
    """The installed package's version (pyproject.toml), with the git commit (and "-dirty") when run
    from a checkout. Read from the package metadata: sim/ does not import the command line (ampelwerk/)."""
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("ampelwerk")
    except PackageNotFoundError:  # a checkout that was never installed
        release = "0+unknown"
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return release
    if not commit:
        return release
    return "%s+g%s%s" % (release, commit, "-dirty" if dirty else "")


def run_summary(opts: Any, cores: dict[str, Any], imported: Any, infos: dict, begin: float, end: float,
                sumo_version: str, wall: float) -> dict:
    """summary.json's provenance and core outcomes (the metrics and checks come after)."""
    return {
        "scenario": str(opts.scenario),
        "controller": opts.controller,
        "seed": opts.seed,
        "scale": opts.scale,
        "begin_s": begin,
        "end_s": end,
        "step_length_s": opts.step_length,
        "tick_ms": opts.tick_ms if cores else None,
        "sumo_version": sumo_version,
        "ampelwerk_version": ampelwerk_version(),
        "python": platform.python_version(),
        "traffic_lights": sorted(infos),
        "controlled_by_ampelwerk": sorted(cores),
        "configs": {tls: str(p) for tls, p in imported.configs.items()} if imported else {},
        "monitor_flash": sorted(tls for tls, c in cores.items() if c.flashing),
        # events the cores' rings overwrote before the runner drained them (in-process cores only)
        "events_dropped": sum(getattr(getattr(c, "events", None), "dropped", 0) for c in cores.values()),
        "wall_s": wall,
        "approaches": {tls: info.approach_edges() for tls, info in infos.items()},
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
    }


def add_findings(summary: dict, opts: Any, cores: dict[str, Any], imported: Any) -> None:
    """The run's metrics (sim.metrics), the signal check of ampelwerk-* runs, the arterial metrics."""
    from sim.metrics import run_metrics

    out = Path(opts.out_dir)
    summary.update(run_metrics(out, summary["approaches"]))
    if cores and imported is not None:
        summary["signal_check"] = _check_signals(opts, out, imported, step_s=opts.step_length)
    if opts.corridor_file is not None:
        from sim.arterial_metrics import arterial_metrics, load_geometry

        summary["corridor_file"] = str(opts.corridor_file)
        summary["arterial"] = arterial_metrics(out / "fcd.xml", load_geometry(Path(opts.corridor_file)),
                                               opts.step_length)


def _check_signals(opts: Any, out: Path, imported: Any, step_s: float) -> dict:
    """sim/signal_check.py on the run's signals.csv, against the configs and the net's own foes.

    Every problem goes to signal_check.txt; the summary gets the count and the first few.
    """
    from sim.scenarios import read_sumocfg
    from sim.signal_check import check_signals, net_facts

    facts = net_facts(read_sumocfg(Path(opts.scenario)).net_file, list(imported.configs))
    problems = check_signals(out / "signals.csv", imported.configs, step_s, facts)
    (out / "signal_check.txt").write_text("".join(p + "\n" for p in problems) or "no violations\n")
    return {"violations": len(problems), "first": problems[:5]}
