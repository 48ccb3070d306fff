# Signal-group display states and their one-letter codes. Runs on the board.
# States are small ints so outputs fit a bytearray, one byte per signal group.
# For pedestrian groups GREEN is WALK and YELLOW is the flashing DON'T WALK
# clearance; RED is solid DON'T WALK.
from controller.compat import const

RED = const(0)
YELLOW = const(1)
GREEN = const(2)
FLASH_YELLOW = const(3)
FLASH_RED = const(4)
DARK = const(5)

# index = state; letters used in CSV traces and on the wire
LETTERS = "RYGfrD"
NAMES = ("red", "yellow", "green", "flashing-yellow", "flashing-red", "dark")


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
