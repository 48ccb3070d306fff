"""Fingerprints of the benchmark runs, to prove a restructuring left behaviour unchanged. Host only.

    python scripts/trace_digest.py --out DIGEST.json [--jobs 2] [--scenarios a,b] [--end SECONDS]
    python scripts/trace_digest.py --compare BASELINE.json [--out NEW.json] [--jobs 2] [--scenarios a,b]

Runs ``ampelwerk sim run`` (the command itself, one process per run, so the
runs take exactly the path a user's do) on the benchmark networks: the
bundled single4 and arterial5, the eight RESCO networks of the scenario
cache (``ampelwerk scenarios fetch``) and three nets of the generated suite
(built into the cache here if missing), each with ampelwerk-actuated and
ampelwerk-adaptive, plus arterial5 with ``--coordinated`` (in-process
coordinator); seed 1, demand scale 1.0, the scenario's own window unless
``--end SECONDS`` cuts it short to that many seconds after the scenario's
begin (quick checks; the full length is what counts).

Per run it records the SHA-256 of every decision-relevant output: the
signal trace (signals.csv), the event trace (events.csv), the imported
configs and loops (import/), the corridor file, the signal check, SUMO's
trip, edge, statistics and floating-car outputs (their header comment,
which carries a date and paths, and the statistics' wall-clock line
dropped), and the run's summary.json (kept whole, minus wall time, version
strings and the Python version; paths reduced to their last part) and the
command's output (wall time and the run directory masked).

``--compare BASELINE.json`` re-runs the baseline's runs (same scenarios,
window, seed and scale) and prints every difference; the exit status is 1
on any, 0 when everything is identical.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORMAT = "ampelwerk-trace-digest/1"
CONTROLLERS = ("ampelwerk-actuated", "ampelwerk-adaptive")
COORDINATED = ("arterial5",)  # also run with --coordinated
SUITE_NETS = ("gen04-grid4x3-pockets", "gen14-spider5", "gen21-grid3x3-split")  # all-red + pockets, 5 legs, split
SEED = 1
SCALE = 1.0
# summary.json fields that legitimately differ between commits or machines
UNSTABLE_SUMMARY_KEYS = ("wall_s", "ampelwerk_version", "python")
# SUMO XML outputs: the header comment (date, absolute paths) and the wall-clock line of statistics.xml
_XML_HEADER = re.compile(rb"<!--.*?-->\s*", re.S)
_XML_PERFORMANCE = re.compile(rb"^\s*<performance [^\n]*\n", re.M)
_WALL = re.compile(r"wall [0-9.]+ s")


def benchmark_scenarios() -> list[str]:
    """The default scenario names: bundled, RESCO, and the chosen suite nets."""
    from sim.scenarios import BUNDLED, RESCO

    return list(BUNDLED) + list(RESCO) + list(SUITE_NETS)


def plan_runs(scenarios: list[str]) -> list[tuple[str, str]]:
    """(scenario, controller) per run; ``ampelwerk-coordinated`` is `sim run --coordinated`."""
    runs = [(s, c) for s in scenarios for c in CONTROLLERS]
    runs += [(s, "ampelwerk-coordinated") for s in scenarios if s in COORDINATED]
    return runs


def run_key(scenario: str, controller: str) -> str:
    return "%s/%s" % (scenario, controller)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalised_xml(data: bytes) -> bytes:
    """A SUMO output without its header comment and without the statistics' wall-clock line."""
    return _XML_PERFORMANCE.sub(b"", _XML_HEADER.sub(b"", data, count=1))


