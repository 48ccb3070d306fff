# The time-of-day and week program: which plan is due at the local time.
# Runs on the board. The core reads no clock: the caller hands in the local
# date, weekday and time of day once (Controller.set_local_time) and the
# schedule advances its own time of day with the elapsed ms of every tick,
# crossing midnight into the next date and weekday (local_calendar.py).
# Until the local time is set, no plan is due (due = -1) and the
# controller runs the config's own strategy, as without a schedule.
#
# The day type of a date: an exception on that exact date first, then a
# yearly exception on its month and day, then the week program. The plan
# due: the day plan's last entry at or before the time of day; before the
# first entry (a day plan not starting at 00:00, allowed only with
# "carry_over"), the last plan of the previous day's day plan.
# Every table is built once at load (build_schedule); advance() is on the
# tick path and allocates nothing. Units: ms of the day, dates YYYYMMDD.
from array import array

from controller.local_calendar import DAY_MS, next_date, prev_date, valid_date, weekday_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_time_of_day(text):
    # "HH:MM" -> ms of the day, or -1 when it is not a time from 00:00 to 23:59
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return -1
    h = text[:2]
    m = text[3:]
    if not (h.isdigit() and m.isdigit()):
        return -1
    h = int(h)
    m = int(m)
    if h > 23 or m > 59:
        return -1
    return (h * 60 + m) * 60000


def parse_date(text):
    # "YYYY-MM-DD" -> (YYYYMMDD, False); "MM-DD" (every year) -> (MMDD, True);
    # (-1, False) when it is neither, or no real day (02-29 is one, yearly)
    if not isinstance(text, str):
        return -1, False
    parts = text.split("-")
    for p in parts:
        if not p.isdigit():
            return -1, False
    if len(parts) == 3 and len(parts[0]) == 4 and len(parts[1]) == 2 and len(parts[2]) == 2:
        date = int(parts[0]) * 10000 + int(parts[1]) * 100 + int(parts[2])
        return (date, False) if valid_date(date) else (-1, False)
    if len(parts) == 2 and len(parts[0]) == 2 and len(parts[1]) == 2:
        mmdd = int(parts[0]) * 100 + int(parts[1])
        return (mmdd, True) if valid_date(20000000 + mmdd) else (-1, False)  # 2000: a leap year
    return -1, False


def parse_local_time(text):
    # "YYYY-MM-DDTHH:MM" or "YYYY-MM-DDTHH:MM:SS" (a space for the T too) ->
    # (date YYYYMMDD, weekday 0 = Monday, ms of the day), or None. For the
    # hosts and the replay: what hands the core its local time.
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) < 16 or text[10] not in "T ":
        return None
    date, yearly = parse_date(text[:10])
    if date < 0 or yearly:
        return None
    clock = text[11:]
    seconds = 0
    if len(clock) == 8 and clock[5] == ":" and clock[6:].isdigit() and int(clock[6:]) < 60:
        seconds = int(clock[6:])
        clock = clock[:5]
    ms = parse_time_of_day(clock)
    if ms < 0:
        return None
    return date, weekday_of(date), ms + seconds * 1000


