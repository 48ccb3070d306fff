"""Analysis of one SUMO traffic-light program into signal groups, stages and timing.

Host code (CPython), never on the board, and free of SUMO imports: it works on
the phases' state strings and durations only, so its rules are testable
without a net. Units: phase durations come in seconds (SUMO), everything
returned is in integer milliseconds. The rules are documented in
docs/sim-import.md; net_import.py applies them to a net.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.config.schema import INTERGREEN_MAX_MS, VEHICLE_TIMING

GREEN_LETTERS = "Gg"
YELLOW_LETTERS = "yY"
# 'r', 'R' red; 'u' red-yellow (the moment before green) counts as red; 'o', 'O' (off) as red;
# 's' (stop, then go: right turn on red) is a red display too: the vehicle must
# stop and yield to every foe, so the link keeps showing 's' while its group is red
_, YELLOW_FLOOR_MS, YELLOW_CEILING_MS = VEHICLE_TIMING["yellow_ms"]  # the core's yellow range


@dataclass
class Phase:
    """One phase of a program: state string, duration and optional minDur/maxDur (s)."""

    state: str
    duration_s: float
    min_dur_s: float | None = None
    max_dur_s: float | None = None


def _colour(letter: str) -> str:
    if letter in GREEN_LETTERS:
        return "G"
    if letter in YELLOW_LETTERS:
        return "y"
    return "r"


@dataclass
class ProgramAnalysis:
    """What one program says: groups (as link lists), stages, sequence, timing."""

    link_count: int
    group_ids: list[str]
    group_links: dict[str, list[int]]
    pedestrian: set[str]
    green_chars: str
    red_chars: str  # per link, shown while its group is red: 's' where the program lets it turn on red, else 'r'
    always_red_links: list[int]
    # colour of each group in each phase: "G", "y" or "r"
    group_colours: dict[str, list[str]]
    stages: list[list[str]]  # in sequence order
    stage_phases: list[list[int]]  # phase indices of each stage
    conflicts: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)


def analyse(phases: list[Phase], pedestrian_links: set[int] = frozenset()) -> ProgramAnalysis:
    """Group links, find stages and the sequence, and derive conflicts from one program.

    Links whose colour (green/yellow/red) is identical in every phase form one
    group; vehicle links give K1.., pedestrian-crossing links P1... Links never
    green are left out (always_red_links). A stage is the set of groups green in
    a phase that shows no yellow; a group green only in phases with yellow gets
    a stage from the first such phase. Groups never green together conflict.
    """
    n = len(phases[0].state)
    notes: list[str] = []
    for p in phases:
        if len(p.state) != n:
            raise ValueError("phase states of unequal length (%d and %d links)" % (n, len(p.state)))
    by_pattern: dict[tuple[bool, str], list[int]] = {}
    always_red = []
    for i in range(n):
        colours = "".join(_colour(p.state[i]) for p in phases)
        if "G" not in colours:
            always_red.append(i)
            continue
        by_pattern.setdefault((i in pedestrian_links, colours), []).append(i)
    vehicle_n = ped_n = 0
    group_links: dict[str, list[int]] = {}
    group_colours: dict[str, list[str]] = {}
    pedestrian: set[str] = set()
    for (is_ped, colours), links in sorted(by_pattern.items(), key=lambda kv: kv[1][0]):
        if is_ped:
            ped_n += 1
            gid = "P%d" % ped_n
            pedestrian.add(gid)
        else:
            vehicle_n += 1
            gid = "K%d" % vehicle_n
        group_links[gid] = links
        group_colours[gid] = list(colours)
    group_ids = list(group_links)
    # the letter each link shows when green: 'g' (yield to foes) wherever the
    # program ever shows it permissive, so a link never gets priority over a foe
    chars = []
    red_chars = []
    for i in range(n):
        greens = [p.state[i] for p in phases if p.state[i] in GREEN_LETTERS]
        chars.append("r" if not greens else "g" if "g" in greens else "G")
        red_chars.append("s" if any(p.state[i] == "s" for p in phases) else "r")
    if vehicle_n == 0:
        raise ValueError("the program never shows green to a vehicle link")

    def green_in(k: int) -> list[str]:
        return [g for g in group_ids if group_colours[g][k] == "G"]

    stage_sets: list[frozenset[str]] = []
    stage_phases: list[list[int]] = []

    def add_stage(k: int) -> None:
        s = frozenset(green_in(k))
        if all(g in pedestrian for g in s):
            notes.append("phase %d shows green to pedestrian groups only; not a stage" % k)
            return
        if s in stage_sets:
            stage_phases[stage_sets.index(s)].append(k)
        else:
            stage_sets.append(s)
            stage_phases.append([k])

    for k, p in enumerate(phases):
        colours = [group_colours[g][k] for g in group_ids]
        if "G" in colours and "y" not in colours:
            add_stage(k)
    for g in group_ids:
        if not any(g in s for s in stage_sets):
            k = group_colours[g].index("G")
            notes.append("group %s is green only in transition phases; phase %d taken as a stage" % (g, k))
            add_stage(k)
    for g in [g for g in group_ids if not any(g in s for s in stage_sets)]:
        notes.append("pedestrian group %s is never green with a vehicle group; left out" % g)
        always_red.extend(group_links.pop(g))
        group_colours.pop(g)
        group_ids.remove(g)
    # sequence: the program's order of first appearance
    order = sorted(range(len(stage_sets)), key=lambda s: stage_phases[s][0])
    stages = [sorted(stage_sets[s], key=group_ids.index) for s in order]
    stage_phases = [stage_phases[s] for s in order]
    if any(len(ph) > 1 for ph in stage_phases):
        notes.append("the program shows a stage more than once per cycle; the sequence keeps its first appearance")
    conflicts = []
    for a_i, a in enumerate(group_ids):
        for b in group_ids[a_i + 1:]:
            together = any(ca == "G" and cb == "G" for ca, cb in zip(group_colours[a], group_colours[b]))
            if not together:
                conflicts.append((a, b))
    return ProgramAnalysis(n, group_ids, group_links, pedestrian, "".join(chars), "".join(red_chars), sorted(always_red),
                           group_colours, stages, stage_phases, conflicts, notes)


def _green_ends(colours: list[str]) -> list[int]:
    """Phase indices after which the group leaves green (cyclic)."""
    m = len(colours)
    return [k for k in range(m) if colours[k] == "G" and colours[(k + 1) % m] != "G"]


def yellow_ms(phases: list[Phase], colours: list[str]) -> int:
    """Longest run of yellow after the group's green ends, in ms (0 if it never shows yellow)."""
    m = len(phases)
    worst = 0
    for k in _green_ends(colours):
        t = 0.0
        q = (k + 1) % m
        while colours[q] == "y" and q != k:
            t += phases[q].duration_s
            q = (q + 1) % m
        worst = max(worst, int(round(t * 1000)))
    return worst


