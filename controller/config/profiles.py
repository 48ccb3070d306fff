# Regional signal profiles: the sequence and the default and allowed timings
# each set of rules asks for. Runs on the board (at load only; never on the
# tick path). Units: ms, km/h. The geometry part (intergreens from distances
# and speeds) is host-only: sim/intergreen_geometry.py. The tables and the
# sources of every number are in docs/profiles/.
#
# A config names its profile in the top-level `profile` field; without one
# nothing here applies (today's sequence and config/schema.py's ranges). A
# profile fills its defaults in before config/schema.py's (fill_profile) and
# its ranges are checked on top of schema's (config/profile_validation.py).
from controller.compat import const

PROFILE_NAMES = ("de-rilsa", "us-mutcd", "uk", "custom")
APPROACH_SPEED_KMH = (None, 10, 130)  # per vehicle group, optional
PED_CLEARANCE_DISPLAYS = ("flashing-dont-walk", "red", "dark")

# ITE yellow change interval y = t + v / (2a + 2Gg), with perception-reaction
# time t = 1 s, deceleration a = 3.05 m/s2 (10 ft/s2) and grade G = 0:
# y = 1000 + v[km/h] * 1000 / 3.6 / 6.1 ms = 1000 + v * 1000000 / 21960 ms.
_ITE_REACTION_MS = const(1000)
_ITE_KMH_DIVISOR = const(21960)  # 3.6 (km/h per m/s) * 2 * 3.05 m/s2 * 1000
_ROUND_MS = const(100)


def _ceil_to(v, step):
    return (v + step - 1) // step * step


def yellow_for_speed_ms(name, speed_kmh):
    # the profile's yellow for an approach speed (None: the profile's default)
    if speed_kmh is None:
        return PROFILES[name]["yellow_ms"][0]
    if name == "de-rilsa":
        # RiLSA (2015) 2.5: 3 s at 50 km/h, 4 s at 60 km/h, 5 s at 70 km/h
        if speed_kmh <= 50:
            return 3000
        return 4000 if speed_kmh <= 60 else 5000
    if name == "us-mutcd":
        # ITE kinematic formula (above), rounded up to 0.1 s, within MUTCD's 3 to 6 s
        y = _ceil_to(_ITE_REACTION_MS + (speed_kmh * 1000000 + _ITE_KMH_DIVISOR - 1) // _ITE_KMH_DIVISOR, _ROUND_MS)
        return 3000 if y < 3000 else 6000 if y > 6000 else y
    return PROFILES[name]["yellow_ms"][0]  # uk: amber 3 s; custom: schema's default


# name -> the sequence and timings; (default, min, max) in ms like config/schema.py.
# min_red_ms: the least red_revert_ms (minimum red of a group after its own yellow).
PROFILES = {
    "de-rilsa": {
        "red_amber_ms": (1000, 1000, 2000),  # RiLSA: Rot-Gelb 1 s for motor traffic
        "yellow_ms": (3000, 3000, 5000),  # 3 / 4 / 5 s by approach speed (yellow_for_speed_ms)
        "min_green_ms": (5000, 5000, 120000),  # RiLSA: Mindestfreigabezeit 5 s
        "min_red_ms": (2000, 1000, 30000),
        "walk_ms": (5000, 5000, 60000),  # pedestrians: 5 s min green too
        "ped_clearance_display": "red",  # no flashing: the pedestrian clearance runs in red
        "flashing_green_ms": (0, 0, 0),
    },
    "us-mutcd": {
        "red_amber_ms": (0, 0, 0),  # MUTCD: no red-amber
        "yellow_ms": (3300, 3000, 6000),  # ITE formula by approach speed; MUTCD 4D.26: 3 to 6 s
        "min_green_ms": (5000, 4000, 120000),  # per agency; 4 s is the lowest in common use
        "min_red_ms": (2000, 1000, 30000),
        "walk_ms": (7000, 4000, 60000),  # MUTCD 4E.06: walk 7 s, 4 s where few pedestrians
        "ped_clearance_display": "flashing-dont-walk",
        "flashing_green_ms": (0, 0, 0),
    },
    "uk": {
        "red_amber_ms": (2000, 2000, 2000),  # TSRGD: red+amber 2 s
        "yellow_ms": (3000, 3000, 3000),  # TSRGD: amber 3 s
        "min_green_ms": (7000, 7000, 120000),  # 7 s minimum green (DfT TAL 1/06 practice)
        "min_red_ms": (2000, 1000, 30000),
        "walk_ms": (5000, 4000, 60000),  # green man (invitation to cross)
        "ped_clearance_display": "dark",  # blackout (far-side signals) during the clearance
        "flashing_green_ms": (0, 0, 0),
    },
    "custom": {
        "red_amber_ms": (0, 0, 3000),  # set per group; 0: none
        "yellow_ms": (3000, 3000, 8000),
        "min_green_ms": (5000, 1000, 120000),
        "min_red_ms": (2000, 1000, 30000),
        "walk_ms": (7000, 1000, 60000),
        "ped_clearance_display": "flashing-dont-walk",
        "flashing_green_ms": (0, 0, 4000),  # set per group; 0: none (Austria: 4 s)
    },
}


def fill_profile(raw):
    # The profile's defaults into raw's signal groups (before config/schema.py's):
    # red-amber, yellow by approach speed, min green, red revert, walk.
    name = raw.get("profile")
    if name is None:
        return
    p = PROFILES[name]
    for g in raw["signal_groups"]:
        if g.get("kind", "vehicle") == "pedestrian":
            if g.get("walk_ms") is None:
                g["walk_ms"] = p["walk_ms"][0]
        else:
            if g.get("red_amber_ms") is None:
                g["red_amber_ms"] = p["red_amber_ms"][0]
            if g.get("flashing_green_ms") is None:
                g["flashing_green_ms"] = p["flashing_green_ms"][0]
            if g.get("yellow_ms") is None:
                g["yellow_ms"] = yellow_for_speed_ms(name, g.get("approach_speed_kmh"))
            if g.get("min_green_ms") is None:
                g["min_green_ms"] = p["min_green_ms"][0]
        if g.get("red_revert_ms") is None:
            g["red_revert_ms"] = p["min_red_ms"][0]
