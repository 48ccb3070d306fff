"""Induction-loop presence at controller-tick resolution. Host only (CPython).

SUMO advances in steps (default 1 s); the core ticks faster (default 100 ms).
For every E1 loop SUMO reports, per step, the vehicles that were on the loop
during the step with their entry and leave times in seconds (leave time -1
while the vehicle is still on the loop; a vehicle that entered in an earlier
step keeps its original entry time). This module turns those intervals into one
0/1 presence bit per loop per core tick inside the step, which is all a real
loop amplifier would tell the controller. Vehicles spanning several steps are
handled by clipping their interval to the step. No SUMO import here: the
functions take plain tuples, so they are unit-tested without a simulator.

Units: times in ms (integers) inside, seconds (floats) at the SUMO boundary.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from controller.timing import MAX_STEP_MS

# SUMO's getVehicleData tuple: (vehicle id, length m, entry time s, leave time s, type id)
VehicleData = Sequence


def ticks_per_step(step_ms: int, tick_ms: int) -> int:
    """Number of core ticks in one SUMO step; raises ValueError unless tick_ms divides step_ms."""
    if tick_ms < 1:
        raise ValueError("tick_ms=%d must be at least 1 ms" % tick_ms)
    if step_ms < tick_ms or step_ms % tick_ms:
        raise ValueError(
            "step length %d ms must be a whole multiple of the core tick %d ms "
            "(e.g. --step-length 1.0 with --tick-ms 100)" % (step_ms, tick_ms))
    return step_ms // tick_ms


def occupied_ms(entry_s: float, leave_s: float, step_begin_ms: int, step_ms: int) -> tuple[int, int] | None:
    """The part of one vehicle's stay on the loop inside the step, in ms from step begin.

    Returns (start, end) with 0 <= start <= end <= step_ms, or None if the stay
    does not touch the step. leave_s < 0 means the vehicle is still on the loop.
    """
    start = round(entry_s * 1000) - step_begin_ms
    end = step_ms if leave_s < 0 else round(leave_s * 1000) - step_begin_ms
    if start < 0:
        start = 0  # entered in an earlier step
    if end > step_ms:
        end = step_ms
    if end < start or start >= step_ms or (end <= 0 and leave_s >= 0):
        return None
    return start, end


class LoopPresence:
    """Per-tick presence bits of one controller's loops for the current SUMO step.

    ``ticks[k]`` is the presence bytearray (one byte per loop, in the order the
    loops were given) for the k-th core tick of the step; hand it to
    ``Controller.step(tick_ms, ticks[k])``.
    """

    def __init__(self, n_loops: int, step_ms: int, tick_ms: int) -> None:
        self.n_loops = n_loops
        self.step_ms = step_ms
        self.tick_ms = tick_ms
        self.n_ticks = ticks_per_step(step_ms, tick_ms)
        self.ticks = [bytearray(n_loops) for _ in range(self.n_ticks)]
        self._off = bytes(n_loops)
        self.marked = False  # a bit was set since the last clear()
        self.uniform = True  # every tick of the step has the same presence

    def clear(self) -> None:
        """Start a new step: every bit off."""
        if self.marked:
            for bits in self.ticks:
                bits[:] = self._off
            self.marked = False
        self.uniform = True

    def mark(self, loop: int, vehicles: Iterable[VehicleData], step_begin_ms: int) -> None:
        """Set the bits of loop ``loop`` for every tick a vehicle was on it during the step.

        A tick is occupied if a vehicle's stay overlaps it; a stay shorter than
        the resolution (entry == leave) still marks the tick it falls in, as a
        real loop registers a short pulse.
        """
        tick = self.tick_ms
        for v in vehicles:
            span = occupied_ms(v[2], v[3], step_begin_ms, self.step_ms)
            if span is None:
                continue
            start, end = span
            first = start // tick
            last = (end - 1) // tick if end > start else first
            if last >= self.n_ticks:
                last = self.n_ticks - 1
            if first or last < self.n_ticks - 1:
                self.uniform = False  # the vehicle came or went inside the step
            for k in range(first, last + 1):
                self.ticks[k][loop] = 1
            self.marked = True

    def force(self, loop: int, value: int) -> None:
        """A failed loop amplifier: ``loop`` shows ``value`` (1 stuck on, 0 dead) on every tick, whatever drove over it."""
        for bits in self.ticks:
            bits[loop] = value
        self.marked = True


class CoreStepper:
    """Hands one core the ticks of every SUMO step, holding quiet time back while nothing can happen.

    A tick whose presence equals the tick before it is quiet. Quiet time is
    held back (``pending_ms``) while it stays shorter than the core's
    ``horizon_ms()`` (asked once the core has taken the ticks before): by the
    horizon's definition nothing happens in that time (no decision, state
    change or event), so the outputs shown meanwhile are those of stepping every
    tick. It is handed over in one step when a loop changes, when the horizon
    is reached (a step that ends exactly on it is still exact: what falls due
    happens at its end, as on that tick), or by ``flush()``; held time may span
    many SUMO steps. A core without ``horizon_ms()`` (a board on a serial
    line, a strategy without a horizon) is stepped every tick.
    """

    def __init__(self, core: Any, tick_ms: int) -> None:
        self.core = core
        self.tick_ms = tick_ms
        self.horizon = getattr(core, "horizon_ms", None)
        self.last: bytearray | None = None  # presence of the last tick, stepped or held
        self.pending_ms = 0  # quiet time held back
        self.horizon_left_ms: int | None = None  # the core's horizon when pending_ms began (None: ask)

    def feed(self, ticks: Sequence[bytearray], uniform: bool = False) -> None:
        """The presence of each core tick of one SUMO step, in order (``uniform``: all ticks alike)."""
        core = self.core
        tick = self.tick_ms
        horizon = self.horizon
        if horizon is None:
            for bits in ticks:
                core.step(tick, bits)
            return
        # the stepper's state in locals for the loop (written back at the end)
        last = self.last
        pending = self.pending_ms
        h = self.horizon_left_ms
        if uniform and ticks[0] == last:
            # the whole step is quiet: held back at once if it ends before the horizon
            if h is None:
                h = min(horizon(), MAX_STEP_MS)
            t = pending + tick * len(ticks)
            if t < h:
                self.pending_ms = t
                self.horizon_left_ms = h
                return
        for bits in ticks:
            same = bits == last
            if same:
                if h is None:
                    h = min(horizon(), MAX_STEP_MS)
                t = pending + tick
                if t < h:
                    pending = t  # nothing can happen by the end of this tick
                    continue
                if t == h:
                    core.step(t, last)  # what falls due happens at the end of this step, as on that tick
                    pending = 0
                    h = None
                    continue
            # a change, or past the horizon: the held time, then this tick alone
            h = None
            if pending:
                core.step(pending, last)
                pending = 0
            if not same:
                last = bytearray(bits)
            core.step(tick, bits)
        self.last = last
        self.pending_ms = pending
        self.horizon_left_ms = h

    def flush(self) -> None:
        """Hand the held quiet time to the core (nothing happens in it)."""
        self.horizon_left_ms = None
        if self.pending_ms:
            t = self.pending_ms
            self.pending_ms = 0
            self.core.step(t, self.last)


def merged_ticks(ticks: Sequence[bytearray], tick_ms: int) -> list[tuple[int, bytearray]]:
    """The ticks of one step as (elapsed_ms, presence) with unchanged runs merged.

    The core reads a presence bit as the state at the end of its tick, so an
    edge belongs to the tick it happens in: each run of ticks with the same
    presence becomes that first tick, then the rest of the run as one longer
    tick. Presence, counts and detector timers come out exactly as with every
    tick; a decision the core would take inside a merged run is taken at its
    end instead, which shifts its own timers by up to the run's length.
    """
    out: list[tuple[int, bytearray]] = []
    rest = 0
    last = None
    for bits in ticks:
        if bits == last:
            rest += tick_ms
            continue
        if rest:
            out.append((rest, last))
            rest = 0
        out.append((tick_ms, bits))
        last = bits
    if rest:
        out.append((rest, last))
    return out
