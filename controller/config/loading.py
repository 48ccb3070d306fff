# Loading an intersection config: JSON text or dict -> validated Intersection.
# Runs on the board (the firmware reads the config from flash through here).
# An invalid config never builds: ConfigError carries every problem found.
import json
import sys

from controller.compat import const

# imported before any config is parsed, not when the model is built: its
# field names are then qstrs, which MicroPython's JSON parser reuses for
# the config's keys instead of making str objects of their own (measured: a
# lazy import here costs about 9 KB more heap for four_leg.json while the
# dict lives)
from controller.intersection import Intersection

# no valid config comes near this (64 signal groups, 250 detectors); a
# bigger file is the wrong file, and reading it whole would cost the memory
MAX_CONFIG_FILE_BYTES = const(1048576)
# On a board (small heap) the validator's bytecode goes back to the heap
# before the model is built: the two are never in RAM together (the peak of
# loading a config).
_SMALL_HEAP = sys.implementation.name == "micropython"


class ConfigError(ValueError):
    def __init__(self, errors, source=""):
        self.errors = errors
        self.source = source
        head = "invalid config%s: %d problem%s" % (
            " " + source if source else "", len(errors), "" if len(errors) == 1 else "s")
        super().__init__(head + "\n  " + "\n  ".join(errors))


def parse(text, source=""):
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise ConfigError(["not valid JSON: %s" % e], source)
    except (RuntimeError, MemoryError):  # RecursionError (CPython); MicroPython runs out of heap
        raise ConfigError(["not valid JSON for a config: lists or objects nested too deep to read "
                           "(a config nests four levels)"], source)
    return raw


def load_dict(raw, source="", in_place=False):
    # Validate, fill in every default (once), build the model. The model's
    # raw is the filled-in dict: what the conflict monitor reads. in_place:
    # raw is the caller's to change (filled in place, no copy).
    from controller.config.validation import validate_fields

    errors = validate_fields(raw)
    if errors:
        raise ConfigError(errors, source)
    del validate_fields
    if _SMALL_HEAP:
        _forget("config.validation")
        _forget("config.profile_validation")
    from controller.config.defaults import fill_defaults, with_defaults

    model = Intersection(fill_defaults(raw) if in_place else with_defaults(raw))
    errors = model.fixed_time_errors()
    if raw.get("schedule"):  # each fixed-time plan of the time-of-day program, likewise
        from controller.plan_change import plan_timing_errors

        errors += plan_timing_errors(model)
    if errors:
        raise ConfigError(errors, source)
    return model


def load_text(text, source=""):
    return load_dict(parse(text, source), source, True)


def load_file(path):
    # A config file (host tools, benches): a regular file of UTF-8 text. On a
    # small heap the reader's bytecode and the text are given back before the
    # validator and the model take their share.
    from controller.config import text_file

    path = str(path)
    try:
        text = text_file.read_text(path, MAX_CONFIG_FILE_BYTES, "config")
    except text_file.TextFileError as e:
        raise ConfigError([str(e)], path)
    finally:
        text_file = None
        if _SMALL_HEAP:
            _forget("config.text_file")
    raw = parse(text, path)
    text = None
    if _SMALL_HEAP:
        import gc

        gc.collect()  # the text's and the reader's blocks, free before the validator's start
    return load_dict(raw, path, True)


def _forget(path):
    # drop controller.<path> (dotted: "config.validation") from the module
    # table and from its package, so gc can take its bytecode back
    name = "controller." + path
    if name in sys.modules:
        del sys.modules[name]
    package, leaf = name.rsplit(".", 1)
    package = sys.modules.get(package)
    if package is not None and leaf in package.__dict__:
        delattr(package, leaf)


def unload():
    # On a board: once the Controller is built, the JSON parser and the
    # validator are dead weight in RAM. Drop them so gc can take their bytecode
    # and tables back (they are imported again if a new config is uploaded).
    # The config package goes last, once its modules are gone (every one of
    # them, whichever a config made it load: one prefix rather than a list of
    # names, each of which a board would keep interned).
    for name in list(sys.modules):
        if name.startswith("controller.config."):
            _forget(name[11:])
    for path in ("config", "trace_replay", "events.names"):
        _forget(path)
