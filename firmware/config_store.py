# The config on flash: read it at boot, replace it atomically after a valid
# upload. Runs on the board. The file is the intersection JSON (config.json in
# the flash directory; "/" on a board, any directory for the virtual board).
import os


def _join(folder, name):
    return name if folder in ("", ".") else folder.rstrip("/") + "/" + name


def config_path(folder):
    return _join(folder, "config.json")


def read_config(folder):
    # Returns the JSON text; raises OSError when there is none, ValueError
    # when it is not UTF-8 text (a text-mode read raised UnicodeError out of
    # boot, on CPython and MicroPython alike).
    with open(config_path(folder), "rb") as f:
        data = f.read()
    try:
        return data.decode()
    except UnicodeError:
        raise ValueError("%s is not UTF-8 text (save the JSON as UTF-8)" % config_path(folder))


def write_config(folder, data):
    # Write to a temporary file, then rename over the old one: a power cut
    # leaves either the old or the new config, never half of one.
    tmp = _join(folder, "config.json.new")
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        os.remove(config_path(folder))
    except OSError:
        pass
    os.rename(tmp, config_path(folder))
