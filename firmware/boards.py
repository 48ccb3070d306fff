# Board profiles as data: which pins read the detector loops and which drive
# the load switches (red/yellow/green per channel; a pedestrian head uses red
# for don't-walk and green for walk), the UART of the wire link, the
# watchdog timeout and the detector debounce. Runs on the board.
# Channel k drives signal group k of the config (config order).
# Drivers: "gpio" (one pin per input / lamp), "shift_in" (74HC165 chain),
# "shift_out" (74HC595 chain, 3 bits per channel: red, yellow, green),
# "virtual" (the unix port: no pins; the wire is stdin/stdout).
# Pin numbers are GPIO numbers; docs/firmware.md shows the wiring.

PROFILES = {
    "rp2040-pico": {
        "uart": {"id": 0, "tx": 0, "rx": 1, "baudrate": 115200},
        "watchdog_ms": 2000,
        "host_timeout_ms": 10000,  # lockstep: no tick for this long -> flash until reset
        "tick_ms": 100,
        "debounce_ms": 30,
        # 3 x 74HC165: 24 loop inputs (detector k = bit k of the chain)
        "detectors": {"driver": "shift_in", "load": 2, "clock": 3, "data": 4, "count": 24, "active_low": True},
        # 4 x 74HC595: 10 channels x 3 lamps = 30 bits
        "outputs": {"driver": "shift_out", "data": 16, "clock": 17, "latch": 18, "enable": 19, "channels": 10},
        "status_led": 25,
        "test_hooks": False,
    },
    "esp32": {
        "uart": {"id": 2, "tx": 17, "rx": 16, "baudrate": 115200},
        "watchdog_ms": 2000,
        "host_timeout_ms": 10000,  # lockstep: no tick for this long -> flash until reset
        "tick_ms": 100,
        "debounce_ms": 30,
        # input-capable pins only (34-39 have no pull-ups: loop cards drive them)
        "detectors": {"driver": "gpio", "pins": [34, 35, 36, 39, 32, 33, 25, 26, 27, 14, 12, 13], "active_low": True},
        "outputs": {"driver": "shift_out", "data": 23, "clock": 18, "latch": 5, "enable": 4, "channels": 10},
        "status_led": 2,
        "test_hooks": False,
    },
    # The unix port of MicroPython: the wire is stdin/stdout, the console is
    # stderr, no pins. The only profile with bench test hooks (docs/hil.md).
    "virtual": {
        "uart": None,
        "watchdog_ms": 0,
        "host_timeout_ms": 10000,
        "tick_ms": 100,
        "debounce_ms": 0,
        "detectors": {"driver": "virtual", "count": 64},
        "outputs": {"driver": "virtual", "channels": 64},
        "status_led": None,
        "test_hooks": True,
    },
}


def detector_count(profile):
    d = profile["detectors"]
    return len(d["pins"]) if "pins" in d else d["count"]


def channel_count(profile):
    o = profile["outputs"]
    return len(o["pins"]) if "pins" in o else o["channels"]


def check_fits(profile, ix):
    # '' when the board can run the intersection, else the reason it cannot.
    if ix.n_groups > channel_count(profile):
        return "config has %d signal groups, the board drives %d channels" % (ix.n_groups, channel_count(profile))
    if ix.n_detectors > detector_count(profile):
        return "config has %d detectors, the board reads %d inputs" % (ix.n_detectors, detector_count(profile))
    return ""
