# Replay of a recorded detector trace through the core, or through any
# controller-shaped object (a board over the wire too: only ix, step(),
# outputs and drain_events() are used). Runs on the board and on CPython
# alike, so the same trace gives comparable output on both.
# Input CSV: header "elapsed_ms,<detector id>,..." then one row per tick with
# the ms elapsed since the previous tick and 0/1 per detector ('#' lines are
# comments). Output CSV: header "time_ms,<signal group id>,..." then one row
# per tick with the cumulative time and one state letter per group (see
# signal_states.LETTERS). Formats are documented in docs/trace-formats.md.
# A comment line "# local_time: YYYY-MM-DDTHH:MM[:SS]" before the first row
# hands the controller the local time at the trace's start (its time-of-day
# program runs from there, docs/schedules.md).
from controller.safety.signal_states import LETTERS


class TraceError(ValueError):
    pass


def _show(v):
    # a cell as it appeared, cut to a readable length
    r = repr(v)
    return r if len(r) <= 40 else r[:32] + "... (%d characters)" % len(v)


def detector_columns(header, ix, where="header"):
    # Map the trace's columns to config detector indices; every config
    # detector must appear exactly once.
    cols = [c.strip() for c in header.strip().split(",")]
    if not cols or cols[0] != "elapsed_ms":
        raise TraceError("%s: first column must be elapsed_ms, found %s" % (where, _show(cols[0] if cols else "")))
    mapping = []
    for c in cols[1:]:
        if c not in ix.detector_ids:
            raise TraceError("%s: column %s is not a detector of %s (detectors: %s)" % (
                where, _show(c), ix.id, ", ".join(ix.detector_ids)))
        if ix.detector_ids.index(c) in mapping:
            raise TraceError("%s: detector %r appears twice" % (where, c))
        mapping.append(ix.detector_ids.index(c))
    missing = [d for i, d in enumerate(ix.detector_ids) if i not in mapping]
    if missing:
        raise TraceError("%s: detectors missing from the trace: %s" % (where, ", ".join(missing)))
    return mapping


def parse_row(line, mapping, presence, where="row"):
    # Fill `presence` in place; return the elapsed ms of the row.
    cells = line.strip().split(",")
    if len(cells) != len(mapping) + 1:
        raise TraceError("%s: expected %d fields (elapsed_ms and %d detectors), found %d" % (
            where, len(mapping) + 1, len(mapping), len(cells)))
    try:
        elapsed = int(cells[0])
    except ValueError:
        raise TraceError("%s: elapsed_ms=%s is not an integer number of ms" % (where, _show(cells[0])))
    if elapsed < 0 or elapsed > 60000:
        raise TraceError("%s: elapsed_ms=%d is outside 0 to 60000 ms" % (where, elapsed))
    for k in range(len(mapping)):
        v = cells[k + 1].strip()
        if v != "0" and v != "1":
            raise TraceError("%s: detector column %d value %s must be 0 or 1" % (where, k + 1, _show(v)))
        presence[mapping[k]] = 1 if v == "1" else 0
    return elapsed


def signals_header(ix):
    return "time_ms," + ",".join(ix.group_ids)


def signals_row(time_ms, outputs):
    return "%d,%s" % (time_ms, ",".join(LETTERS[s] for s in outputs))


LOCAL_TIME_TAG = "local_time:"


def local_time_line(s, where):
    # "# local_time: 2026-12-07T06:00" -> (date, weekday, ms of day); None for another comment
    body = s[1:].strip()
    if not body.startswith(LOCAL_TIME_TAG):
        return None
    from controller.schedule import parse_local_time

    value = body[len(LOCAL_TIME_TAG):].strip()
    t = parse_local_time(value)
    if t is None:
        raise TraceError("%s: local_time %s is not a local date and time YYYY-MM-DDTHH:MM[:SS]" % (
            where, _show(value)))
    return t


def replay(controller, lines, write_signal, write_event=None, local_time=None):
    # Run `controller` over the trace `lines` (an iterable of text lines).
    # write_signal(line) gets each output row; write_event(line), if given,
    # the events in Indiana CSV form as they are drained from the ring.
    # local_time (date, weekday, ms of day), if given, overrides the trace's
    # "# local_time:" line; either is handed to controller.set_local_time.
    from controller.events.log import format_csv_row

    ix = controller.ix
    presence = bytearray(ix.n_detectors)
    mapping = None
    time_ms = 0
    stepped = False  # a "# local_time:" line counts before the first row only
    write_signal(signals_header(ix))
    n = 0
    for line in lines:
        n += 1
        s = line.strip()
        if s and s[0] == "#" and not stepped:
            t = local_time_line(s, "line %d" % n)
            if t is not None and local_time is None:
                local_time = t
            continue
        if not s or s[0] == "#":
            continue
        where = "line %d" % n
        if mapping is None:
            mapping = detector_columns(s, ix, where)
            continue
        elapsed = parse_row(s, mapping, presence, where)
        if local_time is not None:
            set_local_time = getattr(controller, "set_local_time", None)
            if set_local_time is not None:
                set_local_time(local_time[0], local_time[1], local_time[2])
            local_time = None
        stepped = True
        time_ms += elapsed
        controller.step(elapsed, presence)
        write_signal(signals_row(time_ms, controller.outputs))
        if write_event is not None:
            for t, code, param in controller.drain_events():
                write_event(format_csv_row(t, code, param))
    if mapping is None:
        raise TraceError("the trace has no header line (elapsed_ms,<detector ids>)")
    return time_ms
