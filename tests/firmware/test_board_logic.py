# Board logic that needs no pins: debounce, lamp bits, board profiles.
# Plain asserts: runs under pytest and under the MicroPython interpreter.
from controller.safety.signal_states import DARK, FLASH_RED, FLASH_YELLOW, GREEN, RED, YELLOW
from firmware.boards import PROFILES, channel_count, detector_count
from firmware.debounce import Debouncer
from firmware.lamps import LAMP_GREEN, LAMP_RED, LAMP_YELLOW, fill_lamps, lamp_bits, pedestrian_lamps


def test_debounce_ignores_chatter_shorter_than_the_debounce_time():
    d = Debouncer(1, 30)
    for raw in (1, 0, 1, 0, 1, 0):
        assert d.update(10, bytearray([raw]))[0] == 0
    for _ in range(2):
        d.update(10, bytearray([1]))
    assert d.presence[0] == 0
    d.update(10, bytearray([1]))
    assert d.presence[0] == 1  # held 30 ms
    d.update(10, bytearray([0]))
    assert d.presence[0] == 1
    d.update(20, bytearray([0]))
    assert d.presence[0] == 0


def test_debounce_zero_follows_the_input_at_once():
    d = Debouncer(2, 0)
    assert d.update(100, bytearray([1, 0])) == bytearray([1, 0])
    assert d.update(100, bytearray([0, 1])) == bytearray([0, 1])


def test_lamp_bits_for_vehicle_and_pedestrian_heads():
    assert lamp_bits(RED, 0, True) == LAMP_RED
    assert lamp_bits(GREEN, 0, True) == LAMP_GREEN
    assert lamp_bits(YELLOW, 0, False) == LAMP_YELLOW  # steady yellow does not blink
    assert lamp_bits(YELLOW, 1, True) == LAMP_RED and lamp_bits(YELLOW, 1, False) == 0  # flashing don't walk
    assert lamp_bits(GREEN, 1, True) == LAMP_GREEN  # walk
    assert lamp_bits(FLASH_YELLOW, 0, True) == LAMP_YELLOW and lamp_bits(FLASH_YELLOW, 0, False) == 0
    assert lamp_bits(FLASH_RED, 0, True) == LAMP_RED and lamp_bits(FLASH_RED, 0, False) == 0
    assert lamp_bits(DARK, 0, True) == 0


def test_unused_channels_stay_dark():
    lamps = bytearray([7] * 5)
    fill_lamps(lamps, bytearray([GREEN, RED]), bytearray(2), True)
    assert lamps == bytearray([LAMP_GREEN, LAMP_RED, 0, 0, 0])


def test_every_profile_is_complete_and_only_the_virtual_board_has_test_hooks():
    for name in ("rp2040-pico", "esp32", "virtual"):
        p = PROFILES[name]
        for key in ("uart", "watchdog_ms", "tick_ms", "debounce_ms", "detectors", "outputs", "test_hooks"):
            assert key in p, (name, key)
        assert channel_count(p) >= 4 and detector_count(p) >= 4
        assert p["test_hooks"] == (name == "virtual")
        if name != "virtual":
            assert p["watchdog_ms"] > 0 and p["debounce_ms"] > 0


def test_pin_maps_use_each_pin_once():
    for name in ("rp2040-pico", "esp32"):
        p = PROFILES[name]
        pins = [p["uart"]["tx"], p["uart"]["rx"]]
        for part in (p["detectors"], p["outputs"]):
            for k, v in part.items():
                if k == "pins":
                    pins.extend(v)
                elif k in ("load", "clock", "data", "latch", "enable"):
                    pins.append(v)
        assert len(pins) == len(set(pins)), (name, pins)


def test_red_amber_lights_red_and_yellow_together():
    from controller.safety.signal_states import RED_AMBER

    assert lamp_bits(RED_AMBER, 0, True) == LAMP_RED | LAMP_YELLOW
    assert lamp_bits(RED_AMBER, 0, False) == LAMP_RED | LAMP_YELLOW  # steady, not flashing


def test_flashing_green_blinks_green():
    from controller.safety.signal_states import FLASHING_GREEN

    assert [lamp_bits(FLASHING_GREEN, 0, b) for b in (True, False)] == [LAMP_GREEN, 0]


def test_pedestrian_clearance_shows_as_the_profile_says():
    from controller.config.loading import load_dict
    from tests.controller.core_support import copy_raw, example_raw

    # flashing don't walk (no profile, us-mutcd), steady red (de-rilsa), dark (uk)
    assert [lamp_bits(YELLOW, 1, b) for b in (True, False)] == [LAMP_RED, 0]
    assert [lamp_bits(YELLOW, 2, b) for b in (True, False)] == [LAMP_RED, LAMP_RED]
    assert [lamp_bits(YELLOW, 3, b) for b in (True, False)] == [0, 0]
    for profile, code in ((None, 1), ("us-mutcd", 1), ("de-rilsa", 2), ("uk", 3)):
        raw = copy_raw(example_raw())
        if profile:
            raw["profile"] = profile
            for g in raw["signal_groups"]:
                if g.get("kind") != "pedestrian":
                    g.update(min_green_ms=7000, yellow_ms=3000)
        ix = load_dict(raw)
        assert list(pedestrian_lamps(ix)) == [code if p else 0 for p in ix.is_pedestrian]
