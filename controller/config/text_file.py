# Reading a text file that a person names (an intersection config, a corridor
# file): a regular file only (a directory, /dev/zero or a pipe is refused
# before it is opened, so nothing hangs), at most max_bytes, UTF-8 text.
# Runs on the host and on the board: no pathlib, no stat module (the mode is
# the first field of os.stat on CPython and MicroPython alike).
import os

from controller.compat import const

_S_IFMT = const(0o170000)
_S_IFREG = const(0o100000)


class TextFileError(ValueError):
    # The message says what was expected, what was found and what to do.
    pass


def read_text(path, max_bytes, what="file"):
    # The text of the file at path, or TextFileError.
    try:
        st = os.stat(path)
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path (CPython)
        raise TextFileError("cannot read %s: %s" % (path, _reason(e)))
    if st[0] & _S_IFMT != _S_IFREG:
        raise TextFileError("%s is not a regular file (a directory, device or pipe): give the path of a %s" % (path, what))
    # Read what the size says plus one byte (a file that grows meanwhile is
    # read on in chunks up to the limit); never max_bytes at once, which a
    # board's heap would have to find in one piece.
    want = (st[6] if 0 < st[6] <= max_bytes else 4096) + 1
    try:
        with open(path, "rb") as f:
            data = f.read(want)
            while 0 < len(data) <= max_bytes:
                more = f.read(4096)
                if not more:
                    break
                data += more
    except OSError as e:
        raise TextFileError("cannot read %s: %s" % (path, _reason(e)))
    if len(data) > max_bytes:
        raise TextFileError("%s is larger than %d bytes, more than any %s: check the path" % (path, max_bytes, what))
    return decode(data, path)


def decode(data, where):
    # UTF-8 bytes -> text (a leading byte order mark is dropped), or
    # TextFileError naming the first bad byte.
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise TextFileError("%s is UTF-16 or UTF-32 text: save it as UTF-8" % where)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if b"\x00" in data:
        raise TextFileError("%s holds NUL bytes at offset %d (UTF-16 without a byte order mark, or not text): "
                            "save it as UTF-8" % (where, data.index(b"\x00")))
    try:
        return data.decode()
    except UnicodeError as e:
        at = getattr(e, "start", None)  # CPython says where; MicroPython does not
        where_bad = "" if at is None else " (byte 0x%02x at offset %d)" % (data[at], at)
        raise TextFileError("%s is not UTF-8 text%s: save it as UTF-8" % (where, where_bad))


def _reason(e):
    return getattr(e, "strerror", None) or str(e)