def normalised_summary(value: Any, out_dir: str) -> Any:
    """summary.json without the unstable fields; absolute paths reduced to their last part (the run
    directory's files to ``<out>/...``), so a moved scenario folder or another run directory do not count."""
    if isinstance(value, dict):
        return {k: normalised_summary(v, out_dir) for k, v in value.items() if k not in UNSTABLE_SUMMARY_KEYS}
    if isinstance(value, list):
        return [normalised_summary(v, out_dir) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        if value == out_dir or value.startswith(out_dir + "/"):
            return "<out>" + value[len(out_dir):]
        return "<path>/" + Path(value).name
    return value


def file_digests(out: Path) -> dict[str, str]:
    """SHA-256 of each decision-relevant file of a run directory (relative name -> hex digest)."""
    digests = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if not path.is_file() or rel in ("summary.json", ".ampelwerk-out", "corridor_edges.txt"):
            continue
        data = path.read_bytes()
        if path.suffix == ".xml" and not rel.startswith("import/"):
            data = normalised_xml(data)
        digests[rel] = sha256(data)
    return digests


def run_one(scenario: str, controller: str, work: Path, end: float | None) -> dict:
    """One `ampelwerk sim run` into work/<scenario>/<controller>; its fingerprints."""
    out = work / scenario / controller
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "ampelwerk", "sim", "run", scenario, "--out", str(out),
           "--seed", str(SEED), "--scale", "%g" % SCALE]
    cmd += ["--coordinated"] if controller == "ampelwerk-coordinated" else ["--controller", controller]
    if end is not None:
        cmd += ["--end", "%g" % (_begin_s(scenario) + end)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    stdout = _WALL.sub("wall <s> s", proc.stdout.replace(str(out), "<out>"))
    result: dict[str, Any] = {"exit": proc.returncode, "stdout": stdout}
    if proc.returncode not in (0, 1) or not (out / "summary.json").is_file():
        result["error"] = proc.stderr.strip()[-2000:]
        return result
    result["files"] = file_digests(out)
    result["summary"] = normalised_summary(json.loads((out / "summary.json").read_text()), str(out))
    return result


def ensure_suite(scenarios: list[str]) -> None:
    """Build the suite nets asked for that are not in the cache yet (`ampelwerk scenarios suite`)."""
    from sim import suite
    from sim.scenarios import ScenarioError, resolve

    missing = []
    for name in scenarios:
        if name in suite.NAMES:
            try:
                resolve(name)
            except ScenarioError:
                missing.append(name)
    if missing:
        subprocess.run([sys.executable, "-m", "ampelwerk", "scenarios", "suite", "--names", ",".join(missing)],
                       cwd=ROOT, check=True)


def _begin_s(scenario: str) -> float:
    """The scenario's own begin (SUMO s): --end counts from it."""
    from sim.scenarios import read_sumocfg, resolve

    return read_sumocfg(resolve(scenario)).begin_s


def _cost(scenario: str) -> int:
    """Rough size of a run (bytes of its net), to start the big ones first."""
    from sim.scenarios import ScenarioError, read_sumocfg, resolve

    try:
        return read_sumocfg(resolve(scenario)).net_file.stat().st_size
    except (ScenarioError, OSError):
        return 0


def digest(scenarios: list[str], end: float | None, jobs: int, work: Path, log=print) -> dict:
    """Run everything (``jobs`` at a time) and return the digest document."""
    ensure_suite(scenarios)
    runs = sorted(plan_runs(scenarios), key=lambda r: -_cost(r[0]))
    results: dict[str, dict] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_one, s, c, work, end): run_key(s, c) for s, c in runs}
        for fut in concurrent.futures.as_completed(futures):
            key = futures[fut]
            results[key] = fut.result()
            r = results[key]
            error = (r.get("error") or "").splitlines()
            log("  %-45s %s" % (key, "FAILED: %s" % (error[-1] if error else "") if "error" in r
                                else "exit %d" % r["exit"]))
    order = [run_key(s, c) for s, c in plan_runs(scenarios)]
    return {
        "format": FORMAT,
        "scenarios": scenarios,
        "end_s": end,
        "seed": SEED,
        "scale": SCALE,
        "about": _about(),  # not compared
        "runs": {k: results[k] for k in order},
    }


def _about() -> dict:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"commit": commit + ("-dirty" if dirty else ""), "python": platform.python_version()}


