# Transit signal priority: early green and green extension for buses and
# trams. Runs on the board; step() allocates nothing. Units: ms. Method and
# limits: docs/core.md "Priority".
#
# Between the strategy's decision and the kernel:
#  - green extension: the bus stage is green and the strategy wants to leave
#    it: the stage is held while a request is counted, up to max_extension_ms
#    per request and what is left of max_per_cycle_ms (the strategy is asked
#    every tick all the same; its gap-out / max-out is logged when it first
#    wishes to leave and again when the stage really ends);
#  - early green: the bus stage is not green: a stage the strategy would
#    hold is ended once its greens (walks) have held their min green,
#    towards the bus stage (fixed sequence: through the stages between that
#    have demand, each at its min green); the adjustment runs from the
#    check-in for at most max_early_ms per request (gives up if the bus
#    stage's turn is no nearer by then) and within max_per_cycle_ms;
#  - recovery: when an adjustment ends, every group then waiting with
#    demand is owed a green, and no transit priority is given again until
#    each has had one (nobody starves behind a stream of buses);
#  - a coordinated plan: only its own slack: a stage is extended at most
#    to its force-off point (the coordinated stage not past its yield
#    point), early green never cuts the coordinated stage and only goes to a
#    side stage whose window is still open, so the coordinated phase's
#    yield point never moves.
# The budget of max_per_cycle_ms is renewed every cycle of a coordinated
# plan in force, else every window_ms of the class. A fixed-time plan keeps
# its splits: with the fixed strategy no transit priority is given.
from array import array

from controller.compat import const
from controller.events import priority_codes as ev
from controller.priority.classes import KIND_TRANSIT
from controller.safety.signal_states import GREEN
from controller.timing import TIMER_MAX_MS

NONE = const(0)
EXTEND = const(1)
EARLY = const(2)


class _QuietGreenEnd:
    # Stands in for the event log while a held strategy is asked: its
    # green-end reasons (codes 4-7: gap-out, max-out, force-off, green
    # termination) are dropped, every other event goes to the log; the clock
    # a strategy stamps with (now_s, now_ms) is the log's.
    def __init__(self, log):
        self.log = log
        self.now_s = 0
        self.now_ms = 0

    def add(self, code, param):
        if code < 4 or code > 7:
            self.log.add(code, param)


