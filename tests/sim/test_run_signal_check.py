"""The signal safety check finds each kind of violation in a hand-written signals.csv (no SUMO)."""

from __future__ import annotations

from sim.signal_check import check_signals

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