def program_intergreen_ms(phases: list[Phase], a: list[str], b: list[str], stage_phases: set[int]) -> int | None:
    """Longest time the program runs from the end of green of a to the start of green of b.

    Only direct transitions count: b must turn green before the program reaches
    the next stage phase without b (or a turns green again). None if there is none.
    """
    m = len(phases)
    worst = None
    for k in _green_ends(a):
        t = 0.0
        for step in range(1, m + 1):
            q = (k + step) % m
            if b[q] == "G":
                worst = max(worst or 0, int(round(t * 1000)))
                break
            if a[q] == "G" or q in stage_phases:
                break
            t += phases[q].duration_s
    return worst


def longest_all_red_ms(phases: list[Phase]) -> int:
    """Longest run of consecutive phases with neither green nor yellow, in ms."""
    m = len(phases)
    dark = [all(_colour(c) == "r" for c in p.state) for p in phases]
    if all(dark):
        return 0
    worst = 0
    for k in range(m):
        if dark[k] and not dark[k - 1]:
            t = 0.0
            q = k
            while dark[q]:
                t += phases[q].duration_s
                q = (q + 1) % m
            worst = max(worst, int(round(t * 1000)))
    return worst


def green_limits_ms(phases: list[Phase], stage_phase_ids: list[int], default_min_ms: int,
                    default_max_ms: int) -> tuple[int, int]:
    """(min green, max green) from minDur/maxDur of the stage phases where present, else the defaults."""
    mins = [phases[k].min_dur_s for k in stage_phase_ids if phases[k].min_dur_s is not None]
    maxs = [phases[k].max_dur_s for k in stage_phase_ids if phases[k].max_dur_s is not None]
    lo = int(round(min(mins) * 1000)) if mins else default_min_ms
    hi = int(round(max(maxs) * 1000)) if maxs else default_max_ms
    _, lo_min, lo_max = VEHICLE_TIMING["min_green_ms"]
    _, hi_min, hi_max = VEHICLE_TIMING["max_green_ms"]
    lo = min(max(lo, lo_min), lo_max)
    hi = min(max(hi, lo, hi_min), hi_max)
    return lo, hi


