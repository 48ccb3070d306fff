# The board's local date and time for the core's time-of-day program
# (docs/schedules.md). Runs on the board and on the unix port (the virtual
# board). The core reads no clock: the firmware reads this one and hands the
# local time in (Controller.set_local_time) when a controller starts and
# then once an hour (the core advances it with its ticks in between; the
# hourly hand-in takes out the drift of the tick clock against the RTC).
# Only in free-running mode: in lockstep the host drives the time, and sets
# the local time over the wire (SET_TIME) like everything else.
# Sources, in order: a time set over the wire on a board without a settable
# RTC (advanced by the station's ticks), else machine.RTC on a board (set
# over the wire, by ntptime where the port has it, or kept by its
# battery), else on the unix port the host's local time (time.localtime).
# A year before 2020 means an RTC never set: no local time, and the core
# runs the config's own strategy.
import time

from controller.local_calendar import DAY_MS, next_date, valid_date, weekday_of

RESYNC_MS = 3600000
_VALID_FROM_YEAR = 2020


def _rtc():
    try:
        import machine

        return machine.RTC()
    except (ImportError, AttributeError):
        return None


class LocalClock:
    def __init__(self):
        self.rtc = _rtc()
        self.set_date = 0  # set over the wire on a board without an RTC: the date and time
        self.set_ms = 0  # of day, advanced by the station's ticks (advance())
        self.since_hand_in_ms = 0
        self.handed_to = None  # the controller that got the time last

    def now(self):
        # (date YYYYMMDD, weekday 0 = Monday, ms of day), or None when unknown
        if self.set_date:
            return self.set_date, weekday_of(self.set_date), self.set_ms
        if self.rtc is not None:
            # (year, month, day, weekday, hours, minutes, seconds, subseconds); the weekday's
            # numbering differs between ports, so it is worked out from the date
            y, mo, d, _, h, mi, s, _ = self.rtc.datetime()
        else:
            y, mo, d, h, mi, s = time.localtime()[:6]
        date = y * 10000 + mo * 100 + d
        if y < _VALID_FROM_YEAR or not valid_date(date):
            return None
        return date, weekday_of(date), ((h * 60 + mi) * 60 + s) * 1000

    def set(self, date, ms_of_day):
        # From the wire (SET_TIME): the RTC where there is one, else the tick counter's clock.
        if not valid_date(date) or not 0 <= ms_of_day < DAY_MS:
            raise ValueError("date=%r ms_of_day=%r: not a local date and time" % (date, ms_of_day))
        s = ms_of_day // 1000
        if self.rtc is not None:
            try:
                self.rtc.datetime((date // 10000, date // 100 % 100, date % 100, weekday_of(date),
                                   s // 3600, s // 60 % 60, s % 60, 0))
                return True
            except Exception:  # an RTC that cannot be set: keep the time on the tick counter
                pass
        self.set_date = date
        self.set_ms = ms_of_day
        return False

    def advance(self, elapsed_ms):
        # Every station tick: the clock kept without an RTC moves on (the time
        # is handed in, like the core's: no clock read here).
        if self.set_date:
            t = self.set_ms + elapsed_ms
            while t >= DAY_MS:
                t -= DAY_MS
                self.set_date = next_date(self.set_date)
            self.set_ms = t

    def sync_ntp(self):
        # Set the RTC from the network where the port has ntptime (it sets UTC:
        # a board in another zone keeps its RTC on local time from the wire instead).
        try:
            import ntptime  # pyright: ignore[reportMissingImports] (not on every port: the Pico has no network)

            ntptime.settime()
            return True
        except Exception:  # no ntptime, no network, no answer: the RTC keeps what it had
            return False

    def hand_in(self, ctl, elapsed_ms):
        # Once per free-running tick: the local time into a new controller at
        # once, and into a running one once an hour. Returns True when handed in.
        if ctl is None:
            return False
        self.since_hand_in_ms += elapsed_ms
        if ctl is self.handed_to and self.since_hand_in_ms < RESYNC_MS:
            return False
        self.since_hand_in_ms = 0
        self.handed_to = ctl
        t = self.now()
        if t is None:
            return False
        try:
            return ctl.set_local_time(t[0], t[1], t[2])
        except ValueError:
            return False
