# Validation of the time-of-day and week program (the config's "schedule"
# block, docs/schedules.md), in the all-errors style of config/validation.py:
# every problem, each naming the field, the value and what is allowed.
# Runs on the board at load (dropped with the validator afterwards); nothing
# here is on the tick path. Checked: the plans (number, strategy, their
# parameters), the day plans (times "HH:MM", in increasing order, no time
# twice, a known plan each, starting at 00:00 unless carry_over says what
# runs before the first entry), the week (every weekday a known day plan)
# and the exceptions (dates "YYYY-MM-DD" or yearly "MM-DD", known day plans).
from controller.config.schema import ADAPTIVE, STRATEGY_NAMES
from controller.config.validation import _Report, _is_int, _plain, _q, _validate_fixed_time
from controller.schedule import WEEKDAYS, parse_date, parse_time_of_day

PLAN_FIELDS = ("number", "strategy", "adaptive", "fixed_time")
PLAN_STRATEGIES = STRATEGY_NAMES + ("flash",)
PLAN_NUMBER = (None, 1, 255)
MAX_PLANS = 64
MAX_DAY_PLANS = 32
MAX_ENTRIES = 48  # per day plan
MAX_EXCEPTIONS = 100


def validate_schedule(rep, raw, order, fields_sound):
    # rep: the config's report; order: the sequence's stage ids; fields_sound:
    # no error before the schedule (a fixed-time plan is checked only then)
    sched = raw.get("schedule")
    where = "schedule"
    if not isinstance(sched, dict):
        rep.add(where, "must be an object {plans, day_plans, week, exceptions, carry_over}, found %s" % _q(sched))
        return
    rep.unknown_keys(where, sched, ("plans", "day_plans", "week", "exceptions", "carry_over"))
    carry_over = rep.bool_field(where, sched, "carry_over", False)
    plans = _named_object(rep, sched, "plans", "plans {name: {number, strategy, ...}}", MAX_PLANS)
    _validate_plans(rep, raw, plans, order, fields_sound)
    day_plans = _named_object(rep, sched, "day_plans", 'day plans {name: [{"at": "HH:MM", "plan": name}]}',
                              MAX_DAY_PLANS)
    for name in day_plans:
        _validate_day_plan(rep, name, day_plans[name], plans, carry_over)
    week = sched.get("week")
    if not isinstance(week, dict):
        rep.add(where, "week=%s must be an object {%s: day plan}" % (_q(week), ", ".join(WEEKDAYS)))
    else:
        rep.unknown_keys("schedule.week", week, WEEKDAYS)
        for d in WEEKDAYS:
            if d not in week:
                rep.add("schedule.week", "%s has no day plan (every weekday needs one of: %s)" % (
                    d, _names(day_plans)))
            elif not (isinstance(week[d], str) and week[d] in day_plans):
                rep.add("schedule.week", "%s=%s is not a day plan (known: %s)" % (d, _q(week[d]), _names(day_plans)))
    exceptions = sched.get("exceptions", {})
    if not isinstance(exceptions, dict):
        rep.add(where, 'exceptions=%s must be an object {"YYYY-MM-DD" or "MM-DD": day plan}' % _q(exceptions))
        return
    if len(exceptions) > MAX_EXCEPTIONS:
        rep.add(where, "exceptions has %d dates, more than the %d allowed" % (len(exceptions), MAX_EXCEPTIONS))
    for text in exceptions:
        date, yearly = parse_date(text)
        if date < 0:
            rep.add("schedule.exceptions", '%s is not a date "YYYY-MM-DD" (2000 to 2099) or a yearly "MM-DD", '
                    "a real day" % _q(text))
        x = exceptions[text]
        if not (isinstance(x, str) and x in day_plans):
            rep.add("schedule.exceptions", "%s=%s is not a day plan (known: %s)" % (_q(text), _q(x), _names(day_plans)))


def _names(obj):
    return ", ".join(sorted(obj)) if obj else "none defined"


def _named_object(rep, sched, name, what, most):
    # an object of named entries; {} (reported) when it is not one
    v = sched.get(name)
    if not isinstance(v, dict) or not v:
        rep.add("schedule", "%s=%s must be a non-empty object of %s" % (name, _q(v), what))
        return {}
    if len(v) > most:
        rep.add("schedule", "%s has %d entries, more than the %d allowed" % (name, len(v), most))
    for k in v:
        if not k or not _plain(k):
            rep.add("schedule.%s" % name, "name %s must be non-empty, without control characters" % _q(k))
    return v


