"""The generated network suite: SUMO networks Ampelwerk was not tuned on. Host only.

Every network is built by SUMO's own tools from a fixed spec (``SUITE``):
``netgenerate`` (grids, spiders, random networks; 1-3 lanes, left-turn
pockets; traffic lights where ``--tls.guess`` puts them, with netconvert's
own static programs), then, for one-way cross streets, ``netconvert``
removes one direction of every other cross street and rebuilds the programs
(``--tls.rebuild``). Demand is ``randomTrips.py`` trips or entry flows routed
by ``jtrrouter`` with turning shares (sim/suite_demand.py). Every tool gets a
fixed seed and the header comments (which carry dates and absolute paths)
are stripped, so a rebuild gives the same bytes. The nets are built into the
scenario cache (``<cache>/suite/<name>/``: .net.xml, .rou.xml, .sumocfg with
the window 0-3600 s), never committed:

    ampelwerk scenarios suite [--names a,b] [--force] [--verify]

The split is fixed here, not chosen by results: nets are numbered, siblings of
one generator family are adjacent, and odd numbers form the tuning half,
even numbers the validation half (``half()``). Units: metres, m/s, seconds.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sim.scenarios import ScenarioError, cache_root, count_traffic_lights
from sim.suite_demand import END_S, FLAT_SHAPE, TripDemand, TurnDemand, write_trips, write_turn_flows

SUITE_DIR = "suite"
NAME_PREFIX = "gen"


@dataclass(frozen=True)
class SuiteNet:
    """One generated network: netgenerate options, one-way rule, program options and demand."""

    name: str
    what: str  # one line for the docs and `scenarios list`
    netgenerate: tuple[str, ...]
    tls: tuple[str, ...] = ()  # netconvert/netgenerate program options (layout, cycle, yellow, all-red)
    one_way_cross_streets: bool = False  # every vertical street one-way, alternating direction
    demand: TripDemand | TurnDemand | None = None

    @property
    def number(self) -> int:
        return int(self.name[len(NAME_PREFIX):len(NAME_PREFIX) + 2])


def _grid(nx: int, ny: int, length: float, lanes: int, pocket_m: float = 0.0, extra: tuple[str, ...] = ()
          ) -> tuple[str, ...]:
    opts = ("--grid", "--grid.x-number", str(nx), "--grid.y-number", str(ny), "--grid.length", "%g" % length,
            "--grid.attach-length", "%g" % max(length, 200.0), "-L", str(lanes))
    if pocket_m:
        opts += ("--turn-lanes", "1", "--turn-lanes.length", "%g" % pocket_m)
    return opts + extra


def _spider(arms: int, circles: int, radius: float, lanes: int, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return ("--spider", "--spider.arm-number", str(arms), "--spider.circle-number", str(circles),
            "--spider.space-radius", "%g" % radius, "--spider.attach-length", "200", "-L", str(lanes)) + extra


def _random(seed: int, iterations: int, lanes: int, extra: tuple[str, ...] = (), min_distance: float = 150
            ) -> tuple[str, ...]:
    return ("--rand", "--seed", str(seed), "--rand.iterations", str(iterations), "--rand.min-distance",
            "%g" % min_distance,
            "--rand.max-distance", "320", "--rand.min-angle", "50", "--rand.connectivity", "0.9",
            "-L", str(lanes), "--random-lanenumber") + extra


# Siblings (same family, other seed and settings) are adjacent: odd numbers tune, even numbers validate.
SUITE: tuple[SuiteNet, ...] = (
    SuiteNet("gen01-grid2x2", "grid 2x2, 150 m blocks, 1 lane, random trips",
             _grid(2, 2, 150, 1), ("--tls.cycle.time", "60"), demand=TripDemand(101, 700)),
    SuiteNet("gen02-grid3x2", "grid 3x2, 250 m blocks, 1 lane, random trips",
             _grid(3, 2, 250, 1), ("--tls.cycle.time", "70"), demand=TripDemand(102, 850)),
    SuiteNet("gen03-grid3x3-pockets", "grid 3x3, 2 lanes + 40 m left pockets, turning flows 15/70/15",
             _grid(3, 3, 200, 2, 40), ("--tls.cycle.time", "90"), demand=TurnDemand(103, (250, 550), (15, 70, 15))),
    SuiteNet("gen04-grid4x3-pockets", "grid 4x3, 2 lanes + 60 m left pockets, turning flows 25/50/25",
             _grid(4, 3, 220, 2, 60), ("--tls.cycle.time", "100", "--tls.allred.time", "2"),
             demand=TurnDemand(104, (200, 500), (25, 50, 25))),
    SuiteNet("gen05-grid3x3-oneway-idle", "grid 3x3, 1 lane + left pockets nobody uses, one-way cross streets",
             _grid(3, 3, 200, 1, 40), ("--tls.cycle.time", "80"), one_way_cross_streets=True,
             demand=TurnDemand(105, (200, 450), (20, 80, 0))),
    SuiteNet("gen06-grid4x3-oneway-idle", "grid 4x3, 1 lane + left pockets nobody uses, one-way cross streets",
             _grid(4, 3, 180, 1, 50), ("--tls.cycle.time", "90"), one_way_cross_streets=True,
             demand=TurnDemand(106, (150, 400), (25, 75, 0))),
    SuiteNet("gen07-grid3x3-lanes13", "grid 3x3, 1-3 lanes per road (random), random trips",
             _grid(3, 3, 200, 3, extra=("--random-lanenumber", "--seed", "7")), ("--tls.cycle.time", "90"),
             demand=TripDemand(107, 1400)),
    SuiteNet("gen08-grid4x4-lanes13", "grid 4x4, 1-3 lanes per road (random), random trips",
             _grid(4, 4, 180, 3, extra=("--random-lanenumber", "--seed", "8")), ("--tls.cycle.time", "80"),
             demand=TripDemand(108, 1700)),
    SuiteNet("gen09-single-pockets", "single 4-leg junction, 2 lanes + 50 m left pockets, turning flows",
             _grid(1, 1, 300, 2, 50), ("--tls.cycle.time", "90", "--tls.allred.time", "2"),
             demand=TurnDemand(109, (600, 950), (15, 65, 20))),
    SuiteNet("gen10-single-idle-leg", "single 4-leg junction, 1 lane + left pockets, one leg without traffic",
             _grid(1, 1, 300, 1, 40), ("--tls.cycle.time", "80"),
             demand=TurnDemand(110, (300, 550), (20, 60, 20), idle_entries=1)),
    SuiteNet("gen11-corridor5", "5 junctions in a row, 150 m apart, 2 lanes, turning flows",
             _grid(5, 1, 150, 2, extra=("--grid.y-length", "200")), ("--tls.cycle.time", "80"),
             demand=TurnDemand(111, (150, 700), (15, 75, 10))),
    SuiteNet("gen12-corridor6", "6 junctions in a row, 220 m apart, 2 lanes + 40 m left pockets, turning flows",
             _grid(6, 1, 220, 2, 40, extra=("--grid.y-length", "200")), ("--tls.cycle.time", "90"),
             demand=TurnDemand(112, (150, 650), (20, 70, 10))),
    SuiteNet("gen13-spider4", "spider, 4 arms, 2 rings of 150 m, 1 lane, random trips",
             _spider(4, 2, 150, 1), ("--tls.cycle.time", "70"), demand=TripDemand(113, 900)),
    SuiteNet("gen14-spider5", "spider, 5 arms (5-leg centre), 2 rings of 170 m, 1 lane, random trips",
             _spider(5, 2, 170, 1), ("--tls.cycle.time", "90"), demand=TripDemand(114, 950)),
    SuiteNet("gen15-spider6-2lanes", "spider, 6 arms (6-leg centre), 2 rings of 200 m, 2 lanes, random trips",
             _spider(6, 2, 200, 2), ("--tls.cycle.time", "100"), demand=TripDemand(115, 1500)),
    SuiteNet("gen16-spider6-nocentre", "spider without centre, 6 arms, 3 rings of 150 m, 2 lanes, random trips",
             _spider(6, 3, 150, 2, ("--spider.omit-center",)), ("--tls.cycle.time", "80"),
             demand=TripDemand(116, 1500)),
    SuiteNet("gen17-random-oneway", "random net, 1-2 lanes, 25 % one-way roads, random trips",
             _random(17, 35, 2, ("--bidi-probability", "0.75")), ("--tls.cycle.time", "80"),
             demand=TripDemand(117, 1000)),
    SuiteNet("gen18-random-oneway", "random net, 1-2 lanes, 25 % one-way roads, random trips",
             _random(18, 35, 2, ("--bidi-probability", "0.75")), ("--tls.cycle.time", "90"),
             demand=TripDemand(118, 1000)),
    SuiteNet("gen19-random-lanes13", "random net, 1-3 lanes, random trips at a flat rate",
             _random(19, 45, 3), ("--tls.cycle.time", "90", "--tls.allred.time", "2"),
             demand=TripDemand(119, 1300, FLAT_SHAPE)),
    SuiteNet("gen20-random-lanes13", "random net, 1-3 lanes, random trips at a flat rate",
             _random(20, 45, 3), ("--tls.cycle.time", "100", "--tls.allred.time", "2"),
             demand=TripDemand(120, 1300, FLAT_SHAPE)),
    SuiteNet("gen21-grid3x3-split", "grid 3x3, 1 lane + pockets, one stage per approach (layout incoming)",
             _grid(3, 3, 200, 1, 40), ("--tls.layout", "incoming", "--tls.cycle.time", "100"),
             demand=TurnDemand(121, (120, 300), (20, 60, 20))),
    SuiteNet("gen22-grid3x2-split", "grid 3x2, 2 lanes, one stage per approach (layout incoming), 4 s yellow",
             _grid(3, 2, 250, 2), ("--tls.layout", "incoming", "--tls.cycle.time", "110", "--tls.yellow.time", "4"),
             demand=TurnDemand(122, (150, 350), (25, 55, 20))),
    SuiteNet("gen23-randgrid-pockets", "random net on a 200 m lattice, 1-2 lanes + 40 m left pockets, turning flows",
             _random(23, 40, 2, ("--rand.grid", "--turn-lanes", "1", "--turn-lanes.length", "40"), 200), ("--tls.cycle.time", "90"),
             demand=TurnDemand(123, (200, 500), (20, 60, 20), idle_entries=2)),
    SuiteNet("gen24-randgrid-pockets", "random net on a 200 m lattice, 1-2 lanes + 40 m left pockets, turning flows",
             _random(24, 40, 2, ("--rand.grid", "--turn-lanes", "1", "--turn-lanes.length", "40"), 200), ("--tls.cycle.time", "90"),
             demand=TurnDemand(124, (200, 500), (20, 60, 20), idle_entries=2)),
)
NAMES = tuple(n.name for n in SUITE)
_BY_NAME = {n.name: n for n in SUITE}


def half(name: str) -> str:
    """'tuning' (odd number) or 'validation' (even number): the fixed split of the suite."""
    return "tuning" if _BY_NAME[name].number % 2 == 1 else "validation"


TUNING = tuple(n for n in NAMES if half(n) == "tuning")
VALIDATION = tuple(n for n in NAMES if half(n) == "validation")


def suite_root(cache_dir: Path | None = None) -> Path:
    return cache_root(cache_dir) / SUITE_DIR


def sumocfg_path(name: str, cache_dir: Path | None = None) -> Path:
    return suite_root(cache_dir) / name / (name + ".sumocfg")


def sumo_tools() -> tuple[Path, Path]:
    """(bin, tools) directories of the eclipse-sumo package, or ScenarioError naming the fix."""
    try:
        import sumo
    except ImportError:
        raise ScenarioError("SUMO not found: pip install eclipse-sumo (the suite needs netgenerate, netconvert, "
                            "jtrrouter, duarouter and randomTrips.py)") from None
    home = Path(sumo.SUMO_HOME)
    return home / "bin", home / "tools"


_HEADER = re.compile(r"<!-- generated on .*?-->\n*", re.S)


def strip_headers(path: Path) -> None:
    """Remove SUMO's "generated on <date> ... <absolute paths>" comments so the file depends on its inputs only."""
    path.write_text(_HEADER.sub("", path.read_text()))


