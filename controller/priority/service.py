# Priority service: the Controller's one hook for preemption and transit
# priority, between the strategy's decision and the safety kernel. Runs on
# the board; update() and step() allocate nothing. Units: ms.
# Built only for a config with a "priority" block (Controller.__init__);
# without one the controller runs exactly as before.
from controller.priority.classes import KIND_TRANSIT, PriorityClasses
from controller.priority.preemption import IDLE, Preemption
from controller.priority.requests import PriorityRequests
from controller.priority.transit import TransitPriority


class PriorityService:
    def __init__(self, ctl):
        ix = ctl.ix
        self.classes = PriorityClasses(ix, ix.raw["priority"])
        self.requests = PriorityRequests(self.classes, ctl.events)
        self.preemption = Preemption(self.classes, self.requests, ctl.events)
        self.transit = None
        if any(k == KIND_TRANSIT for k in self.classes.kind):
            self.transit = TransitPriority(ctl, self.classes, self.requests)

    def update(self, elapsed_ms, detectors):
        # every tick, whatever the kernel's mode: requests come and time out
        self.requests.update(elapsed_ms, detectors)

    def step(self, ctl, elapsed_ms):
        # In normal operation, instead of the strategy's plain decision: a
        # preemption drives the kernel itself (the strategy restarts when it
        # hands back); otherwise the strategy decides, and transit priority
        # may hold or cut its stage.
        kernel = ctl.kernel
        transit = self.transit
        if self.preemption.step(ctl, elapsed_ms):
            ctl.strategy_running = False
            if transit is not None:
                transit.cancel()
            return
        strategy = ctl.strategy
        e = elapsed_ms
        if not ctl.strategy_running:
            ctl.start_strategy()
            e = 0
            if transit is not None:
                transit.cancel()
        if transit is None:
            kernel.request(strategy.decide(ctl, e))
        else:
            kernel.request(transit.step(ctl, e))

    def reset(self, ctl):
        # the kernel is not in normal operation (startup, flash, an ending)
        if self.preemption.phase != IDLE:
            self.preemption.halt(ctl.kernel)
        if self.transit is not None:
            self.transit.cancel()

    def preempting(self):
        # a preemption runs: a time-of-day plan change waits for its hand-back (plan_change.py)
        return self.preemption.phase != IDLE

    def busy(self):
        # something is counted or running: the host steps tick by tick (horizon.py)
        return (self.requests.active or self.preemption.phase != IDLE
                or (self.transit is not None and self.transit.busy()))

    def request(self, c, on):
        # a request from the wire or the coordinator: class number c, on (one
        # more) or off (one less); False for an unknown class
        if c < 0 or c >= self.classes.n:
            return False
        if on:
            self.requests.add(c)
        else:
            self.requests.remove(c)
        return True