def _validate_plans(rep, raw, plans, order, fields_sound):
    numbers = {}
    for name in plans:
        plan = plans[name]
        where = 'schedule plan "%s"' % name
        if not isinstance(plan, dict):
            rep.add(where, "must be an object {number, strategy, ...}, found %s" % _q(plan))
            continue
        rep.unknown_keys(where, plan, PLAN_FIELDS)
        number = rep.int_field(where, plan, "number", PLAN_NUMBER, unit="(plan number)")
        if _is_int(number):
            if number in numbers:
                rep.add(where, 'number=%d is also plan "%s"\'s (each plan its own number, 1 to 255)' % (
                    number, numbers[number]))
            numbers[number] = name
        strategy = plan.get("strategy")
        if strategy not in PLAN_STRATEGIES:
            rep.add(where, "strategy=%s is not one of %s" % (_q(strategy), ", ".join(PLAN_STRATEGIES)))
            continue
        ad = plan.get("adaptive")
        if ad is not None:
            if strategy != "adaptive" and strategy != "coordinated":
                rep.add(where, 'adaptive is a parameter of the adaptive and coordinated strategies, not of %s'
                        % _q(strategy))
            elif not isinstance(ad, dict):
                rep.add(where, "adaptive=%s must be an object of parameters" % _q(ad))
            else:
                rep.unknown_keys(where + ".adaptive", ad, tuple(ADAPTIVE))
                for k in ad:
                    if k in ADAPTIVE:
                        rep.int_field(where + ".adaptive", ad, k, ADAPTIVE[k])
        ft = plan.get("fixed_time")
        if ft is not None and strategy != "fixed":
            rep.add(where, "fixed_time is a parameter of the fixed strategy, not of %s" % _q(strategy))
        elif strategy == "fixed":
            if ft is None:
                if raw.get("fixed_time") is None:
                    rep.add(where, 'strategy "fixed" needs a fixed_time plan {cycle_ms, offset_ms, splits_ms} '
                            "(the plan's own or the config's)")
            elif not isinstance(ft, dict):
                rep.add(where, "fixed_time=%s must be an object {cycle_ms, offset_ms, splits_ms}" % _q(ft))
            elif fields_sound:
                sub = _Report()
                _validate_fixed_time(sub, ft, order)
                for e in sub.errors:
                    rep.add(where, e)


def _validate_day_plan(rep, name, entries, plans, carry_over):
    where = 'schedule day plan "%s"' % name
    if not isinstance(entries, list) or not entries:
        rep.add(where, 'must be a non-empty list of {"at": "HH:MM", "plan": name}, found %s' % _q(entries))
        return
    if len(entries) > MAX_ENTRIES:
        rep.add(where, "has %d entries, more than the %d allowed" % (len(entries), MAX_ENTRIES))
    last = -1
    seen = {}
    for i, e in enumerate(entries):
        at_where = "%s #%d" % (where, i + 1)
        if not isinstance(e, dict):
            rep.add(at_where, 'must be an object {"at": "HH:MM", "plan": name}, found %s' % _q(e))
            continue
        rep.unknown_keys(at_where, e, ("at", "plan"))
        t = parse_time_of_day(e.get("at"))
        if t < 0:
            rep.add(at_where, 'at=%s is not a time of day "HH:MM" from 00:00 to 23:59' % _q(e.get("at")))
        elif t in seen:
            rep.add(at_where, "at=%s overlaps entry #%d at the same time (one plan per time)" % (
                _q(e["at"]), seen[t] + 1))
        elif t < last:
            rep.add(at_where, "at=%s comes before the entry above it (entries in increasing time order)" % _q(
                e["at"]))
        if t >= 0:
            seen.setdefault(t, i)
            if t > last:
                last = t
        if i == 0 and t > 0 and not carry_over:
            rep.add(at_where, 'at=%s leaves 00:00 to %s without a plan: start the day plan at "00:00", or set '
                    'schedule.carry_over=true to run the previous day\'s last plan until then' % (
                        _q(e["at"]), e["at"]))
        p = e.get("plan")
        if not (isinstance(p, str) and p in plans):
            rep.add(at_where, "plan=%s is not a plan (known: %s)" % (_q(p), _names(plans)))