def _runner(bin_dir: Path):
    env = dict(os.environ, SUMO_HOME=str(bin_dir.parent))

    def run(cmd: list[str], cwd: Path) -> None:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            tool = Path(cmd[1] if cmd[0] == sys.executable else cmd[0]).name
            raise ScenarioError("%s failed (exit %d) in %s: %s" % (tool, done.returncode, cwd,
                                                                  (done.stderr or done.stdout)[-800:]))
    return run


def _one_way_removals(net_file: Path) -> list[str]:
    """Edges to drop so every vertical street runs one way: northbound on odd columns, southbound on even ones."""
    import sumolib

    net = sumolib.net.readNet(str(net_file))
    xs = sorted({round(n.getCoord()[0], 1) for n in net.getNodes()})
    drop = []
    for e in net.getEdges():
        (x0, y0), (x1, y1) = e.getFromNode().getCoord(), e.getToNode().getCoord()
        if abs(x0 - x1) < 0.1 and y0 != y1:
            column = xs.index(round(x0, 1))
            northbound = y1 > y0
            if northbound == (column % 2 == 0):
                drop.append(e.getID())
    return sorted(drop)


def build_net(spec: SuiteNet, out: Path) -> Path:
    """Build one network with its demand and .sumocfg into ``out`` (created); returns the .sumocfg."""
    bin_dir, tools = sumo_tools()
    run = _runner(bin_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = out / (spec.name + ".net.xml")
    guess = ("--tls.guess", "--tls.guess.threshold", "30")
    if spec.one_way_cross_streets:
        raw = out / "raw.net.xml"
        run([str(bin_dir / "netgenerate"), *spec.netgenerate, *guess, *spec.tls, "-o", raw.name], out)
        run([str(bin_dir / "netconvert"), "-s", raw.name, "--remove-edges.explicit", ",".join(_one_way_removals(raw)),
             "--tls.rebuild", *spec.tls, "-o", net.name], out)
        raw.unlink()
    else:
        run([str(bin_dir / "netgenerate"), *spec.netgenerate, *guess, *spec.tls, "-o", net.name], out)
    routes = out / (spec.name + ".rou.xml")
    if isinstance(spec.demand, TripDemand):
        write_trips(net, spec.demand, routes, tools, run)
    else:
        write_turn_flows(net, spec.demand, routes, run, str(bin_dir / "jtrrouter"))
    for f in (net, routes):
        strip_headers(f)
    cfg = out / (spec.name + ".sumocfg")
    cfg.write_text("<configuration>\n    <input>\n        <net-file value=\"%s\"/>\n        <route-files value=\"%s\"/>\n"
                   "    </input>\n    <time>\n        <begin value=\"0\"/>\n        <end value=\"%d\"/>\n    </time>\n"
                   "</configuration>\n" % (net.name, routes.name, END_S))
    if not count_traffic_lights(net):
        raise ScenarioError("%s: netgenerate guessed no traffic light (check its options)" % spec.name)
    return cfg


def file_hashes(d: Path) -> dict[str, str]:
    """sha256 of every file in a net's directory, by file name."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir()) if p.is_file()}


def build(names: tuple[str, ...] = NAMES, cache_dir: Path | None = None, force: bool = False, log=print
          ) -> list[str]:
    """Build the named nets into the cache (skipping ones already there unless ``force``); returns those built."""
    unknown = [n for n in names if n not in _BY_NAME]
    if unknown:
        raise ScenarioError("unknown suite net %s (known: %s)" % (", ".join(unknown), ", ".join(NAMES)))
    built = []
    for name in names:
        cfg = sumocfg_path(name, cache_dir)
        if cfg.is_file() and not force:
            continue
        # build next to the cache and swap in, so an interrupted build never leaves half a net behind
        root = suite_root(cache_dir)
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".build-", dir=root) as tmp:
            build_net(_BY_NAME[name], Path(tmp) / name)
            if cfg.parent.exists():
                shutil.rmtree(cfg.parent)
            shutil.move(str(Path(tmp) / name), str(cfg.parent))
        log("built %s (%s half): %s" % (name, half(name), _BY_NAME[name].what))
        built.append(name)
    return built


def verify(names: tuple[str, ...] = NAMES, cache_dir: Path | None = None) -> dict[str, tuple[bool, dict[str, str]]]:
    """Rebuild the named nets in a temporary directory and compare every file's sha256 with the cache.

    Returns {name: (identical, {file: sha256 of the rebuild})}.
    """
    out = {}
    with tempfile.TemporaryDirectory(prefix="ampelwerk-suite-verify-") as tmp:
        for name in names:
            cfg = sumocfg_path(name, cache_dir)
            if not cfg.is_file():
                raise ScenarioError("suite net %s is not in %s: run `ampelwerk scenarios suite` first"
                                    % (name, suite_root(cache_dir)))
            build_net(_BY_NAME[name], Path(tmp) / name)
            again = file_hashes(Path(tmp) / name)
            out[name] = (again == file_hashes(cfg.parent), again)
    return out


def describe() -> list[dict]:
    """The suite as data: name, half, what, generator and demand (for docs and `scenarios suite --list`)."""
    return [{"name": n.name, "half": half(n.name), "what": n.what, "netgenerate": " ".join(n.netgenerate),
             "tls": " ".join(n.tls), "one_way_cross_streets": n.one_way_cross_streets,
             "demand": n.demand.describe() if n.demand else ""} for n in SUITE]