def program_splits_ms(phases: list[Phase], stage_phases: list[list[int]]) -> list[int]:
    """Split of each stage: its green phases plus the transition phases that follow them, in ms."""
    owner = {}
    for s, ks in enumerate(stage_phases):
        for k in ks:
            owner[k] = s
    splits = [0] * len(stage_phases)
    m = len(phases)
    first = min(owner)
    current = owner[first]
    for step in range(m):
        k = (first + step) % m
        current = owner.get(k, current)
        splits[current] += int(round(phases[k].duration_s * 1000))
    return splits


def intergreens_ms(phases: list[Phase], a: ProgramAnalysis, clearance_ms: dict[str, int],
                   red_clearance_ms: int) -> dict[str, dict[str, int]]:
    """{clearing: {entering: ms}} for every conflicting ordered pair.

    The program's own time from end of green to start of green over direct
    transitions plus red_clearance_ms, at least the clearing group's clearance
    (yellow or ped clearance) plus red_clearance_ms; without a direct transition,
    that floor plus the program's longest all-red run. Capped at 60 s.
    """
    all_red_ms = longest_all_red_ms(phases)
    stage_phase_set = {k for ks in a.stage_phases for k in ks}
    out: dict[str, dict[str, int]] = {}
    for x, y in a.conflicts:
        for c, e in ((x, y), (y, x)):
            seen = program_intergreen_ms(phases, a.group_colours[c], a.group_colours[e], stage_phase_set)
            floor = clearance_ms[c] + red_clearance_ms
            value = floor + all_red_ms if seen is None else max(seen + red_clearance_ms, floor)
            out.setdefault(c, {})[e] = min(value, INTERGREEN_MAX_MS)
    return out


def fixed_time_plan(raw: dict, phases: list[Phase], stage_phases: list[list[int]]) -> tuple[dict | None, list[str]]:
    """The program as a fixed_time plan for a config without one, and notes.

    Splits come from program_splits_ms; one below the core's minimum (stage min
    green + transition to the next stage) is raised to it. No plan if the
    config is invalid or the cycle is outside the core's range.
    """
    from controller.config.loading import ConfigError, load_dict
    from controller.config.schema import CYCLE_RANGE

    try:
        model = load_dict(raw)
    except ConfigError:
        return None, []  # the caller reports the config's own problems
    order = list(model.sequence)  # stage numbers in sequence order (= stage_phases order)
    splits = program_splits_ms(phases, stage_phases)
    notes = []
    for n, s in enumerate(order):
        nxt = order[(n + 1) % len(order)]
        need = model.transition_ms(s, nxt) + model.stage_min_green_ms(s)
        if splits[n] < need:
            notes.append("fixed_time: split of %s raised from %d to %d ms (min green + transition)"
                         % (model.stage_ids[s], splits[n], need))
            splits[n] = need
    cycle = sum(splits)
    if not CYCLE_RANGE[0] <= cycle <= CYCLE_RANGE[1]:
        return None, notes + ["no fixed_time plan: cycle %d ms outside the core's %d..%d ms" % ((cycle,) + CYCLE_RANGE)]
    return {"cycle_ms": cycle, "offset_ms": 0,
            "splits_ms": {model.stage_ids[s]: v for s, v in zip(order, splits)}}, notes
