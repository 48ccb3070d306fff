# A tiny calendar for the core's local time: dates as ints YYYYMMDD,
# weekdays 0 (Monday) to 6 (Sunday), times of day in ms. Runs on the board.
# Integer arithmetic only (Gregorian leap years), nothing allocated: the
# schedule moves to the next date at midnight on the tick path.
from controller.compat import const

DAY_MS = const(86400000)
# the dates the core accepts (wider than any controller's service life)
FIRST_YEAR = const(2000)
LAST_YEAR = const(2099)
_MONTH_SHIFT = (0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4)  # Sakamoto's table, by month


def is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    if month == 2:
        return 29 if is_leap(year) else 28
    if month == 4 or month == 6 or month == 9 or month == 11:
        return 30
    return 31


def valid_date(date):
    # date: int YYYYMMDD within FIRST_YEAR..LAST_YEAR and a real day
    if not isinstance(date, int) or isinstance(date, bool):
        return False
    y = date // 10000
    m = date // 100 % 100
    d = date % 100
    return FIRST_YEAR <= y <= LAST_YEAR and 1 <= m <= 12 and 1 <= d <= days_in_month(y, m)


def next_date(date):
    y = date // 10000
    m = date // 100 % 100
    d = date % 100 + 1
    if d > days_in_month(y, m):
        d = 1
        m += 1
        if m > 12:
            m = 1
            y += 1
    return y * 10000 + m * 100 + d


def prev_date(date):
    y = date // 10000
    m = date // 100 % 100
    d = date % 100 - 1
    if d < 1:
        m -= 1
        if m < 1:
            m = 12
            y -= 1
        d = days_in_month(y, m)
    return y * 10000 + m * 100 + d


def weekday_of(date):
    # 0 = Monday .. 6 = Sunday (Sakamoto's method; the Gregorian calendar)
    y = date // 10000
    m = date // 100 % 100
    d = date % 100
    if m < 3:
        y -= 1
    sunday_based = (y + y // 4 - y // 100 + y // 400 + _MONTH_SHIFT[m - 1] + d) % 7  # 0 = Sunday
    return (sunday_based + 6) % 7
