"""Import a SUMO scenario's traffic lights as Ampelwerk controller configs plus E1 loops.

Host code (CPython), never on the board. Reads the net named by a .sumocfg with
sumolib (programs, connections, the junctions' foe matrices), and writes per
traffic light a controller config <out>/<tls>.json that controller.config.loading
accepts, and one <out>/detectors.add.xml with the E1 loops of all of them.
The rules (groups, stages, conflicts, intergreens, defaults, loop placement)
are in docs/sim-import.md; program analysis is in import_program.py, loop
placement in detector_layout.py. Units: ms in configs, s in SUMO, m on lanes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import import_program as prog
from sim.detector_layout import DetectorPlacement, add_exit_loops, layout, sanitize, write_additional
from sim.scenarios import ScenarioError, read_sumocfg, resolve

WALKING_SPEED_M_S = 1.2  # pedestrian clearance: crossing length at this speed
DEFAULT_WALK_MS = 7000
PASSAGE_MS = 3000


class NetImportError(ScenarioError):
    """A scenario that cannot be imported (no traffic lights, unreadable net, ...)."""


@dataclass
class TlsMapping:
    """How one traffic light's links map to signal groups and where its loops are."""

    tls_id: str
    config_path: Path
    program_id: str
    link_count: int
    group_links: dict[str, list[int]]
    green_chars: str
    red_chars: str
    always_red_links: list[int]
    junctions: list[str]
    detectors: list[DetectorPlacement]
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """Everything import_scenario wrote: configs per tls id, the loops file, the mappings."""

    sumocfg: Path
    net_file: Path
    configs: dict[str, Path]
    detectors_file: Path
    mappings: dict[str, TlsMapping]
    intergreen_rows: list = field(default_factory=list)  # with a profile: sim/intergreen_geometry.PairRow


def _phases(program: Any) -> list[prog.Phase]:
    out = []
    for p in program.getPhases():
        lo = p.minDur if p.minDur is not None and p.minDur >= 0 else None
        hi = p.maxDur if p.maxDur is not None and p.maxDur >= 0 else None
        out.append(prog.Phase(p.state, float(p.duration), lo, hi))
    return out


def _pick_program(tls: Any) -> tuple[str, Any, list[str]]:
    """(program id, program, notes): the first static program, else the first one."""
    programs = list(tls.getPrograms().items())
    static = [p for p in programs if p[1].getType() == "static"]
    pid, chosen = (static or programs)[0]
    notes = []
    if len(programs) > 1:
        notes.append("net has %d programs; imported %s" % (len(programs), pid))
    if chosen.getType() != "static":
        notes.append("program type %s read as a plain phase list" % chosen.getType())
    return pid, chosen, notes


def _is_crossing(lane: Any) -> bool:
    return lane.getEdge().getFunction() in ("crossing", "walkingarea")


def link_connections(tls: Any) -> dict[int, list[Any]]:
    """link index -> sumolib Connection objects of the traffic light."""
    out: dict[int, list[Any]] = {}
    for in_lane, out_lane, idx in tls.getConnections():
        for c in in_lane.getOutgoing():
            if c.getToLane() == out_lane and c.getTLLinkIndex() == idx and c.getTLSID() == tls.getID():
                out.setdefault(idx, []).append(c)
    return out


def foe_pairs(conns: dict[int, list[Any]]) -> set[tuple[int, int]]:
    """Pairs of link indices whose connections are foes in their junction's request matrix."""
    items = [(i, c.getJunction(), c.getJunction().getLinkIndex(c)) for i, cs in conns.items() for c in cs]
    pairs = set()
    for n, (ia, na, ja) in enumerate(items):
        for ib, nb, jb in items[n + 1:]:
            if ia == ib or na is not nb or ja < 0 or jb < 0:
                continue
            try:
                if na.areFoes(ja, jb) or na.areFoes(jb, ja):
                    pairs.add((min(ia, ib), max(ia, ib)))
            except (KeyError, IndexError):  # a junction without a request matrix
                continue
    return pairs


