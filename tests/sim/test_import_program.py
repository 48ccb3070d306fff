"""Rules of sim.import_program on hand-written programs (no SUMO needed)."""

from __future__ import annotations

from sim.import_program import (
    Phase,
    analyse,
    green_limits_ms,
    longest_all_red_ms,
    program_intergreen_ms,
    program_splits_ms,
    yellow_ms,
)

# links 0,1: main through (1 permissive 'g' left shares the phase); 2: side street; 3: never green
MAIN_SIDE = [
    Phase("GGrr", 30, 10, 50),
    Phase("yyrr", 4),
    Phase("rrrr", 2),
    Phase("rrGr", 20),
    Phase("rryr", 3),
    Phase("rrrr", 1),
]


def test_groups_stages_conflicts_and_green_letters():
    prog = [Phase("GgrrR", 30), Phase("yyrrr", 3), Phase("rrGGr", 20), Phase("rryyr", 3)]
    a = analyse(prog)
    # links 0 and 1 show the same colours in every phase ('G' and 'g' are both green)
    assert a.group_links == {"K1": [0, 1], "K2": [2, 3]}
    assert a.always_red_links == [4]
    assert a.green_chars == "GgGGr"
    assert a.stages == [["K1"], ["K2"]]
    assert a.stage_phases == [[0], [2]]
    assert a.conflicts == [("K1", "K2")]


def test_groups_shown_green_together_never_conflict_and_transition_green_gets_a_stage():
    # link 2 (permissive left) is green with the through links and alone in phase 2;
    # link 3 is green only during the yellow of phase 1
    prog = [Phase("GGgr", 30), Phase("yyGG", 5), Phase("rrGr", 10), Phase("rryr", 3)]
    a = analyse(prog)
    assert a.group_links == {"K1": [0, 1], "K2": [2], "K3": [3]}
    assert ("K1", "K2") not in a.conflicts  # shown together in phase 0
    assert ("K1", "K3") in a.conflicts  # never both green
    # stages: phase 0 and phase 2 (no yellow); K3 only appears with yellow, so phase 1 is taken
    assert a.stages == [["K1", "K2"], ["K2", "K3"], ["K2"]]
    assert any("K3" in n for n in a.notes)


def test_duplicate_green_phases_merge_into_one_stage():
    prog = [Phase("Gr", 10), Phase("yr", 3), Phase("rG", 10), Phase("ry", 3), Phase("Gr", 5), Phase("yr", 3)]
    a = analyse(prog)
    assert a.stages == [["K1"], ["K2"]]
    assert a.stage_phases == [[0, 4], [2]]
    assert program_splits_ms(prog, a.stage_phases) == [21000, 13000]


def test_pedestrian_links_form_their_own_groups():
    prog = [Phase("GGr", 30), Phase("yrr", 3), Phase("rrG", 20), Phase("rry", 3)]
    a = analyse(prog, pedestrian_links={1})
    assert a.group_links == {"K1": [0], "P1": [1], "K2": [2]}
    assert a.pedestrian == {"P1"}
    assert a.stages == [["K1", "P1"], ["K2"]]


def test_timing_from_the_program():
    a = analyse(MAIN_SIDE)
    main, side = a.group_colours["K1"], a.group_colours["K2"]
    assert yellow_ms(MAIN_SIDE, main) == 4000
    assert yellow_ms(MAIN_SIDE, side) == 3000
    stages = {0, 3}
    assert program_intergreen_ms(MAIN_SIDE, main, side, stages) == 6000  # yellow 4 s + all red 2 s
    assert program_intergreen_ms(MAIN_SIDE, side, main, stages) == 4000  # yellow 3 s + all red 1 s
    assert longest_all_red_ms(MAIN_SIDE) == 2000
    assert green_limits_ms(MAIN_SIDE, [0], 5000, 45000) == (10000, 50000)
    assert green_limits_ms(MAIN_SIDE, [3], 5000, 45000) == (5000, 45000)  # no minDur/maxDur: defaults


def test_intergreen_counts_only_direct_transitions():
    # A -> B -> C: the program never goes from A straight to C
    prog = [Phase("Grr", 20), Phase("yrr", 3), Phase("rGr", 20), Phase("ryr", 3), Phase("rrG", 20), Phase("rry", 3)]
    a = analyse(prog)
    col = a.group_colours
    stages = {0, 2, 4}
    assert program_intergreen_ms(prog, col["K1"], col["K2"], stages) == 3000
    assert program_intergreen_ms(prog, col["K1"], col["K3"], stages) is None
