"""A time-of-day program run through the core, time-compressed: ``ampelwerk config schedule``.

The plan changes a config's ``schedule`` block lists for a span of days are worked out here on
the host, with Python's own calendar (independently of the core's ``controller/schedule.py``);
the core is then stepped through the same span on random loop traffic and its event 131
(COORD_PATTERN_CHANGE) records are compared with the list: the same plans in the same order,
each taken at or after its listed time and within a bound (the safe-point delay), and the
conflict monitor never latched. Optionally the detector stream is written as a trace with a
``# local_time:`` line, which ``ampelwerk replay`` replays to the same signals.
"""

from __future__ import annotations

import datetime
import random
from typing import Callable, Optional

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MS = 86400000
# a change waits for the running stage to be established (a transition: clearance, red
# clearance and intergreens) or for a safe ending before flash: far below a minute for any
# config the validator accepts
MAX_CHANGE_DELAY_MS = 60000


def _ms(text: str) -> int:
    return (int(text[:2]) * 60 + int(text[3:5])) * 60000


def day_plan_of(block: dict, day: datetime.date) -> str:
    exceptions = block.get("exceptions") or {}
    return exceptions.get(day.isoformat()) or exceptions.get(day.strftime("%m-%d")) or \
        block["week"][WEEKDAYS[day.weekday()]]


def listed_changes(block: dict, start: datetime.datetime, days: int) -> list[tuple[int, str]]:
    """[(ms after start, plan name)] each time the program names a plan other than the one
    before it, from start for `days` days; the first entry (at 0) is the plan due at start."""
    entries = []  # (absolute datetime, plan) for the day before start up to the end
    first = start.date() - datetime.timedelta(days=1)
    for k in range(days + 2):
        day = first + datetime.timedelta(days=k)
        dp = block["day_plans"][day_plan_of(block, day)]
        midnight = datetime.datetime.combine(day, datetime.time())
        for e in dp:
            entries.append((midnight + datetime.timedelta(milliseconds=_ms(e["at"])), e["plan"]))
    end = start + datetime.timedelta(days=days)
    # the plan due at start: the last entry at or before it (the day before's last one under carry_over)
    due = [plan for at, plan in entries if at <= start][-1]
    out = [(0, due)]
    for at, plan in entries:
        if start < at < end and plan != out[-1][1]:
            out.append((int((at - start).total_seconds() * 1000), plan))
    return out


class WeekRun:
    """The outcome: listed and taken changes, the longest delay, the monitor's verdict."""

    def __init__(self, listed: list[tuple[int, str]], taken: list[tuple[int, int]], numbers: dict,
                 latched: bool, ticks: int) -> None:
        self.listed = listed
        self.taken = taken  # (ms after start, plan number) from event 131
        self.numbers = numbers
        self.latched = latched
        self.ticks = ticks
        self.problems: list[str] = []
        if latched:
            self.problems.append("the conflict monitor latched flash")
        want = [numbers[p] for _, p in listed]
        got = [n for _, n in taken]
        if want != got:
            self.problems.append("plans taken %s, listed %s" % (got, want))
        self.worst_delay_ms = 0
        for (t_listed, plan), (t_taken, _) in zip(listed, taken):
            delay = t_taken - t_listed
            self.worst_delay_ms = max(self.worst_delay_ms, delay)
            if delay < 0 or delay > MAX_CHANGE_DELAY_MS:
                self.problems.append("plan %s listed at +%d s taken at +%d s (allowed: 0 to %d s later)" % (
                    plan, t_listed // 1000, t_taken // 1000, MAX_CHANGE_DELAY_MS // 1000))

    @property
    def ok(self) -> bool:
        return not self.problems


def run_week(ix, start: datetime.datetime, days: int, tick_ms: int = 1000, seed: int = 1,
             write_row: Optional[Callable[[str], None]] = None) -> WeekRun:
    """Step a controller with ix's schedule from `start` for `days` days on random loop traffic."""
    from controller.core import Controller
    from controller.events import codes as ev

    block = ix.raw["schedule"]
    numbers = {name: p["number"] for name, p in block["plans"].items()}
    ctl = Controller(ix, event_capacity=4096)
    ctl.set_local_time(int(start.strftime("%Y%m%d")), start.weekday(),
                       (start.hour * 3600 + start.minute * 60 + start.second) * 1000)
    rnd = random.Random(seed)
    pres = bytearray(ix.n_detectors)
    if write_row is not None:
        write_row("# local_time: %s" % start.strftime("%Y-%m-%dT%H:%M:%S"))
        write_row("elapsed_ms," + ",".join(ix.detector_ids))
    taken = []  # event times count from the controller's power-up, which is `start`
    t = 0
    end = days * DAY_MS
    while t < end:
        for i in range(len(pres)):
            if rnd.random() < (0.4 if pres[i] else 0.03):
                pres[i] ^= 1
        ctl.step(tick_ms, pres)
        if write_row is not None:
            write_row("%d,%s" % (tick_ms, ",".join("1" if x else "0" for x in pres)))
        for at, code, param in ctl.drain_events():
            if code == ev.COORD_PATTERN_CHANGE:
                taken.append((at, param))
        t += tick_ms
    return WeekRun(listed_changes(block, start, days), taken, numbers, ctl.flashing, ctl.ticks)
