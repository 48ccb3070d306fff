# The plans of a time-of-day program and the safe change between them. Runs
# on the board. Built once at load from the config's "schedule" block
# (docs/schedules.md): every plan's strategy is made then, each with its own
# parameters (an intersection view whose fixed-time plan or adaptive block
# is the plan's), so a change of plan allocates nothing. On the tick path
# (Controller.step, before the strategy decides) it compares the plan due
# (schedule.py) with the plan in force and changes at a safe point:
#  - running plan -> running plan: the new strategy takes over once the
#    kernel has established its stage (no transition under way) or while no
#    strategy runs (startup, flash); it starts cleanly (start(), its first
#    decision sees no elapsed time). The kernel holds min green, clearance
#    and intergreen whatever the new strategy asks.
#  - running plan -> flash: the safe ending (kernel rule 7: every green ends
#    with its min green, clearance and red clearance held), then the
#    kernel's flash, held while the flash plan is in force;
#  - flash -> running plan: the startup sequence (the rest of the startup
#    flash, all red for the longest intergreen, the first stage).
# Each change is logged as Indiana event 131 (COORD_PATTERN_CHANGE) with the
# plan's number when it takes effect. Units: ms.
from controller.events import codes as ev
from controller.intersection import Intersection
from controller.safety.kernel import MODE_ENDING, MODE_RUN, MODE_STARTUP_ALL_RED
from controller.schedule import build_schedule
from controller.strategies.registry import make_strategy

FLASH = "flash"


class PlanView(Intersection):
    # The intersection as one plan sees it: the same arrays (shared, not
    # copied), with the plan's fixed-time plan and adaptive block.
    def __init__(self, ix, plan):
        d = ix.__dict__
        for k in d:
            setattr(self, k, d[k])
        raw = {}
        for k in ix.raw:
            raw[k] = ix.raw[k]
        if plan.get("adaptive"):
            adaptive = dict(ix.raw["adaptive"])
            for k in plan["adaptive"]:
                adaptive[k] = plan["adaptive"][k]
            raw["adaptive"] = adaptive
        if plan.get("fixed_time"):
            raw["fixed_time"] = plan["fixed_time"]
            self._read_fixed_time(raw)
        self.raw = raw
        self.strategy = plan["strategy"]


def plan_names(block):
    # plan names in plan-index order (the schedule's tables hold indices)
    return sorted(block["plans"])


def plan_views(ix, block):
    # (name, plan, view or None for flash) per plan, in index order
    out = []
    for name in plan_names(block):
        plan = block["plans"][name]
        out.append((name, plan, None if plan["strategy"] == FLASH else PlanView(ix, plan)))
    return out


def plan_timing_errors(ix):
    # Each fixed-time plan against the model (min green + transition per
    # split, the splits adding up to the cycle), as config/loading.py checks
    # the config's own: [] when sound.
    errors = []
    block = ix.raw.get("schedule")
    if not block:
        return errors
    for name, plan, view in plan_views(ix, block):
        if view is not None and plan.get("fixed_time"):
            for e in view.fixed_time_errors():
                errors.append('schedule plan "%s": %s' % (name, e))
    return errors


class PlanChanger:
    def __init__(self, ctl, block):
        ix = ctl.ix
        views = plan_views(ix, block)
        index = {}
        for i, (name, plan, view) in enumerate(views):
            index[name] = i
        self.schedule = build_schedule(block, index)
        self.names = [name for name, plan, view in views]
        self.number = bytearray([plan["number"] for name, plan, view in views])
        self.is_flash = bytearray([1 if view is None else 0 for name, plan, view in views])
        self.strategies = []
        for name, plan, view in views:
            s = None
            if view is not None:
                s = make_strategy(plan["strategy"], view)
                _prepare(s, ctl)
                view.raw = None  # read by the strategy's build alone; a board drops the config dict
            self.strategies.append(s)
        self.active = -1  # the plan in force (-1: none yet, the config's own strategy runs)
        self.changes = 0  # plan changes made (for tests and reports)

    def set_local_time(self, ctl, date, weekday, ms_of_day):
        self.schedule.set_local_time(date, weekday, ms_of_day)
        self.advance(ctl, 0)

    def advance(self, ctl, elapsed_ms):
        # The tick path, before the strategy decides. Allocates nothing.
        self.schedule.advance(elapsed_ms)
        due = self.schedule.due
        if due < 0 or due == self.active:
            return
        if ctl.priority is not None and ctl.priority.preempting():
            return  # a preemption runs: the change waits for its hand-back
        kernel = ctl.kernel
        if self.is_flash[due]:
            kernel.hold_flash = True
            mode = kernel.mode
            if mode == MODE_RUN or mode == MODE_ENDING:
                # rule 7 first: every green ends safely, then the flash (Controller.step restarts)
                kernel.begin_ending()
                ctl.restart_when_ended = True
            elif mode == MODE_STARTUP_ALL_RED:
                kernel.restart()  # all red -> flash is an allowed display change
            self._take(ctl, due)
            return
        if kernel.hold_flash:
            # leaving flash: the startup sequence goes on to all red and the first stage
            kernel.hold_flash = False
        elif ctl.strategy_running and not kernel.established:
            return  # a transition is under way: change once its stage is established
        ctl.strategy = self.strategies[due]
        ctl.strategy_running = False  # starts cleanly when (or as soon as) the kernel runs
        self._take(ctl, due)

    def _take(self, ctl, plan):
        self.active = plan
        if self.changes < 0x3FFFFFFF:
            self.changes += 1
        ctl.events.add(ev.COORD_PATTERN_CHANGE, self.number[plan])

    def started(self, ctl):
        # The strategy in force has just started: a fixed-time plan's cycle
        # counts from local midnight (offset from 00:00) rather than power-up,
        # so every controller on the same program runs in the same cycle.
        s = ctl.strategy
        sched = self.schedule
        if self.active >= 0 and sched.known and getattr(s, "name", "") == "fixed" and s.cycle_ms:
            s.cycle_pos_ms = (sched.ms_of_day - s.ix.offset_ms) % s.cycle_ms

    def horizon_ms(self):
        # host use: the SUMO runner must not step past a plan change
        if self.schedule.due != self.active and self.schedule.due >= 0:
            return 0
        return self.schedule.ms_to_next_change()


def _prepare(strategy, ctl):
    # What a strategy would build on its first start (the adaptive queue
    # estimator, also inside the coordinated strategy), built now at load so
    # that no plan change allocates.
    for s in (strategy, getattr(strategy, "free", None)):
        if s is not None and getattr(s, "queues", 0) is None:
            s.start(ctl)
