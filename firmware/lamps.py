# Signal states -> lamp bits of the load switches. Runs on the board.
# Bits per channel: 1 red, 2 yellow, 4 green. Pedestrian heads: red =
# don't walk, green = walk; the clearance (YELLOW state) as the regional
# profile shows it (pedestrian = pedestrian_lamps(): 1 flashing don't walk,
# blinking red; 2 steady red; 3 dark).
# Flashing states (flash, and a profile's flashing green) blink at 1 Hz (on
# for the first half second).
from controller.safety.signal_states import FLASH_RED, FLASH_YELLOW, FLASHING_GREEN, GREEN, RED, RED_AMBER, YELLOW

LAMP_RED = 1
LAMP_YELLOW = 2
LAMP_GREEN = 4


def lamp_bits(state, pedestrian, blink_on):
    if state == RED:
        return LAMP_RED
    if state == GREEN:
        return LAMP_GREEN
    if state == YELLOW:
        if pedestrian == 2:
            return LAMP_RED
        if pedestrian == 3:
            return 0
        if pedestrian:
            return LAMP_RED if blink_on else 0
        return LAMP_YELLOW
    if state == RED_AMBER:
        return LAMP_RED | LAMP_YELLOW  # a regional profile's red-amber before green
    if state == FLASHING_GREEN:
        return LAMP_GREEN if blink_on else 0  # a profile's flashing green before yellow
    if state == FLASH_YELLOW:
        return LAMP_YELLOW if blink_on else 0
    if state == FLASH_RED:
        return LAMP_RED if blink_on else 0
    return 0  # DARK


def pedestrian_lamps(ix):
    # per group: 0 for a vehicle head, else how its pedestrian clearance is
    # shown (the config's regional profile, controller/config/profiles.py;
    # flashing don't walk without one). Call while ix.raw is still there.
    display = 1
    name = ix.raw.get("profile")
    if name is not None:
        from controller.config.profiles import PROFILES

        display = {"red": 2, "dark": 3}.get(PROFILES[name]["ped_clearance_display"], 1)
    out = bytearray(ix.n_groups)
    for g in range(ix.n_groups):
        if ix.is_pedestrian[g]:
            out[g] = display
    return out


def fill_lamps(lamps, states, pedestrian, blink_on):
    # lamps: bytearray, one entry per channel (channels past the config stay dark)
    n = len(states)
    for k in range(len(lamps)):
        lamps[k] = lamp_bits(states[k], pedestrian[k], blink_on) if k < n else 0
