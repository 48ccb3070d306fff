# Names of the event codes, for CSV export and reports: each code's constant
# in events/codes.py in lower case (PHASE_BEGIN_GREEN: "phase_begin_green"),
# read from that module (and events/priority_codes.py) when this one is
# imported, so they are one table.
# Not needed on the tick path, so a board only loads it when it exports
# events as text.
from controller.events import codes as event_codes
from controller.events import priority_codes

# events/codes.py also holds the values of some codes' parameters: not codes
_PARAMETER_PREFIXES = ("FAULT_", "ALARM_", "COORD_STATE_")


def _is_code(name):
    if not name[:1].isupper():
        return False  # const, modules, private names
    for prefix in _PARAMETER_PREFIXES:
        if name.startswith(prefix):
            return False
    return True


def _names():
    names = {}
    for module in (event_codes, priority_codes):
        for name in dir(module):
            if _is_code(name):
                names[getattr(module, name)] = name.lower()
    return names


NAMES = _names()
