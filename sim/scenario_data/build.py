"""Regenerate the bundled SUMO scenarios (single4, arterial5) from plain XML.

Host tool (CPython), never on the board. Writes, per scenario directory, the
plain-XML sources (.nod/.edg/.con[/.tll].xml), runs netconvert to build the
.net.xml, and writes the demand (.rou.xml) and the .sumocfg (begin 0, end 3600).
Units: metres, seconds, vehicles per hour (demand), m/s (speeds).

Demand is a set of <flow> elements with a per-second insertion probability, cut
into six 10-minute slices that follow a morning-peak shape (rising, then
falling); which vehicles enter in which second is drawn by SUMO from --seed,
so a run is reproducible given the seed. Usage:

    python sim/scenario_data/build.py            # both scenarios
    python sim/scenario_data/build.py single4    # one
    python sim/scenario_data/build.py --out DIR  # elsewhere (to compare with the committed files)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEED_MS = 13.89  # 50 km/h
END_S = 3600
# share of the peak-hour rate in each 10-minute slice of the hour
PEAK_SHAPE = (0.55, 0.8, 1.0, 1.0, 0.8, 0.55)


def _write(path: Path, root: str, lines: list[str], attrs: str = "") -> None:
    path.write_text("<%s%s>\n%s\n</%s>\n" % (root, attrs, "\n".join("    " + x for x in lines), root))


def _flows(peak_vph: dict[tuple[str, str], float]) -> list[str]:
    """<flow> lines for {(from_edge, to_edge): peak veh/h}, shaped by PEAK_SHAPE."""
    out = []
    slice_s = END_S // len(PEAK_SHAPE)
    for (src, dst), vph in peak_vph.items():
        for n, share in enumerate(PEAK_SHAPE):
            p = vph * share / 3600.0
            out.append('<flow id="%s__%s__%d" type="car" from="%s" to="%s" begin="%d" end="%d" '
                       'probability="%.4f" departLane="best" departSpeed="max"/>' % (
                           src, dst, n, src, dst, n * slice_s, (n + 1) * slice_s, p))
    return out


def _routes(path: Path, peak_vph: dict[tuple[str, str], float]) -> None:
    head = ['<vType id="car" vClass="passenger" accel="2.6" decel="4.5" sigma="0.5" length="5" minGap="2.5"/>']
    _write(path, "routes", head + sorted(_flows(peak_vph), key=lambda s: int(s.split('begin="')[1].split('"')[0])))


def _sumocfg(path: Path, name: str) -> None:
    path.write_text(
        "<configuration>\n"
        "    <input>\n"
        '        <net-file value="%s.net.xml"/>\n'
        '        <route-files value="%s.rou.xml"/>\n'
        "    </input>\n"
        "    <time>\n"
        '        <begin value="0"/>\n'
        '        <end value="%d"/>\n'
        "    </time>\n"
        "</configuration>\n" % (name, name, END_S))


def _netconvert(d: Path, name: str, extra: list[str]) -> None:
    from sumolib import checkBinary

    cmd = [checkBinary("netconvert"), "--node-files", name + ".nod.xml", "--edge-files", name + ".edg.xml",
           "--connection-files", name + ".con.xml", "--no-turnarounds", "true", "--offset.disable-normalization",
           "true", "--output-file", name + ".net.xml", "--no-warnings", "true"] + extra
    subprocess.run(cmd, cwd=d, check=True)
    # netconvert stamps the absolute paths of its inputs into a header comment:
    # strip it so the committed file does not depend on where it was built
    net = d / (name + ".net.xml")
    text = net.read_text()
    start = text.find("<!-- generated on")
    if start >= 0:
        text = text[:start] + text[text.find("-->", start) + 4:]
    net.write_text(text)


# --- single4: one four-leg junction, dedicated left lanes, 4-stage program ---
# Legs: the major road runs north-south (2 lanes in, widening to 3 with a 65 m
# left-turn bay), the minor road east-west (1 lane in, 2 with the bay).
# Each leg: far node at 400 m, bay node at 75 m from the centre.
LEGS = {"N": (0, 1), "S": (0, -1), "E": (1, 0), "W": (-1, 0)}
# approach -> (right, straight, left) exit legs
TURNS = {"N": ("W", "S", "E"), "S": ("E", "N", "W"), "E": ("N", "W", "S"), "W": ("S", "E", "N")}


def build_single4(root: Path = HERE) -> None:
    d = root / "single4"
    d.mkdir(parents=True, exist_ok=True)
    nodes = ['<node id="C" x="0" y="0" type="traffic_light" tl="C"/>']
    edges = []
    for leg, (dx, dy) in LEGS.items():
        major = leg in "NS"
        nodes.append('<node id="%s0" x="%d" y="%d" type="priority"/>' % (leg, dx * 400, dy * 400))
        nodes.append('<node id="%s1" x="%d" y="%d" type="priority"/>' % (leg, dx * 75, dy * 75))
        lanes_far = 2 if major else 1
        edges += [
            '<edge id="%s_in" from="%s0" to="%s1" numLanes="%d" speed="%.2f"/>' % (leg, leg, leg, lanes_far, SPEED_MS),
            '<edge id="%s_bay" from="%s1" to="C" numLanes="%d" speed="%.2f"/>' % (leg, leg, lanes_far + 1, SPEED_MS),
            '<edge id="%s_exit" from="C" to="%s1" numLanes="%d" speed="%.2f"/>' % (leg, leg, lanes_far, SPEED_MS),
            '<edge id="%s_out" from="%s1" to="%s0" numLanes="%d" speed="%.2f"/>' % (leg, leg, leg, lanes_far, SPEED_MS),
        ]
    cons = []
    tll_links = []
    link = 0
    for leg in "NSEW":  # link index order of the program below
        major = leg in "NS"
        right, straight, left = TURNS[leg]
        far = 2 if major else 1
        # bay node: far lanes continue straight, the innermost also feeds the bay
        for lane in range(far):
            cons.append('<connection from="%s_in" to="%s_bay" fromLane="%d" toLane="%d"/>' % (leg, leg, lane, lane))
        cons.append('<connection from="%s_in" to="%s_bay" fromLane="%d" toLane="%d"/>' % (leg, leg, far - 1, far))
        for lane in range(far):
            cons.append('<connection from="%s_exit" to="%s_out" fromLane="%d" toLane="%d"/>' % (leg, leg, lane, lane))
        moves = [(0, right, 0)] + [(lane, straight, lane) for lane in range(far)] + [(far, left, 99)]
        for from_lane, to_leg, to_lane in moves:
            to_lane = min(to_lane, (2 if to_leg in "NS" else 1) - 1)
            c = 'from="%s_bay" to="%s_exit" fromLane="%d" toLane="%d"' % (leg, to_leg, from_lane, to_lane)
            cons.append("<connection %s/>" % c)
            tll_links.append('<connection %s tl="C" linkIndex="%d"/>' % (c, link))
            link += 1
    # links: N 0-3 (right, through, through, left), S 4-7, E 8-10 (right, through, left), W 11-13
    ns_through, ns_left, ew_through, ew_left = (0, 1, 2, 4, 5, 6), (3, 7), (8, 9, 11, 12), (10, 13)

    def state(green=(), yellow=()):
        return "".join("G" if i in green else "y" if i in yellow else "r" for i in range(link))

    phases = []
    for green, dur in ((ns_through, 32), (ns_left, 10), (ew_through, 22), (ew_left, 8)):
        phases.append('<phase duration="%d" state="%s"/>' % (dur, state(green)))
        phases.append('<phase duration="3" state="%s"/>' % state(yellow=green))
        phases.append('<phase duration="2" state="%s"/>' % state())
    tll = ['<tlLogic id="C" type="static" programID="0" offset="0">'] + ["    " + p for p in phases] + ["</tlLogic>"]
    _write(d / "single4.nod.xml", "nodes", nodes)
    _write(d / "single4.edg.xml", "edges", edges)
    _write(d / "single4.con.xml", "connections", cons)
    _write(d / "single4.tll.xml", "tlLogics", tll + tll_links)
    _netconvert(d, "single4", ["--tllogic-files", "single4.tll.xml"])
    # peak-hour veh/h per movement; southbound (from N) is the peak direction
    peak = {}
    rates = {"N": (110, 880, 170), "S": (80, 520, 130), "E": (70, 300, 90), "W": (60, 240, 70)}
    for leg, (r, s, lft) in rates.items():
        for to_leg, vph in zip(TURNS[leg], (r, s, lft)):
            peak[(leg + "_in", to_leg + "_out")] = vph
    _routes(d / "single4.rou.xml", peak)
    _sumocfg(d / "single4.sumocfg", "single4")


# --- arterial5: five signalised crossings on an east-west arterial ---
# Arterial: 2 lanes each way, 50 km/h; crossings at these x (m), spacing 250-350 m.
ARTERIAL_X = (0, 300, 550, 900, 1200)
SIDE_M = 250  # side street length to its fringe node
ENTRY_M = 400  # arterial length before the first / after the last crossing


def build_arterial5(root: Path = HERE) -> None:
    d = root / "arterial5"
    d.mkdir(parents=True, exist_ok=True)
    xs = (ARTERIAL_X[0] - ENTRY_M,) + ARTERIAL_X + (ARTERIAL_X[-1] + ENTRY_M,)
    names = ["A0"] + ["J%d" % (i + 1) for i in range(len(ARTERIAL_X))] + ["A%d" % (len(ARTERIAL_X) + 1)]
    nodes, edges = [], []
    for name, x in zip(names, xs):
        kind = "traffic_light" if name.startswith("J") else "priority"
        nodes.append('<node id="%s" x="%d" y="0" type="%s"/>' % (name, x, kind))
    for a, b in zip(names, names[1:]):
        edges.append('<edge id="%s_%s" from="%s" to="%s" numLanes="2" speed="%.2f"/>' % (a, b, a, b, SPEED_MS))
        edges.append('<edge id="%s_%s" from="%s" to="%s" numLanes="2" speed="%.2f"/>' % (b, a, b, a, SPEED_MS))
    for name, x in zip(names[1:-1], ARTERIAL_X):
        for side, y in (("N", SIDE_M), ("S", -SIDE_M)):
            far = name + side
            nodes.append('<node id="%s" x="%d" y="%d" type="priority"/>' % (far, x, y))
            edges.append('<edge id="%s_%s" from="%s" to="%s" numLanes="1" speed="%.2f"/>' % (far, name, far, name, SPEED_MS))
            edges.append('<edge id="%s_%s" from="%s" to="%s" numLanes="1" speed="%.2f"/>' % (name, far, name, far, SPEED_MS))
    _write(d / "arterial5.nod.xml", "nodes", nodes)
    _write(d / "arterial5.edg.xml", "edges", edges)
    _write(d / "arterial5.con.xml", "connections", [])
    # netconvert's own static programs (permissive left turns, yellow from the
    # approach speed), with 2 s all-red and a 90 s cycle
    _netconvert(d, "arterial5", ["--tls.allred.time", "2", "--tls.cycle.time", "90"])
    west, east = "A0_J1", "J%d_A%d" % (len(ARTERIAL_X), len(ARTERIAL_X) + 1)
    west_out, east_in = "J1_A0", "A%d_J%d" % (len(ARTERIAL_X) + 1, len(ARTERIAL_X))
    peak = {(west, east): 620, (east_in, west_out): 480}  # through traffic, eastbound is the peak direction
    for name in names[1:-1]:
        n_in, n_out, s_in, s_out = name + "N_" + name, name + "_" + name + "N", name + "S_" + name, name + "_" + name + "S"
        peak[(n_in, s_out)] = 90
        peak[(s_in, n_out)] = 70
        peak[(n_in, east)] = 60  # side street onto the arterial, both ways
        peak[(s_in, west_out)] = 50
        peak[(west, s_out)] = 60  # arterial off to the side streets
        peak[(east_in, n_out)] = 45
    _routes(d / "arterial5.rou.xml", peak)
    _sumocfg(d / "arterial5.sumocfg", "arterial5")


BUILDERS = {"single4": build_single4, "arterial5": build_arterial5}

def main(argv: list[str]) -> int:
    """Build the named scenarios (default: all) into sim/scenario_data/, or into --out DIR."""
    import argparse

    parser = argparse.ArgumentParser(description="Regenerate the bundled SUMO scenarios with netconvert")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="any of %s (default: all)" % ", ".join(BUILDERS))
    parser.add_argument("--out", type=Path, default=HERE, help="parent directory (default: next to this script)")
    args = parser.parse_args(argv)
    for scenario in args.scenarios:
        if scenario not in BUILDERS:
            parser.error("unknown scenario %r (known: %s)" % (scenario, ", ".join(BUILDERS)))
    for scenario in args.scenarios or list(BUILDERS):
        BUILDERS[scenario](args.out)
        print("built", args.out / scenario)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