def _conflict_notes(a: prog.ProgramAnalysis, conns: dict[int, list[Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """How the program's conflicts differ from the junctions' foe matrices; and the foe pairs it shows green together."""
    link_group = {i: g for g, links in a.group_links.items() for i in links}
    foe_groups = {tuple(sorted((link_group[x], link_group[y]), key=a.group_ids.index)) for x, y in foe_pairs(conns)
                  if x in link_group and y in link_group and link_group[x] != link_group[y]}
    permissive = sorted(foe_groups - set(a.conflicts))
    program_only = [c for c in a.conflicts if c not in foe_groups]
    notes = []
    if permissive:
        notes.append("foes shown green together by the program, kept compatible (permissive): %s"
                     % ", ".join("%s-%s" % p for p in permissive))
    if program_only:
        notes.append("%d conflicts come from the program alone (never green together, not foes)" % len(program_only))
    return notes, permissive


def _stage_permissive(a: prog.ProgramAnalysis, phases: list[prog.Phase], permissive: list[tuple[str, str]]
                      ) -> list[list[str]]:
    """Per stage, its groups shown permissive: every link 'g' in the stage's phase, with a foe green in the stage."""
    out = []
    for groups, ks in zip(a.stages, a.stage_phases):
        state = phases[ks[0]].state
        out.append([g for g in groups if g not in a.pedestrian
                    and all(state[i] == "g" for i in a.group_links[g])
                    and any((g, f) in permissive or (f, g) in permissive for f in groups)])
    return out


def _yields_to(a: prog.ProgramAnalysis, phases: list[prog.Phase], permissive: list[tuple[str, str]]
               ) -> dict[str, list[str]]:
    """Per vehicle group, the foes it gives way to when a stage shows both green.

    In a stage's phase a group gives way to a permissive partner when one of
    its links shows 'g'; partners that both show only 'G' give way to each
    other (neither may end while the other stays green: the kernel's rule 5).
    """
    out: dict[str, list[str]] = {}
    for groups, ks in zip(a.stages, a.stage_phases):
        state = phases[ks[0]].state
        minor = {g: any(state[i] == "g" for i in a.group_links[g]) for g in groups}
        for g in groups:
            if g in a.pedestrian:
                continue
            for f in groups:
                if f != g and ((g, f) in permissive or (f, g) in permissive) and (minor[g] or not minor[f]):
                    ys = out.setdefault(g, [])
                    if f not in ys:
                        ys.append(f)
    return out


def _crossing_length_m(conns: list[Any]) -> float:
    return max((lane.getLength() for c in conns for lane in (c.getFromLane(), c.getToLane())
                if lane.getEdge().getFunction() == "crossing"), default=0.0)


def _group_name(links: list[int], conns: dict[int, list[Any]]) -> str:
    by_edge: dict[str, list[str]] = {}
    for i in links:
        for c in conns.get(i, [])[:1]:
            by_edge.setdefault(c.getFrom().getID(), []).append(c.getDirection())
    return "; ".join("from %s: %s" % (e, " ".join(sorted(set(d)))) for e, d in by_edge.items()) or "links %s" % links


def file_stem(tls_id: str) -> str:
    """A filename-safe stem for a tls id: sanitized, long cluster ids cut and suffixed with a hash."""
    safe = sanitize(tls_id)
    if len(safe) > 64:
        safe = safe[:55] + "_" + hashlib.sha1(tls_id.encode()).hexdigest()[:8]
    return safe


def build_config(net: Any, tls: Any, safe_id: str, *, red_clearance_ms: int, default_min_green_ms: int,
                 default_max_green_ms: int, advance_m: float, sequence: str = "free",
                 exit_loops: bool = False, profile: str | None = None, internal: Any = None,
                 intergreen_rows: list | None = None) -> tuple[dict, list[DetectorPlacement]]:
    """The controller config dict of one traffic light and its loops.

    profile: a regional profile (controller/config/profiles.py): its timings, and intergreens
    from the junction's geometry (sim/intergreen_geometry.py; internal: read_internal_lanes of
    the net) instead of the program's; what each pair's intergreen was made of is appended to
    intergreen_rows."""
    program_id, program, notes = _pick_program(tls)
    phases = _phases(program)
    conns = link_connections(tls)
    ped_links = {i for i, cs in conns.items() if any(_is_crossing(c.getFromLane()) or _is_crossing(c.getToLane())
                                                     for c in cs)}
    try:
        a = prog.analyse(phases, ped_links)
    except ValueError as e:
        raise NetImportError("traffic light %s, program %s: %s" % (tls.getID(), program_id, e)) from None
    notes += a.notes
    conflict_notes, permissive = _conflict_notes(a, conns)
    notes += conflict_notes
    link_group = {i: g for g, links in a.group_links.items() for i in links}
    lane_links: dict[str, list[int]] = {}
    lane_moves: dict[str, set[str]] = {}
    for i, cs in conns.items():
        if i not in ped_links:
            for c in cs:
                lane_links.setdefault(c.getFromLane().getID(), []).append(i)
                lane_moves.setdefault(c.getFromLane().getID(), set()).add(c.getDirection())
    stages_of = {g: sum(1 for st in a.stages if g in st) for g in a.group_ids}
    placements, det_notes = layout(net, tls.getID(), lane_links, link_group, advance_m, stages_of, lane_moves)
    notes += det_notes
    with_detectors = {p.group for p in placements}
    if exit_loops:
        lane_exits: dict[str, set[str]] = {}
        for i, cs in conns.items():
            if i not in ped_links and i in link_group:
                for c in cs:
                    lane_exits.setdefault(c.getFromLane().getID(), set()).add(c.getToLane().getID())
        placements += add_exit_loops(net, tls.getID(), placements, lane_exits)

    yields_to = _yields_to(a, phases, permissive)
    groups = []
    clearance = {}
    for g in a.group_ids:
        colours = a.group_colours[g]
        green_phases = [k for ks in a.stage_phases for k in ks if colours[k] == "G"]
        entry: dict[str, Any] = {"id": g, "name": _group_name(a.group_links[g], conns)}
        if g in a.pedestrian:
            length = _crossing_length_m([c for i in a.group_links[g] for c in conns[i]])
            ped_clear = min(max(int(math.ceil(length / WALKING_SPEED_M_S)) * 1000, 3000), 60000)
            entry.update(kind="pedestrian", walk_ms=DEFAULT_WALK_MS, ped_clearance_ms=ped_clear,
                         red_clearance_ms=red_clearance_ms, recall="ped")
            clearance[g] = ped_clear
        else:
            lo, hi = prog.green_limits_ms(phases, green_phases, default_min_green_ms, default_max_green_ms)
            seen = prog.yellow_ms(phases, colours)
            yellow = min(max(seen, prog.YELLOW_FLOOR_MS), prog.YELLOW_CEILING_MS)
            if seen != yellow:
                notes.append("group %s: program yellow %d ms, config yellow_ms %d (core range %d..%d ms)"
                             % (g, seen, yellow, prog.YELLOW_FLOOR_MS, prog.YELLOW_CEILING_MS))
            recall = "none" if g in with_detectors else "min"
            if recall == "min":
                notes.append("group %s has no loop of its own; recall min" % g)
            entry.update(kind="vehicle", min_green_ms=lo, max_green_ms=hi, passage_ms=PASSAGE_MS, yellow_ms=yellow,
                         red_clearance_ms=red_clearance_ms, recall=recall, yields_to=yields_to.get(g, []))
            clearance[g] = yellow
        groups.append(entry)

    if profile is None:
        intergreen = prog.intergreens_ms(phases, a, clearance, red_clearance_ms)
    else:
        from sim.profile_import import apply_profile

        intergreen = apply_profile(profile, tls.getID(), a, groups, conns, internal, red_clearance_ms, notes,
                                   intergreen_rows if intergreen_rows is not None else [])
    stage_ids = ["S%d" % (n + 1) for n in range(len(a.stages))]
    raw: dict[str, Any] = {
        "format": "ampelwerk-intersection/1",
        **({"profile": profile} if profile else {}),
        "id": safe_id,
        "name": "SUMO traffic light %s" % tls.getID(),
        "strategy": "actuated",
        "signal_groups": groups,
        "conflicts": [list(c) for c in a.conflicts],
        "intergreen_ms": intergreen,
        "stages": [{"id": s, "name": "program phase %s" % ",".join(map(str, ks)), "groups": gs}
                   for s, gs, ks in zip(stage_ids, a.stages, a.stage_phases)],
        "sequence": {"mode": sequence, "order": stage_ids},
        "detectors": [_detector_entry(p) for p in placements],  # docs/sim-import.md
    }
    for stage, pg in zip(raw["stages"], _stage_permissive(a, phases, permissive)):
        if pg:
            stage["permissive"] = pg
    plan, plan_notes = prog.fixed_time_plan(raw, phases, a.stage_phases)
    notes += plan_notes
    if plan:
        raw["fixed_time"] = plan
    junctions = sorted({c.getJunction().getID() for cs in conns.values() for c in cs})
    raw["source"] = {"sumo": {
        "tls_id": tls.getID(), "program_id": program_id, "program_offset_s": program.getOffset(),
        "link_count": a.link_count, "group_links": a.group_links, "green_chars": a.green_chars,
        "red_chars": a.red_chars, "always_red_links": a.always_red_links, "junctions": junctions, "notes": notes,
    }}
    return raw, placements


def _detector_entry(p: DetectorPlacement) -> dict[str, Any]:
    """A loop's config entry: approach, lane (the lane whose traffic it measures) and turn_pocket say where
    an approach loop sits, for the core's no-activity diagnostics, exits the exit loops its lane leads onto."""
    if p.kind == "exit":
        return {"id": p.id, "kind": "exit", "distance_m": int(round(p.distance_m))}
    entry = {"id": p.id, "group": p.group, "kind": p.kind, "distance_m": int(round(p.distance_m)),
             "approach": p.approach, "lane": p.approach_lane, "turn_pocket": p.turn_pocket}
    if p.exits:
        entry["exits"] = list(p.exits)
    return entry


def import_scenario(sumocfg: Path, out_dir: Path, *, red_clearance_ms: int = 0, default_min_green_ms: int = 5000,
                    default_max_green_ms: int = 45000, advance_m: float = 40.0, sequence: str = "free",
                    exit_loops: bool = False, profile: str | None = None,
                    priority: tuple[str, ...] = ()) -> ImportResult:
    """Write <out_dir>/<tls>.json for every traffic light and <out_dir>/detectors.add.xml.

    profile: timings and geometric intergreens by a regional profile; then also
    <out_dir>/intergreens.csv, the inputs and result of every conflicting pair.
    priority: classes (ems, bus) whose check-in/out loops and priority block each config gets
    (sim/priority_loops.py).

    sequence: "fixed" keeps the program's stage order (skipping stages without
    demand), "free" lets demand-responsive strategies choose the next stage.
    """
    if sequence not in ("fixed", "free"):
        raise NetImportError("sequence=%r is not one of fixed, free" % sequence)
    from controller.config.profiles import PROFILE_NAMES

    if profile is not None and profile not in PROFILE_NAMES:
        raise NetImportError("profile=%r is not one of %s" % (profile, ", ".join(PROFILE_NAMES)))
    if priority:
        from sim.priority_loops import check_classes

        check_classes(tuple(priority))
    from controller.config.loading import ConfigError, load_file

    try:
        import sumolib
    except ImportError:
        raise NetImportError("sumolib not found: pip install sumolib") from None
    cfg = read_sumocfg(Path(sumocfg))
    if not cfg.net_file.is_file():
        raise NetImportError("net file %s named by %s not found" % (cfg.net_file, cfg.path))
    net = sumolib.net.readNet(str(cfg.net_file), withPrograms=True, withPedestrianConnections=True)
    lights = [t for t in net.getTrafficLights() if t.getPrograms()]
    if not lights:
        raise NetImportError("%s has no traffic lights with a program: nothing to import" % cfg.net_file)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    internal = None
    rows: list = []
    if profile is not None:
        from sim.intergreen_geometry import read_internal_lanes

        internal = read_internal_lanes(cfg.net_file)
    configs: dict[str, Path] = {}
    mappings: dict[str, TlsMapping] = {}
    all_loops: list[DetectorPlacement] = []
    used: set[str] = set()
    for tls in sorted(lights, key=lambda t: t.getID()):
        safe = file_stem(tls.getID())
        while safe.lower() in used or safe.lower() == "detectors.add":
            safe += "_"
        used.add(safe.lower())
        raw, placements = build_config(net, tls, safe, red_clearance_ms=red_clearance_ms,
                                    default_min_green_ms=default_min_green_ms,
                                    default_max_green_ms=default_max_green_ms, advance_m=advance_m,
                                    sequence=sequence, exit_loops=exit_loops, profile=profile,
                                    internal=internal, intergreen_rows=rows)
        if priority:
            from sim.priority_loops import add_priority

            placements += add_priority(net, tls.getID(), raw, link_connections(tls), tuple(priority))
        path = out_dir / (safe + ".json")
        path.write_text(json.dumps(raw, indent=1) + "\n")
        try:
            load_file(str(path))
        except ConfigError as e:
            raise NetImportError("the config imported for traffic light %s does not validate:\n  %s\nUnless this is "
                                 "a core limit (64 signal groups, 250 detectors), it is an importer bug: please "
                                 "report it with the net." % (tls.getID(), "\n  ".join(e.errors))) from None
        src = raw["source"]["sumo"]
        configs[tls.getID()] = path
        mappings[tls.getID()] = TlsMapping(tls.getID(), path, src["program_id"], src["link_count"], src["group_links"],
                                           src["green_chars"], src["red_chars"], src["always_red_links"],
                                           src["junctions"], placements,
                                           src["notes"])
        all_loops += placements
    detectors_file = out_dir / "detectors.add.xml"
    write_additional(all_loops, detectors_file)
    result = ImportResult(cfg.path, cfg.net_file, configs, detectors_file, mappings)
    if profile is not None:
        from sim.intergreen_geometry import write_csv

        write_csv(rows, out_dir / "intergreens.csv")
        result.intergreen_rows = rows
    return result


def import_command(scenario: str, out: Path, red_clearance_ms: int = 0, advance_m: float = 40.0,
                   sequence: str = "free", shown: Path | None = None, exit_loops: bool = False,
                   profile: str | None = None, priority: tuple[str, ...] = ()) -> int:
    """`ampelwerk sim import`: import, print a summary per traffic light; raises ScenarioError on bad input.

    ``shown``: the directory to name in the summary (where ``out`` will be renamed to)."""
    if red_clearance_ms < 0 or red_clearance_ms > 10000:
        raise NetImportError("--red-clearance-ms=%d is outside 0..10000 ms" % red_clearance_ms)
    if not 5 <= advance_m <= 1000:
        raise NetImportError("--advance-m=%g is outside 5..1000 m" % advance_m)
    result = import_scenario(resolve(scenario), Path(out), red_clearance_ms=red_clearance_ms, advance_m=advance_m,
                             sequence=sequence, exit_loops=exit_loops, profile=profile,
                             priority=priority)
    if profile is not None:
        from sim.intergreen_geometry import format_table

        print("intergreens by the %s profile (docs/profiles/%s.md), per conflicting pair:" % (profile, profile))
        for tls_id in result.mappings:
            print("%s:" % tls_id)
            print(format_table([r for r in result.intergreen_rows if r.tls_id == tls_id]))
        print("(also in %s)" % (Path(shown or out) / "intergreens.csv"))
    for tls_id, m in result.mappings.items():
        raw = json.loads(m.config_path.read_text())
        stages = " ".join("%s=%s" % (s["id"], "+".join(s["groups"])) for s in raw["stages"])
        kinds = [d["kind"] for d in raw["detectors"]]
        print("%s -> %s: %d links, %d groups, stages %s, %d stop-bar + %d advance + %d exit loops%s%s" % (
            tls_id, m.config_path.name, m.link_count, len(m.group_links), stages, kinds.count("stop_bar"),
            kinds.count("advance"), kinds.count("exit"), ", %d check-in + %d check-out loops" % (
                kinds.count("check_in"), kinds.count("check_out")) if priority else "",
            ", %d notes" % len(m.notes) if m.notes else ""))
    print("%d configs and %s written to %s" % (len(result.configs), result.detectors_file.name, shown or out))
    return 0
