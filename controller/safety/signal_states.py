# Signal-group display states and their one-letter codes. Runs on the board.
# States are small ints so outputs fit a bytearray, one byte per signal group.
# For pedestrian groups GREEN is WALK and YELLOW is the flashing DON'T WALK
# clearance; RED is solid DON'T WALK. RED_AMBER (red and yellow together,
# German Rot-Gelb, UK red+amber) is shown by a vehicle group whose regional
# profile asks for it, between RED and GREEN; it is a stop display (SUMO 'u').
# FLASHING_GREEN (Austria's Gruenblinken, a profile's flashing_green_ms) ends a
# vehicle green before its yellow: a go display, part of the green (SUMO 'G'/'g'),
# letter 'g' (lowercase for flashing, as 'f' and 'r').
# They came last so the older letters and wire bytes keep their values: a test
# for flash is is_flash(state), never `state > GREEN`.
from controller.compat import const

RED = const(0)
YELLOW = const(1)
GREEN = const(2)
FLASH_YELLOW = const(3)
FLASH_RED = const(4)
DARK = const(5)
RED_AMBER = const(6)
FLASHING_GREEN = const(7)

# index = state; letters used in CSV traces and on the wire
LETTERS = "RYGfrDug"


def is_flash(state):
    # a flash display (flashing yellow or red, or dark): the fail-safe mode
    return FLASH_YELLOW <= state <= DARK


def letter(state):
    return LETTERS[state]


def from_letter(ch):
    i = LETTERS.find(ch)
    if i < 0:
        raise ValueError("unknown signal state letter %r (allowed: %s)" % (ch, LETTERS))
    return i


def write_flash(outputs, is_pedestrian, flash_red):
    # Flash pattern: vehicle heads flash yellow (or red), pedestrian heads dark.
    veh = FLASH_RED if flash_red else FLASH_YELLOW
    for g in range(len(is_pedestrian)):
        outputs[g] = DARK if is_pedestrian[g] else veh
