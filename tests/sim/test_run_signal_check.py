"""The signal safety check finds each kind of violation in a hand-written signals.csv (no SUMO)."""

from __future__ import annotations

from sim.signal_check import TlsFacts, check_signals, program_pairs

# two groups on a 4-link light: K1 links 0,1 (G, g), K2 link 2, link 3 always red
CONFIG = {
    "id": "J", "signal_groups": [{"id": "K1", "yellow_ms": 3000}, {"id": "K2", "yellow_ms": 4000}],
    "conflicts": [["K1", "K2"]], "intergreen_ms": {"K1": {"K2": 5000}, "K2": {"K1": 6000}},
    "source": {"sumo": {"link_count": 4, "group_links": {"K1": [0, 1], "K2": [2]}, "green_chars": "GgGr",
                        "always_red_links": [3]}},
}
GOOD = """time_s,tls_id,state
0.000,J,ooor
5.000,J,rrrr
10.000,J,Ggrr
30.000,J,yyrr
33.000,J,rrrr
35.000,J,rrGr
50.000,J,rryr
54.000,J,rrrr
56.000,J,Ggrr
"""


def check(tmp_path, text: str) -> list[str]:
    p = tmp_path / "signals.csv"
    p.write_text(text)
    return check_signals(p, {"J": CONFIG}, step_s=1.0)


def test_a_correct_sequence_passes(tmp_path):
    # K1 yellow 3 s, intergreen K1->K2 5 s (30 -> 35); K2 yellow 4 s, intergreen K2->K1 6 s (50 -> 56)
    assert check(tmp_path, GOOD) == []
    # one step of tolerance: K2 green 4.5 s after K1's end of green is accepted with 1 s steps
    assert check(tmp_path, GOOD.replace("35.000,J,rrGr", "34.500,J,rrGr")) == []


def test_each_violation_is_reported(tmp_path):
    assert "open together" in check(tmp_path, GOOD.replace("35.000,J,rrGr", "35.000,J,GgGr"))[0]
    assert "intergreen 5.000 s" in check(tmp_path, GOOD.replace("35.000,J,rrGr", "33.500,J,rrGr"))[0]
    assert "yellow lasted 1.000 s, configured 3.000 s" in check(tmp_path, GOOD.replace("33.000,J,rrrr", "31.000,J,rrrr"))[0]
    assert "without yellow" in check(tmp_path, GOOD.replace("30.000,J,yyrr", "30.000,J,rrrr"))[0]
    assert "show different colours" in check(tmp_path, GOOD.replace("30.000,J,yyrr", "30.000,J,Gyrr"))[0]
    assert "always-red link 3" in check(tmp_path, GOOD.replace("10.000,J,Ggrr", "10.000,J,GgrG"))[0]


def test_other_traffic_lights_are_ignored(tmp_path):
    assert check(tmp_path, GOOD + "60.000,OTHER,GGGG\n") == []


def test_yellow_straight_to_green_is_reported(tmp_path):
    # K1 yellow, then green again with no red row between
    bad = GOOD.replace("33.000,J,rrrr\n35.000,J,rrGr", "33.000,J,Ggrr\n35.000,J,yyrr\n38.000,J,rrrr\n40.000,J,rrGr")
    assert any("link 0 went from yellow straight to 'G'" in p for p in check(tmp_path, bad))


# A permissive left (link 1, 'g') yields to the opposing through (link 2, 'G'): foes the program shows
# green together (program phases below), a third link 3 conflicts with both.
PROGRAM = ["GgGr", "yyyr", "rrrG", "rrry"]
PERMISSIVE = {
    "id": "P", "signal_groups": [{"id": "K1", "yellow_ms": 3000}, {"id": "K2", "yellow_ms": 3000},
                                 {"id": "K3", "yellow_ms": 3000}],
    "conflicts": [["K1", "K3"], ["K2", "K3"]],
    "intergreen_ms": {"K1": {"K3": 3000}, "K3": {"K1": 3000, "K2": 3000}, "K2": {"K3": 3000}},
    "source": {"sumo": {"link_count": 4, "group_links": {"K1": [0, 1], "K2": [2], "K3": [3]}, "green_chars": "GgGG",
                        "always_red_links": []}},
}
FACTS = {"P": TlsFacts({(0, 3), (1, 2), (1, 3), (2, 3)}, program_pairs(PROGRAM))}
SAFE = """time_s,tls_id,state
0.000,P,rrrr
5.000,P,GgGr
30.000,P,yyyr
33.000,P,rrrr
36.000,P,rrrG
"""


def _perm(tmp_path, text: str) -> list[str]:
    p = tmp_path / "signals.csv"
    p.write_text(text)
    return check_signals(p, {"P": PERMISSIVE}, 1.0, FACTS)


def test_the_nets_foes_pass_what_the_program_shows(tmp_path):
    assert _perm(tmp_path, SAFE) == []


def test_a_yellow_trap_against_the_nets_foes_is_reported(tmp_path):
    # the permissive left (link 1) ends while the opposing through (link 2) stays green
    trap = SAFE.replace("30.000,P,yyyr", "30.000,P,yyGr").replace("33.000,P,rrrr", "33.000,P,rrGr\n36.500,P,rryr\n39.500,P,rrrr")
    assert any("yellow trap: link 1 yellow beside foe link 2 'G'" in p for p in _perm(tmp_path, trap))
    # and a green started beside the clearance of its partner
    trap2 = SAFE.replace("30.000,P,yyyr", "30.000,P,rrGr\n31.000,P,Ggyr")
    assert any("yellow trap" in p for p in _perm(tmp_path, trap2))


def test_priority_green_where_the_program_gives_permissive_is_reported(tmp_path):
    bad = SAFE.replace("5.000,P,GgGr", "5.000,P,GGGr")
    assert any("foe links 1 'G' and 2 'G' together" in p for p in _perm(tmp_path, bad))
