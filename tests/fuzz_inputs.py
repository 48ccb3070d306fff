"""Generated bad input for every parser a user or a device reaches (hypothesis strategies).

Each input starts from a good file of the repo and is broken the ways files
break: a value of the wrong type or size anywhere in the JSON tree (lists
and objects where ids are expected, numbers past any range, NaN), fields
dropped, added or swapped, and bytes broken on the way (truncated, not
UTF-8, UTF-16, a byte flipped, nested thousands deep, random bytes). The
property every parser must hold is one: a valid result, or an error that
says what is wrong; never another exception, never a hang, never partial
output files. Used by the fuzz tests (a few hundred inputs each) and by
bench/fuzz_parsers.py (100,000 per parser).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = (ROOT / "examples" / "four_leg.json", ROOT / "tests" / "coordinator" / "data" / "arterial5" / "J1.json")
CORRIDOR_DIR = ROOT / "tests" / "coordinator" / "data" / "arterial5"
TRACE = ROOT / "examples" / "four_leg_trace.csv"

_BASE_CONFIGS = [json.loads(p.read_text()) for p in CONFIGS]
# the arterial's corridor as `sim import arterial5 --corridor` writes it (with the SUMO geometry)
_BASE_CORRIDOR = json.loads((ROOT / "tests" / "sim" / "data" / "arterial5_corridor.json").read_text())
_TRACE_LINES = TRACE.read_text().splitlines()[:40]


def _strings_in(tree, out: set) -> set:
    """Every string (values and keys) of a JSON tree: ids to mix in as references."""
    if isinstance(tree, str):
        out.add(tree)
    elif isinstance(tree, list):
        for v in tree:
            _strings_in(v, out)
    elif isinstance(tree, dict):
        for k, v in tree.items():
            out.add(k)
            _strings_in(v, out)
    return out


_NAMES = sorted(_strings_in(_BASE_CONFIGS, set()) | _strings_in(_BASE_CORRIDOR, set()))

_scalars = (st.none() | st.booleans()
            | st.integers(min_value=-2**70, max_value=2**70)
            | st.sampled_from([0, -1, 1, 2**31, 2**63, 10**400, -10**400])
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=12)
            | st.sampled_from(_NAMES))
json_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8) | st.sampled_from(_NAMES), inner, max_size=4),
                           max_leaves=12)


_numbers = (st.sampled_from([0, -1, 1, 999, 2**31 - 1, 2**31, 2**63, 10**400, -10**400, 0.5, 1e308,
                             float("nan"), float("inf"), -float("inf")])
            | st.integers(min_value=-10**7, max_value=10**7))


def _at(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def _paths(tree, here=()) -> list[tuple]:
    """Every place in a JSON tree: the path of keys and indices to it."""
    out = [here]
    if isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, here + (i,))
    elif isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, here + (k,))
    return out


@st.composite
def mutated_tree(draw, base) -> object:
    """A copy of a JSON tree with one to four places replaced, dropped, added to or swapped."""
    tree = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(tree)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(("replace", "replace", "drop", "add", "swap", "number", "number")))
        if op == "number":  # a number of the tree, made another size (the likeliest slip)
            numbers = [p for p in paths if p and isinstance(_at(tree, p), (int, float))
                       and not isinstance(_at(tree, p), bool)]
            if not numbers:
                continue
            path = draw(st.sampled_from(numbers))
            op = "set"
        if not path:
            if op == "replace":
                tree = draw(json_values)
            continue
        parent = tree
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        if op == "replace":
            parent[key] = draw(json_values)
        elif op == "set":
            parent[key] = draw(_numbers)
        elif op == "drop":
            del parent[key]
        elif op == "add":
            if isinstance(parent, list):
                parent.insert(key, draw(json_values))
            else:
                parent[draw(st.text(max_size=8) | st.sampled_from(_NAMES))] = draw(json_values)
        else:  # swap: a value from somewhere else in the same tree
            other = tree
            for k in draw(st.sampled_from(paths)):
                other = other[k]
            parent[key] = copy.deepcopy(other)
    return tree


@st.composite
def broken_bytes(draw, text: str) -> bytes:
    """The text's bytes as they reach a parser: mostly whole, else broken on the way."""
    how = draw(st.sampled_from(("utf8",) * 6 + ("utf16", "bom", "truncate", "flip", "invalid", "nest", "random",
                                                 "empty", "nul")))
    data = text.encode()
    if how == "utf16":
        return text.encode(draw(st.sampled_from(("utf-16", "utf-16-le", "utf-16-be", "utf-32"))))
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "truncate":
        return data[:draw(st.integers(min_value=0, max_value=len(data)))]
    if how == "flip" and data:
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(min_value=1, max_value=255))]) + data[at + 1:]
    if how == "invalid":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return data[:at] + draw(st.sampled_from((b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"))) + data[at:]
    if how == "nest":
        depth = draw(st.sampled_from((50, 900, 1000, 5000, 100_000)))
        opener, closer = draw(st.sampled_from((("[", "]"), ('{"a":', "}"))))
        inner = data if draw(st.booleans()) else b"1"
        return opener.encode() * depth + inner + closer.encode() * draw(st.sampled_from((depth, 0)))
    if how == "random":
        return draw(st.binary(max_size=300))
    if how == "empty":
        return draw(st.sampled_from((b"", b" ", b"\n", b"null", b"[]", b"{}", b'""', b"0", b"NaN", b"-Infinity")))
    if how == "nul":
        return data.replace(b",", b",\x00", 1)
    return data


@st.composite
def config_files(draw) -> bytes:
    """An intersection config file (controller/config/loading.py), broken."""
    tree = draw(mutated_tree(draw(st.sampled_from(_BASE_CONFIGS))))
    return draw(broken_bytes(json.dumps(tree)))


@st.composite
def corridor_files(draw) -> bytes:
    """A corridor file (coordinator/corridors.py) next to good configs, broken."""
    tree = draw(mutated_tree(_BASE_CORRIDOR))
    return draw(broken_bytes(json.dumps(tree)))


_cells = st.sampled_from(("0", "1", "1", "0", "", " 1", "2", "-1", "100", "1e3", "0x10", "nan", "１", "١",
                          "99999999999999999999", "9" * 5000, "a,b", '"1"', "\t0"))


@st.composite
def trace_files(draw) -> bytes:
    """A detector trace CSV (controller/trace_replay.py), broken line by line and then byte by byte."""
    lines = list(_TRACE_LINES[:draw(st.integers(min_value=0, max_value=len(_TRACE_LINES)))])
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        if not lines:
            lines.append(draw(st.text(max_size=40)))
            continue
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        op = draw(st.sampled_from(("cell", "cell", "drop", "dup", "text", "header", "comment")))
        cells = lines[i].split(",")
        if op == "cell":
            cells[draw(st.integers(min_value=0, max_value=len(cells) - 1))] = draw(_cells)
            lines[i] = ",".join(cells)
        elif op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "text":
            lines[i] = draw(st.text(max_size=60))
        elif op == "header":
            lines[0] = ",".join(draw(st.permutations(lines[0].split(",")))[:draw(st.integers(min_value=0, max_value=25))])
        else:
            lines.insert(i, "#" + draw(st.text(max_size=20)))
    ending = draw(st.sampled_from(("\n", "\r\n", "\r")))
    return draw(broken_bytes(ending.join(lines) + ending))


def is_clear_error(lines: list[str], longest: int = 2000) -> bool:
    """An error report a person can act on: one or more non-empty lines of bounded length."""
    return bool(lines) and all(isinstance(s, str) and s.strip() and len(s) <= longest for s in lines)


class Hang(BaseException):
    """A parser took longer than a person would wait. Not an Exception: the code under test catches those,
    and must not swallow this one."""


@contextlib.contextmanager
def no_hang(seconds: float):
    """Raise Hang in the block after `seconds` (SIGALRM: main thread, Unix)."""
    import signal

    rang = []

    def ring(signum, frame):
        rang.append(True)
        raise Hang("no verdict after %g s" % seconds)

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if rang:
        # the alarm went off where its exception is swallowed (a gc callback prints "Exception ignored"
        # and goes on): still a hang
        raise Hang("no verdict after %g s (the alarm's exception was swallowed)" % seconds)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    """`ampelwerk ARGV` in-process: exit code, stdout, stderr."""

    from ampelwerk.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def check_config_file(data: bytes, folder: Path) -> str:
    """`ampelwerk config check` on the bytes: "valid" (and the core runs it) or "refused" with every problem."""
    from controller.config.loading import load_file
    from controller.core import Controller

    path = folder / "config.json"
    path.write_bytes(data)
    rc, out, err = _cli(["config", "check", str(path)])
    assert err == "", err
    if rc == 0:
        assert out.startswith("%s: ok (" % path), out
        ix = load_file(path)
        core = Controller(ix)
        presence = bytearray(ix.n_detectors)
        for _ in range(20):
            core.step(100, presence)
        return "valid"
    assert rc == 1, (rc, out)
    head, *lines = out.splitlines()
    assert head.startswith("%s: " % path) and " problem" in head, out
    assert is_clear_error([s.strip() for s in lines]), out
    return "refused"


def corridor_folder(folder: Path) -> Path:
    """A folder with the arterial's five configs, for a corridor file to refer to."""
    import shutil

    for p in CORRIDOR_DIR.glob("J*.json"):
        shutil.copy(p, folder / p.name)
    return folder


def check_corridor_file(data: bytes, folder: Path) -> str:
    """Both readers of a corridor file on the bytes (configs next to it): the coordinator's
    (coordinator.corridors.load_corridors) and the SUMO geometry's (sim.arterial_metrics.load_geometry,
    for `sim run --corridor` and `sim timespace`). "valid" when the coordinator takes it."""
    from coordinator.corridors import CorridorError, load_corridors
    from sim.arterial_metrics import ArterialMetricsError, corridor_edges, load_geometry

    path = folder / "corridor.json"
    path.write_bytes(data)
    try:
        corridor_edges(load_geometry(path))
    except ArterialMetricsError as e:
        assert is_clear_error([str(e)]), str(e)
    try:
        corridors = load_corridors(path)
    except CorridorError as e:
        # coordinator/corridors.py quotes whole values (%r): a line can be long, never empty
        assert is_clear_error(e.errors, longest=10 ** 6), e.errors
        return "refused"
    assert corridors and all(c.intersections for c in corridors)
    return "valid"


def check_trace_file(data: bytes, folder: Path) -> str:
    """`ampelwerk replay` of the example config on the bytes: both CSVs whole, or an error and no file at all."""
    trace = folder / "trace.csv"
    trace.write_bytes(data)
    out = folder / "out"
    out.mkdir(exist_ok=True)
    for p in out.iterdir():
        p.unlink()
    rc, stdout, err = _cli(["replay", str(CONFIGS[0]), str(trace), "--out", str(out / "signals.csv")])
    if rc == 0:
        assert err == "" and stdout.startswith("replayed "), (stdout, err)
        assert sorted(p.name for p in out.iterdir()) == ["signals.csv", "signals.events.csv"]
        rows = (out / "signals.csv").read_text().splitlines()
        ticks = int(stdout.split()[1])
        assert len(rows) == ticks + 1 and rows[0].startswith("time_ms,"), (len(rows), ticks)
        return "valid"
    assert rc == 2, (rc, stdout, err)
    assert list(out.iterdir()) == [], list(out.iterdir())  # no partial output, not even a hidden one
    assert err.startswith("ampelwerk: error: ") and is_clear_error(err.splitlines()), err
    return "refused"


# ---- the serial wire: what a host sends a board, what a board sends a host ----

_REQUEST_TYPES = (0x01, 0x02, 0x10, 0x20, 0x30, 0x40, 0x70)  # hello, config, tick, status, events, reset, inject


@st.composite
def board_input(draw) -> bytes:
    """Bytes on a board's wire: noise, and frames that pass COBS and the CRC with any type, seq and payload
    (noise alone almost never makes one, so the request handlers would go untested), mostly in sequence,
    and whole config uploads (right crc32) of broken config files."""
    from controller.wire import frame as wf
    from controller.wire import messages as wm

    parts = []
    seq = draw(st.integers(min_value=0, max_value=255))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.integers(min_value=0, max_value=5))
        seq = (seq + 1) & 0xFF if draw(st.integers(min_value=0, max_value=4)) else draw(st.integers(0, 255))
        if kind == 0:
            parts.append(draw(st.binary(max_size=80)))
            continue
        if kind == 1:  # a whole upload, in sequence, of a config broken on the way
            data = draw(config_files())[:65536] or b" "
            crc = wf.crc32(data)
            step = wf.MAX_PAYLOAD - 12
            for off in range(0, len(data), step):
                parts.append(wf.encode_frame(wm.CONFIG, seq, wm.config_chunk(off, len(data), crc, data[off:off + step])))
                seq = (seq + 1) & 0xFF
            continue
        ptype = draw(st.sampled_from(_REQUEST_TYPES) | st.integers(min_value=0, max_value=255))
        size = draw(st.sampled_from((0, 1, 2, 3, 5, 12, 13)) | st.integers(min_value=0, max_value=wf.MAX_PAYLOAD))
        payload = draw(st.binary(min_size=size, max_size=size))
        if ptype == 0x01 and payload and draw(st.booleans()):
            payload = bytes([wf.PROTOCOL_VERSION]) + payload[1:]  # a hello the board takes
        parts.append(wf.encode_frame(ptype, seq, payload))
    return b"".join(parts)


def check_board_input(data: bytes, folder: Path) -> str:
    """The board end (Station + WireServer, the example config on flash) fed the bytes: nothing escapes feed(),
    the fault path is never taken; "valid" when a frame acted (answered with anything but ERROR)."""
    from controller.wire import frame as wf
    from controller.wire import messages as wm
    from tests.firmware.wire_support import board

    with contextlib.redirect_stderr(io.StringIO()):  # the board's console lines
        if not (folder / "config.json").exists():
            board(folder)
        srv = board(folder, config=False)
        srv.feed(bytearray(data), len(data))
    assert srv.station.internal_errors == 0, srv.station.reason
    replies = wf.FrameDecoder().feed(bytes(srv.port.sent))
    return "valid" if any(t != wm.ERROR for t, _, _ in replies) else "refused"


class _ScriptedBoard:
    """A SerialLink stand-in that answers every request with the next scripted payload, then goes silent."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = list(replies)
        self.closed = False

    def request(self, ptype: int, payload: bytes = b"") -> bytes:
        from hil.serial_link import LinkError

        if not self.replies:
            raise LinkError("no reply (scripted board ran out)")
        return self.replies.pop(0)

    def close(self) -> None:
        self.closed = True


_GOOD_REPLIES: list[bytes] = []


def good_replies() -> list[bytes]:
    """The replies a real board end (in-process, the example config) gives DeviceController for connect,
    one tick, STATUS and RESET, recorded once."""
    if not _GOOD_REPLIES:
        import tempfile

        from controller.wire import frame as wf
        from controller.config.loading import load_file
        from hil.proxy import DeviceController
        from tests.firmware.wire_support import ask, board

        class Recorder:
            def __init__(self, srv) -> None:
                self.srv, self.seq = srv, 0

            def request(self, ptype: int, payload: bytes = b"") -> bytes:
                self.seq += 1
                (_t, _s, body), = ask(self.srv, wf.encode_frame(ptype, self.seq, payload))
                _GOOD_REPLIES.append(body)
                return body

            def close(self) -> None:
                pass

        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(io.StringIO()):
            ix = load_file(CONFIGS[0])
            dev = DeviceController("recorded", ix, link=Recorder(board(Path(d))))
            dev.step(100, bytearray(ix.n_detectors))
            dev.status()
            dev.reset()
    return list(_GOOD_REPLIES)


@st.composite
def board_replies(draw) -> list[bytes]:
    """Payloads a board (or a wrong device on the port) sends back: a real board's replies with some cut,
    changed or replaced (any length, any bytes), or none of them."""
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        return draw(st.lists(st.binary(max_size=80) | st.binary(min_size=520, max_size=520), max_size=12))
    replies = good_replies()
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        i = draw(st.integers(min_value=0, max_value=len(replies) - 1))
        r = replies[i]
        how = draw(st.sampled_from(("cut", "flip", "replace", "drop", "repeat")))
        if how == "cut":
            replies[i] = r[:draw(st.integers(min_value=0, max_value=len(r)))]
        elif how == "flip" and r:
            at = draw(st.integers(min_value=0, max_value=len(r) - 1))
            replies[i] = r[:at] + bytes([draw(st.integers(min_value=0, max_value=255))]) + r[at + 1:]
        elif how == "replace":
            replies[i] = draw(st.binary(max_size=80))
        elif how == "drop":
            del replies[i]
            if not replies:
                break
        else:
            replies.insert(i, r)
    return replies


def check_board_replies(replies: list[bytes], folder: Path) -> str:
    """hil.proxy.DeviceController on the replies: connects, ticks, asks STATUS and resets, or stops with
    LinkError/DeviceError; nothing else escapes and nothing loops for ever."""
    from controller.config.loading import load_file
    from hil.proxy import DeviceController
    from hil.serial_link import DeviceError, LinkError

    ix = load_file(CONFIGS[0])
    try:
        dev = DeviceController("scripted", ix, link=_ScriptedBoard(replies))
        dev.step(100, bytearray(ix.n_detectors))
        dev.status()
        dev.reset()
    except (LinkError, DeviceError) as e:
        assert is_clear_error([str(e)]), str(e)
        return "refused"
    return "valid"