class TransitPriority:
    def __init__(self, ctl, classes, requests):
        k = classes.n
        self.ix = ctl.ix
        self.classes = classes
        self.requests = requests
        self.events = ctl.events
        self.strategy = None  # the strategy the two below are of (a time-of-day program swaps it)
        self.enabled = False  # no transit priority under a fixed-time plan
        self.coord = None  # the coordinated strategy, whose plan's slack bounds transit priority
        self.extension_used_ms = array("i", [0] * k)  # of the current request
        self.early_used_ms = array("i", [0] * k)
        self.cycle_used_ms = array("i", [0] * k)  # of the current cycle (window)
        self.window_age_ms = array("i", [0] * k)
        self.mode = NONE
        self.cls = 0
        self.limit_ms = 0  # of the running extension
        self.held_ms = 0  # of the running extension: time held against the strategy's wish
        self.quiet = _QuietGreenEnd(ctl.events)
        self.owed = bytearray(ctl.ix.n_groups)  # 1: waiting with demand when an adjustment ended
        self.owing = 0
        self.adjustments = 0  # early greens and extensions given (for tests and reports)

    def busy(self):
        return self.mode != NONE or self.owing

    def cancel(self):
        # a preemption or a restart of the strategy: nothing running is kept
        self.mode = NONE
        self.held_ms = 0

    def _plan(self):
        # the coordinated strategy with a plan in force, or None
        coord = self.coord
        if coord is not None and coord.plan is not None and coord.fallback_left_ms <= 0:
            return coord
        return None

    def step(self, ctl, elapsed_ms):
        # -> the stage to ask the kernel for
        kernel = ctl.kernel
        e = elapsed_ms
        if ctl.strategy is not self.strategy:
            strategy = ctl.strategy
            self.strategy = strategy
            self.enabled = strategy.name != "fixed"
            self.coord = strategy if strategy.name == "coordinated" else None
        self._windows(e)
        if self.owing:
            self._recover(ctl)
        if self.mode == EXTEND:
            c = self.cls
            if (self.requests.count[c] and kernel.stage == self.requests.stage[c]
                    and self.held_ms + e < self.limit_ms):
                # the strategy is still asked (it keeps its own books every
                # tick); its wish to leave is not logged again while held
                log = ctl.events
                quiet = self.quiet
                quiet.now_s = log.now_s
                quiet.now_ms = log.now_ms
                ctl.events = quiet
                d = ctl.strategy.decide(ctl, e)
                ctl.events = log
                if d != kernel.stage:
                    self.held_ms += e
                    self._charge(c, e, self.extension_used_ms)
                return kernel.stage
            self._end(ctl)
        d = ctl.strategy.decide(ctl, e)
        if not self.enabled:
            return d
        if self.mode == EARLY:
            c = self.cls
            if kernel.stage == self.requests.stage[c] and kernel.established:
                self._end(ctl)  # the bus stage is green
                return d
            if not self.requests.count[c] or self._early_left(c) <= 0:
                self._end(ctl)
                return d
            self._charge(c, e, self.early_used_ms)
            return self._early(ctl, c, d)
        if self.owing:
            return d
        c = self._waiting()
        if c < 0:
            return d
        bus = self.requests.stage[c]
        if kernel.stage == bus:
            if kernel.established and d != bus:
                limit = self._extension_left(c, bus)
                if limit > 0:
                    self.mode = EXTEND
                    self.cls = c
                    self.limit_ms = limit
                    self.held_ms = 0
                    self.adjustments += 1
                    self.events.add(ev.TSP_EXTEND_GREEN, c + 1)
                    return bus
            return d
        if self._early_left(c) <= 0 or not self._early_allowed(kernel, bus):
            return d
        self.mode = EARLY
        self.cls = c
        self.adjustments += 1
        self.events.add(ev.TSP_EARLY_GREEN, c + 1)
        return self._early(ctl, c, d)

    def _waiting(self):
        # the transit class of highest rank with a request and budget left, or -1
        classes = self.classes
        requests = self.requests
        best = -1
        for c in range(classes.n):
            if classes.kind[c] != KIND_TRANSIT or not requests.count[c]:
                continue
            if requests.fresh[c]:
                # a new request: its own limits start again
                requests.fresh[c] = 0
                self.extension_used_ms[c] = 0
                self.early_used_ms[c] = 0
            if self.cycle_used_ms[c] >= classes.max_per_cycle_ms[c]:
                continue
            if best < 0 or classes.rank[c] > classes.rank[best]:
                best = c
        return best

    def _extension_left(self, c, bus):
        classes = self.classes
        left = classes.max_extension_ms[c] - self.extension_used_ms[c]
        budget = classes.max_per_cycle_ms[c] - self.cycle_used_ms[c]
        if budget < left:
            left = budget
        plan = self._plan()
        if plan is not None:
            # the plan's slack: up to the stage's force-off point (the coordinated stage's is its yield point)
            pos = plan.pos_ms
            if bus == plan.coordinated_stage:
                return 0
            if pos < plan.yield_ms:
                return 0  # past the cycle's end: the coordinated stage is due
            slack = plan.force_off_ms[plan.place[bus]] - pos
            if slack < left:
                left = slack
        return left

    def _early_left(self, c):
        classes = self.classes
        left = classes.max_early_ms[c] - self.early_used_ms[c]
        budget = classes.max_per_cycle_ms[c] - self.cycle_used_ms[c]
        return budget if budget < left else left

    def _early_allowed(self, kernel, bus):
        plan = self._plan()
        if plan is None:
            return True
        s = kernel.stage
        if s == plan.coordinated_stage or plan.pos_ms < plan.yield_ms:
            return False  # never cut the coordinated stage
        if bus == plan.coordinated_stage:
            return True  # an early return: held there until the next yield point
        return plan._window_open(s, plan.place[bus], plan.pos_ms)

    def _early(self, ctl, c, d):
        # the strategy's decision, unless it holds a stage before the bus
        # stage whose greens (walks) have all held their min green
        kernel = ctl.kernel
        s = kernel.stage
        if d != s or not kernel.established:
            return d
        ix = self.ix
        for g in ix.stage_groups[s]:
            if kernel.state[g] == GREEN and kernel.state_ms(g) < ix.min_green_ms[g]:
                return d
        bus = self.requests.stage[c]
        if ix.free_sequence or self._plan() is not None:
            return bus
        # fixed sequence: the next stage with demand, or the bus stage
        k = len(ix.sequence)
        calls = ctl.demand.call
        state = kernel.state
        p = ix.sequence_position[s]
        for step in range(1, k):
            p += 1
            if p >= k:
                p -= k
            nxt = ix.sequence[p]
            if nxt == bus:
                return bus
            for g in ix.stage_groups[nxt]:
                if calls[g] and state[g] != GREEN:
                    return nxt
        return bus

    def _charge(self, c, e, used):
        t = used[c] + e
        used[c] = t if t < TIMER_MAX_MS else TIMER_MAX_MS
        t = self.cycle_used_ms[c] + e
        self.cycle_used_ms[c] = t if t < TIMER_MAX_MS else TIMER_MAX_MS

    def _end(self, ctl):
        # the adjustment is over: every group waiting with demand is owed a green
        self.mode = NONE
        calls = ctl.demand.call
        state = ctl.kernel.state
        for g in range(self.ix.n_groups):
            if calls[g] and state[g] != GREEN and not self.owed[g]:
                self.owed[g] = 1
                self.owing += 1

    def _recover(self, ctl):
        calls = ctl.demand.call
        state = ctl.kernel.state
        for g in range(self.ix.n_groups):
            if self.owed[g] and (state[g] == GREEN or not calls[g]):
                self.owed[g] = 0
                self.owing -= 1

    def _windows(self, e):
        # the budgets of max_per_cycle_ms: renewed every plan cycle or window_ms
        classes = self.classes
        plan = self._plan()
        for c in range(classes.n):
            if classes.kind[c] != KIND_TRANSIT:
                continue
            window = plan.cycle_ms if plan is not None else classes.window_ms[c]
            t = self.window_age_ms[c] + e
            if t >= window:
                t = 0
                self.cycle_used_ms[c] = 0
            self.window_age_ms[c] = t
