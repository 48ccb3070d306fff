# The controller: one intersection's walk of one tick. Runs on the board.
#   presence bits -> detectors -> diagnostics -> demand -> strategy asks
#   -> safety kernel acts -> conflict monitor checks -> outputs + events
# The core never reads a clock and never does I/O: the caller hands in the
# elapsed ms and the presence bits and reads `outputs` (one state per signal
# group) afterwards. step() allocates nothing in steady state.
from controller.events import codes as ev
from controller.safety.conflict_monitor import ConflictMonitor
from controller.detection.demand import Demand
from controller.detection.diagnostics import DetectorDiagnostics
from controller.detection.detectors import Detectors
from controller.events.log import EventLog
from controller.safety.kernel import MODE_ENDED, MODE_ENDING, MODE_FLASH, MODE_RUN, SafetyKernel
from controller.safety.signal_states import write_flash
from controller.strategies.registry import make_strategy
from controller.timing import MAX_STEP_MS


class Controller:
    def __init__(self, ix, strategy=None, event_capacity=1024):
        # ix: a validated Intersection (controller.config.loading.load_*).
        # strategy: a name, a strategy object, or None for the config's own.
        self.ix = ix
        self.events = EventLog(event_capacity)
        self.detectors = Detectors(ix, self.events)
        self.diagnostics = DetectorDiagnostics(ix, self.detectors, self.events)
        self.demand = Demand(ix, self.detectors, self.diagnostics, self.events)
        self.kernel = SafetyKernel(ix, self.events)
        self.monitor = ConflictMonitor(ix.raw)
        own = strategy is None
        if strategy is None:
            strategy = ix.strategy
        if isinstance(strategy, str):
            strategy = make_strategy(strategy, ix)
        self.strategy = strategy
        self.priority = None  # preemption and transit priority (controller/priority/), if configured
        if ix.raw.get("priority"):
            from controller.priority.service import PriorityService

            self.priority = PriorityService(self)
        self.outputs = self.kernel.outputs
        self.ticks = 0
        self.bad_steps = 0
        self.strategy_running = False  # the strategy has started and decides (not in startup, flash or an ending)
        self.restart_when_ended = False  # a reset waits for the safe ending of the running program
        # the time-of-day program (docs/schedules.md): only with the config's own
        # strategy, and idle until set_local_time() is first called
        self.plans = None
        if own and ix.raw.get("schedule"):
            from controller.plan_change import PlanChanger

            self.plans = PlanChanger(self, ix.raw["schedule"])
        self.monitor.check(0, self.outputs, self.events)

    def set_local_time(self, date, weekday, ms_of_day):
        # The local time, handed in like the elapsed time (the core reads no
        # clock): date an int YYYYMMDD, weekday 0 = Monday, ms since local
        # midnight. From then on the core advances it with each step's
        # elapsed ms. Between ticks; raises ValueError on a bad value.
        # Without a schedule in the config it is ignored (returns False).
        if self.plans is None:
            return False
        self.plans.set_local_time(self, date, weekday, ms_of_day)
        return True

    def uptime_ms(self):
        # ms since power-up (not for the tick path on a board running for weeks)
        return self.events.now_s * 1000 + self.events.now_ms

    @property
    def flashing(self):
        return self.monitor.latched

    def step(self, elapsed_ms, presence):
        # Advance by elapsed_ms with the given presence (one 0/1 per detector,
        # in config order). Returns the outputs bytearray (updated in place).
        e = elapsed_ms
        if e < 0 or e > MAX_STEP_MS:
            # a broken clock must not make timers jump: clamp, count, log
            self.bad_steps += 1
            self.events.add(ev.VENDOR_ALARM, ev.FAULT_STEP_INPUT)
            e = 0 if e < 0 else MAX_STEP_MS
        self.ticks += 1
        self.events.advance(e)
        if self.plans is not None:
            self.plans.advance(self, e)
        self.detectors.update(e, presence)
        self.diagnostics.check(e)
        kernel = self.kernel
        self.demand.update(e, kernel.state, kernel.version)
        kernel.advance_timers(e)
        priority = self.priority
        if priority is not None:
            priority.update(e, self.detectors)
        if kernel.mode == MODE_RUN and not self.monitor.latched:
            if priority is not None:
                priority.step(self, e)  # the strategy's decision, with preemption and transit priority
            elif not self.strategy_running:
                self.start_strategy()
                kernel.request(self.strategy.decide(self, 0))
            else:
                kernel.request(self.strategy.decide(self, e))
        else:
            self.strategy_running = False
            if priority is not None:
                priority.reset(self)
        kernel.apply(self.demand.call)
        if kernel.mode == MODE_ENDED and self.restart_when_ended:
            self.restart_when_ended = False
            kernel.restart()
        if not self.monitor.check(e, self.outputs, self.events):
            # latched: the heads flash whatever the kernel wanted
            if kernel.mode != MODE_FLASH:
                kernel.enter_fault_flash()
            write_flash(self.outputs, self.ix.is_pedestrian, self.ix.flash_red)
        return self.outputs

    def start_strategy(self):
        # The strategy starts now (after startup, flash, an ending or a
        # preemption's hand-back): it rebuilds whatever it keeps, and its first
        # decision is to see no elapsed time.
        self.strategy_running = True
        self.strategy.start(self)
        if self.plans is not None:
            self.plans.started(self)

    def horizon_ms(self):
        # Host use (the SUMO runner): how long the controller can be stepped in
        # one step, with the presence of its last tick unchanged, and come out
        # exactly as if stepped tick by tick (0: step one tick). The
        # prediction is controller/horizon.py's; the board never imports it.
        from controller.horizon import controller_horizon_ms

        h = controller_horizon_ms(self)
        if self.plans is not None and h > 0:
            h = min(h, self.plans.horizon_ms())  # never step past a plan change
        return h

    def drain_events(self):
        # Events since the last drain, oldest first: [(time_ms, code, param)].
        # Part of the controller-shaped interface that runners rely on
        # (ix, outputs, step(), drain_events(), flashing); the HIL proxy
        # offers the same for a board on a serial line.
        return self.events.drain()

    def reset(self):
        # Start again with the startup sequence (flash, all red, first stage).
        # A latched fault is cleared and restarts at once (from flash); a
        # running program first ends safely: every green ends with its min
        # green, clearance and red clearance held (rule 7), then it restarts.
        # The monitor keeps its history, so it checks the change like any other.
        kernel = self.kernel
        if self.monitor.latched:
            self.monitor.unlatch()
            self.events.add(ev.UNIT_FLASH_STATUS_CHANGE, 0)
        elif kernel.begin_ending():
            self.restart_when_ended = kernel.mode == MODE_ENDING
            if self.restart_when_ended:
                return
        self.restart_when_ended = False
        kernel.restart()
        self.strategy_running = False
        self.monitor.check(0, self.outputs, self.events)

    def end(self):
        # End the running program safely and hold all red (before the board
        # swaps in a new config or restarts); see `ended`.
        self.kernel.begin_ending()
        self.restart_when_ended = False
        return self.ended

    @property
    def ended(self):
        # The heads may be handed over now: all red after a safe ending, the
        # startup sequence (flash, all red) or fault flash.
        mode = self.kernel.mode
        return mode != MODE_RUN and mode != MODE_ENDING
