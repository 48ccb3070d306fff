"""Checks of a conformance scenario's recorded run against its expectations.

A run is a list of ticks (time_ms at the end of the tick, one state letter per
signal group, the flashing flag) and of events (time_ms, code, param). A state
shown at tick k holds for the tick that ends at time_ms[k], so an interval of
ticks a..b lasts (b - a + 1) * tick_ms. Each expectation carries a timing
tolerance in ticks (the suite's default unless it says otherwise).
"""

from __future__ import annotations


_END = 1 << 40  # a window without to_ms runs to the end of the scenario


def _window(lo: int, hi: int) -> str:
    return "%d..%s ms" % (lo, "end" if hi >= _END else "%d" % hi)


class Run:
    """What the device showed during one scenario."""

    def __init__(self, ix, tick_ms: int):
        self.ix = ix
        self.tick_ms = tick_ms
        self.times: list[int] = []
        self.states: list[str] = []  # one letter per group, per tick
        self.flashing: list[bool] = []
        self.events: list[tuple[int, int, int]] = []
        self.status: dict = {}
        self.core_states: list[str] | None = None  # the in-process core on the same inputs
        self.core_events: list[tuple[int, int, int]] | None = None

    def column(self, group: str) -> str:
        g = self.ix.group_ids.index(group)
        return "".join(s[g] for s in self.states)

    def intervals(self, group: str, state: str) -> list[tuple[int, int]]:
        """Complete (start tick, end tick) runs of `state`; runs touching either end are left out."""
        col = self.column(group)
        out = []
        k = 0
        while k < len(col):
            if col[k] == state:
                j = k
                while j + 1 < len(col) and col[j + 1] == state:
                    j += 1
                if k > 0 and j < len(col) - 1:
                    out.append((k, j))
                k = j + 1
            else:
                k += 1
        return out


def _param(ix, e: dict) -> int | None:
    if "group" in e:
        return ix.group_ids.index(e["group"]) + 1
    if "detector" in e:
        return ix.detector_ids.index(e["detector"]) + 1
    return e.get("param")


def check(run: Run, e: dict, tolerance_ticks: int) -> tuple[bool, str]:
    """(passed, what was expected and what was found)."""
    tol = e.get("tolerance_ticks", tolerance_ticks)
    slack = tol * run.tick_ms
    kind = e["kind"]
    if kind == "interval":
        spans = run.intervals(e["group"], e["state"])
        nth = e.get("nth", 1)
        want = "%s %s interval #%d lasts %d ms (+-%d ms)" % (e["group"], e["state"], nth, e["ms"], slack)
        if len(spans) < nth:
            return False, "%s: only %d complete intervals" % (want, len(spans))
        a, b = spans[nth - 1]
        got = (b - a + 1) * run.tick_ms
        return abs(got - e["ms"]) <= slack, "%s: %d ms (from %d ms)" % (want, got, run.times[a])
    if kind == "intergreen":
        greens = run.intervals(e["from"], "G")
        nth = e.get("nth", 1)
        want = "%s -> %s intergreen #%d is %d ms (+-%d ms)" % (e["from"], e["to"], nth, e["ms"], slack)
        if len(greens) < nth:
            return False, "%s: %s has only %d complete greens" % (want, e["from"], len(greens))
        end = greens[nth - 1][1] + 1  # first tick after the green
        col = run.column(e["to"])
        start = col.find("G", end)
        if start < 0:
            return False, "%s: %s never green afterwards" % (want, e["to"])
        got = run.times[start] - run.times[end]
        return abs(got - e["ms"]) <= slack, "%s: %d ms" % (want, got)
    if kind == "event":
        code, param = e["code"], _param(run.ix, e)
        lo = e["at_ms"] - slack if "at_ms" in e else e.get("from_ms", 0)
        hi = e["at_ms"] + slack if "at_ms" in e else e.get("to_ms", _END)
        hits = [t for t, c, p in run.events if c == code and (param is None or p == param) and lo <= t <= hi]
        want_n = e.get("count")
        want = "event %d%s in %s" % (code, "" if param is None else " param %d" % param, _window(lo, hi))
        if want_n is None:
            return bool(hits), "%s: %d found %s" % (want, len(hits), hits[:5])
        return len(hits) == want_n, "%s exactly %d times: %d found %s" % (want, want_n, len(hits), hits[:5])
    if kind == "state":
        col = run.column(e["group"])
        lo, hi = e.get("from_ms", 0), e.get("to_ms", _END)
        seen = [col[k] for k, t in enumerate(run.times) if lo <= t <= hi]
        rule = e.get("rule", "always")
        hit = sum(1 for s in seen if s == e["state"])
        ok = {"always": hit == len(seen) and seen, "never": hit == 0 and seen, "sometime": hit > 0}[rule]
        return bool(ok), "%s %s %s in %s: %d of %d ticks" % (e["group"], rule, e["state"], _window(lo, hi), hit, len(seen))
    if kind == "flashing":
        start = e["from_ms"] + slack
        ticks = [k for k, t in enumerate(run.times) if t >= start]
        bad = [run.times[k] for k in ticks if not run.flashing[k] or any(c not in "frD" for c in run.states[k])]
        before = [run.times[k] for k, t in enumerate(run.times) if t < e["from_ms"] - slack and run.flashing[k]]
        return bool(ticks) and not bad and not before, "latched flash from %d ms (+-%d ms) to the end: %d ticks not flashing after, %d flashing before" % (
            e["from_ms"], slack, len(bad), len(before))
    if kind == "status":
        v = run.status.get(e["field"])
        ok = v is not None and v >= e.get("min", v) and v <= e.get("max", v)
        return ok, "status %s=%s within %s..%s" % (e["field"], v, e.get("min", "-"), e.get("max", "-"))
    if kind == "matches_core":
        if run.core_states is None:
            return False, "no in-process reference run"
        diff = [run.times[k] for k in range(len(run.states)) if run.states[k] != run.core_states[k]]
        same_events = run.events == run.core_events
        return not diff and same_events, "device trace equals the in-process core: %d ticks differ (first %s), events %s" % (
            len(diff), diff[:1], "equal" if same_events else "differ (%d vs %d)" % (len(run.events), len(run.core_events)))
    return False, "unknown expectation kind %r" % kind