class Schedule:
    def __init__(self, day_plans, week, exceptions, carry_over):
        # day_plans: list (by day plan number) of lists of (ms of day, plan
        # number) in time order; week: 7 day plan numbers (Monday first);
        # exceptions: list of (YYYYMMDD or MMDD, yearly, day plan number).
        self.entry_at_ms = [array("i", [at for at, _ in dp]) for dp in day_plans]
        self.entry_plan = [bytearray([p for _, p in dp]) for dp in day_plans]
        self.week = bytearray(week)
        self.exception_date = array("i", [d for d, yearly, _ in exceptions if not yearly])
        self.exception_day = bytearray([x for d, yearly, x in exceptions if not yearly])
        self.yearly_date = array("i", [d for d, yearly, _ in exceptions if yearly])
        self.yearly_day = bytearray([x for d, yearly, x in exceptions if yearly])
        self.carry_over = carry_over
        self.known = False  # the local time was handed in
        self.date = 0
        self.weekday = 0
        self.ms_of_day = 0
        self.day_plan = 0  # today's day plan
        self.before_first = 0  # the plan before today's first entry (carry_over)
        self.due = -1  # the plan due now (-1: local time not known)
        self.next_change_ms = DAY_MS  # time of day of the next entry (DAY_MS: midnight)

    def set_local_time(self, date, weekday, ms_of_day):
        # Between ticks. Raises ValueError naming a bad value (nothing changes then).
        if not valid_date(date):
            raise ValueError("date=%r must be an int YYYYMMDD, a real day in 2000 to 2099" % (date,))
        if weekday != weekday_of(date):
            raise ValueError("weekday=%r does not match date=%d (a %s, weekday %d; 0 = Monday)" % (
                weekday, date, WEEKDAYS[weekday_of(date)], weekday_of(date)))
        if not isinstance(ms_of_day, int) or isinstance(ms_of_day, bool) or not 0 <= ms_of_day < DAY_MS:
            raise ValueError("ms_of_day=%r must be an int from 0 to %d" % (ms_of_day, DAY_MS - 1))
        self.date = date
        self.weekday = weekday
        self.ms_of_day = ms_of_day
        self.known = True
        self._new_day()

    def day_type(self, date, weekday):
        # the day plan of a date: exact exception, yearly exception, week program
        dates = self.exception_date
        for i in range(len(dates)):
            if dates[i] == date:
                return self.exception_day[i]
        mmdd = date % 10000
        dates = self.yearly_date
        for i in range(len(dates)):
            if dates[i] == mmdd:
                return self.yearly_day[i]
        return self.week[weekday]

    def _new_day(self):
        dp = self.day_type(self.date, self.weekday)
        self.day_plan = dp
        if self.carry_over:
            before = self.day_type(prev_date(self.date), (self.weekday + 6) % 7)
            plans = self.entry_plan[before]
            self.before_first = plans[len(plans) - 1]
        self._find()

    def _find(self):
        # the plan due at ms_of_day, and when the next entry comes
        at = self.entry_at_ms[self.day_plan]
        plans = self.entry_plan[self.day_plan]
        t = self.ms_of_day
        due = self.before_first
        nxt = DAY_MS
        for i in range(len(at)):
            if at[i] <= t:
                due = plans[i]
            else:
                nxt = at[i]
                break
        self.due = due
        self.next_change_ms = nxt

    def advance(self, elapsed_ms):
        # The tick path: the time of day moves on; True when the plan due may
        # have changed (an entry reached, or midnight).
        if not self.known:
            return False
        t = self.ms_of_day + elapsed_ms
        if t >= DAY_MS:
            while t >= DAY_MS:  # (once per tick: a step is at most a minute)
                t -= DAY_MS
                self.date = next_date(self.date)
                self.weekday = self.weekday + 1 if self.weekday < 6 else 0
            self.ms_of_day = t
            self._new_day()
            return True
        self.ms_of_day = t
        if t >= self.next_change_ms:
            self._find()
            return True
        return False

    def ms_to_next_change(self):
        # host use (the SUMO runner's horizon): ms until the next entry or midnight
        if not self.known:
            return DAY_MS
        return self.next_change_ms - self.ms_of_day


def build_schedule(block, plan_index):
    # From a validated "schedule" block; plan_index: plan name -> number.
    names = sorted(block["day_plans"])
    day_index = {}
    for i, name in enumerate(names):
        day_index[name] = i
    day_plans = []
    for name in names:
        day_plans.append([(parse_time_of_day(e["at"]), plan_index[e["plan"]]) for e in block["day_plans"][name]])
    week = [day_index[block["week"][d]] for d in WEEKDAYS]
    exceptions = []
    for text, name in (block.get("exceptions") or {}).items():
        date, yearly = parse_date(text)
        exceptions.append((date, yearly, day_index[name]))
    return Schedule(day_plans, week, exceptions, block.get("carry_over", False))