def differences(base: dict, new: dict) -> list[str]:
    """Every difference between two digests' runs, one line each."""
    lines = []
    for key in sorted(set(base["runs"]) | set(new["runs"])):
        a, b = base["runs"].get(key), new["runs"].get(key)
        if a is None or b is None:
            lines.append("%s: only in the %s" % (key, "new run" if a is None else "baseline"))
            continue
        for field in ("exit", "error"):
            if a.get(field) != b.get(field):
                lines.append("%s: %s %r -> %r" % (key, field, a.get(field), b.get(field)))
        fa, fb = a.get("files", {}), b.get("files", {})
        for name in sorted(set(fa) | set(fb)):
            if fa.get(name) != fb.get(name):
                lines.append("%s: %s %s -> %s" % (key, name, (fa.get(name) or "missing")[:12],
                                                  (fb.get(name) or "missing")[:12]))
        lines += ["%s: summary.json %s" % (key, d) for d in _json_diff(a.get("summary"), b.get("summary"), "")]
        if a.get("stdout") != b.get("stdout"):
            lines.append("%s: command output\n    was: %s\n    now: %s" % (
                key, (a.get("stdout") or "").strip().replace("\n", "\n         "),
                (b.get("stdout") or "").strip().replace("\n", "\n         ")))
    return lines


def _json_diff(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _json_diff(a.get(k, "<missing>"), b.get(k, "<missing>"), "%s.%s" % (where, k) if where else k)
        return out
    if a != b:
        return ["%s: %s -> %s" % (where or "(whole)", json.dumps(a)[:200], json.dumps(b)[:200])]
    return []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="write the digest JSON here")
    ap.add_argument("--compare", type=Path, metavar="BASELINE", help="re-run the baseline's runs and compare")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    ap.add_argument("--scenarios", help="comma-separated scenario names (default: the benchmark networks, or with "
                                        "--compare the baseline's)")
    ap.add_argument("--end", type=float, metavar="SECONDS",
                    help="end every run this many seconds after its scenario's begin (quick checks; default: the "
                         "scenario's own window)")
    ap.add_argument("--work", type=Path, help="keep the run directories here (default: a temporary folder, removed)")
    args = ap.parse_args(argv)
    if not args.out and not args.compare:
        ap.error("give --out DIGEST.json, --compare BASELINE.json, or both")
    base = None
    end = args.end
    scenarios = args.scenarios.split(",") if args.scenarios else None
    if args.compare:
        base = json.loads(args.compare.read_text())
        if base.get("format") != FORMAT:
            ap.error("%s is not a trace digest (format %r, expected %r)" % (args.compare, base.get("format"), FORMAT))
        if args.end is not None and args.end != base["end_s"]:
            ap.error("--end %g differs from the baseline's end %s: the runs would not be comparable"
                     % (args.end, base["end_s"]))
        end = base["end_s"]
        if scenarios:
            unknown = [s for s in scenarios if s not in base["scenarios"]]
            if unknown:
                ap.error("--scenarios: %s not in the baseline (it has %s)" % (", ".join(unknown),
                                                                             ", ".join(base["scenarios"])))
        else:
            scenarios = list(base["scenarios"])
    scenarios = scenarios or benchmark_scenarios()
    work = args.work or Path(tempfile.mkdtemp(prefix="ampelwerk-trace-digest-"))
    print("%d runs (%s), end %s, %d at a time, in %s" % (
        len(plan_runs(scenarios)), ", ".join(scenarios), "the scenario's" if end is None else "begin + %g s" % end,
        args.jobs, work), flush=True)
    try:
        new = digest(scenarios, end, args.jobs, work, log=lambda m: print(m, flush=True))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
        print("wrote %s" % args.out)
    failed = [k for k, r in new["runs"].items() if "error" in r]
    if base is None:
        for k in failed:
            print("FAILED %s: %s" % (k, new["runs"][k]["error"]))
        return 1 if failed else 0
    base = dict(base, runs={k: v for k, v in base["runs"].items() if k in new["runs"]})
    diffs = differences(base, new)
    for line in diffs:
        print(line)
    print("%s: %d runs, %d difference%s against %s (commit %s)" % (
        "DIFFERENT" if diffs else "identical", len(new["runs"]), len(diffs), "" if len(diffs) == 1 else "s",
        args.compare, base.get("about", {}).get("commit", "?")))
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
