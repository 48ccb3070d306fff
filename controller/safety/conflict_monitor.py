# The conflict monitor: an independent check of what the signal heads show,
# like a malfunction management unit. Runs on the board. It builds its own
# tables straight from the config dict (not from the kernel's arrays; the
# dict has every default filled in at load, config/defaults.py) and watches
# only the outputs, every tick:
#  - two conflicting groups out of red (green or clearance) at once;
#  - a clearance (yellow / flashing don't-walk) shorter than configured;
#  - a green started before the intergreen from a conflicting group elapsed,
#    or before that group showed red for its red clearance;
#  - a green (walk) ended before its min green (walk) time (with a priority
#    block: before the lowest preempt_min_green_ms of its preemption classes,
#    when that is shorter; a preemption may end greens that soon);
#  - a yellow trap: a group ending green while a group it yields to
#    (yields_to) shows green, or a green starting beside the clearance of a
#    group it forms such a pair with;
#  - a red revert cut short: a green started before the group showed red
#    for its red_revert_ms;
#  - an illegal sequence (green->red, yellow->green, red->yellow, flash->green);
#  - red-amber (red_amber_ms > 0, a profile's sequence) started like a green
#    (the checks above, made when it starts, with the intergreen less
#    red_amber_ms: it runs inside the intergreen), shorter than red_amber_ms,
#    not followed by green, or left out before a green; the green after it
#    is checked again against the full intergreen; red-amber counts as out
#    of red in the conflict check;
#  - flashing green (flashing_green_ms > 0): left out between green and
#    yellow, shorter than flashing_green_ms, or not followed by yellow. It
#    ends the green: min green is checked at its start, the intergreen
#    counts from its end, and it counts as green for the conflict and
#    yellow-trap checks.
# The first violation latches: `latched` stays set until unlatch(), and the
# controller shows flash meanwhile. The history of what was shown is kept
# across a latch and an unlatch (a reset), so a reset is checked like any
# other change. check() allocates nothing. Durations are time stamps on the
# monitor's own wrapping clock (timing.CLOCK_MASK), so a tick in which no
# output changed costs one comparison: the same outputs passed every check
# the tick before.
from array import array

from controller.events import codes as ev
from controller.compat import SMALL_INT_MAX
from controller.safety.signal_states import DARK, FLASHING_GREEN, GREEN, RED, RED_AMBER, YELLOW, is_flash
from controller.stamp_clock import StampClock
from controller.timing import CLOCK_MASK


class ConflictMonitor:
    def __init__(self, raw):
        groups = raw["signal_groups"]
        n = len(groups)
        self.n = n
        index = {}
        for i, g in enumerate(groups):
            index[g["id"]] = i
        self.min_yellow_ms = array("i", [0] * n)
        self.min_green_ms = array("i", [0] * n)
        self.min_red_ms = array("i", [0] * n)  # red clearance
        self.red_revert_ms = array("i", [0] * n)
        self.red_amber_ms = array("i", [0] * (2 * n))  # red-amber; at n + g the flashing green (one object: a small heap)
        for i, g in enumerate(groups):
            self.min_red_ms[i] = g["red_clearance_ms"]
            self.red_revert_ms[i] = g["red_revert_ms"]
            self.red_amber_ms[i] = g.get("red_amber_ms", 0)
            self.red_amber_ms[n + i] = g.get("flashing_green_ms", 0)
            if g["kind"] == "pedestrian":
                self.min_yellow_ms[i] = g["ped_clearance_ms"]
                self.min_green_ms[i] = g["walk_ms"]
            else:
                self.min_yellow_ms[i] = g["yellow_ms"]
                self.min_green_ms[i] = g["min_green_ms"]
        # a preemption may end greens after the shortest preempt_min_green_ms of the priority block
        # (the block's one field is its list of classes: read as its values)
        for classes in (raw.get("priority") or {}).values():
            for c in classes:
                v = c.get("preempt_min_green_ms")
                for i in range(n):
                    if v is not None and v < self.min_green_ms[i]:
                        self.min_green_ms[i] = v
        # pairs (a yields to b) of groups that may be green together
        ya = []
        yb = []
        for i, g in enumerate(groups):
            for x in g["yields_to"]:
                ya.append(i)
                yb.append(index[x])
        self.yield_a = bytearray(ya)
        self.yield_b = bytearray(yb)
        pa = []
        pb = []
        for a, b in raw["conflicts"]:
            pa.append(index[a])
            pb.append(index[b])
        self.pair_a = bytearray(pa)
        self.pair_b = bytearray(pb)
        # required intergreen before b may enter, per (a, b)
        self.intergreen_ms = array("i", [-1] * (n * n))
        for a, row in raw["intergreen_ms"].items():
            for b, v in row.items():
                self.intergreen_ms[index[a] * n + index[b]] = v
        self.last = bytearray(n)
        self.clock_ms = 0
        self.shown_at = array("i", [0] * n)  # when the current output began
        self.green_end_at = array("i", [0] * n)  # when the group last left green (or flash)
        self.clock = StampClock((self.shown_at, self.green_end_at))
        for g in range(n):
            self.last[g] = DARK  # unknown history: a green must be preceded by red
        self.latched = False
        self.fault = 0
        self.fault_group = 0
        self.trips = 0

    def unlatch(self):
        # A reset clears the latch; what was shown, and since when, is kept.
        self.latched = False
        self.fault = 0
        self.fault_group = 0

    def _age(self, stamp):
        return (self.clock_ms - stamp) & CLOCK_MASK

    def check(self, elapsed_ms, outputs, events):
        # Returns True when the outputs are safe; latches on the first violation.
        # Call once with elapsed_ms=0 on the outputs shown at power-up.
        now = self.clock.advance(elapsed_ms)
        self.clock_ms = now
        if outputs == self.last:
            return not self.latched
        # (a change is checked in a call of its own: a frame with the many
        # locals of the checks is allocated only when something changed)
        return self._check_change(outputs, now, events)

    def _check_change(self, outputs, now, events):
        if self.latched:
            self._record(outputs, now)  # the history goes on through the flash
            return False
        n = self.n
        flashing = 0
        for g in range(n):
            new = outputs[g]
            if new > FLASHING_GREEN:
                return self._trip(ev.FAULT_BAD_STATE, g, events)
            if is_flash(new):
                flashing += 1
            prev = self.last[g]
            if new == prev:
                continue
            age = self._age(self.shown_at[g])  # how long prev was shown
            if prev == RED_AMBER and not is_flash(new):
                if new != GREEN or age < self.red_amber_ms[g]:
                    return self._trip(ev.FAULT_RED_AMBER, g, events)
            if prev == FLASHING_GREEN and not is_flash(new):
                if new != YELLOW or age < self.red_amber_ms[n + g]:
                    return self._trip(ev.FAULT_FLASHING_GREEN, g, events)
            if new == FLASHING_GREEN or (new == YELLOW and prev == GREEN):
                # a green ends: after its min green, through its flashing green if it has one
                if prev != GREEN or (new == FLASHING_GREEN) != (self.red_amber_ms[n + g] > 0):
                    return self._trip(ev.FAULT_FLASHING_GREEN, g, events)
                if age < self.min_green_ms[g]:
                    return self._trip(ev.FAULT_SHORT_GREEN, g, events)
            elif new == GREEN or new == RED_AMBER:
                if new == GREEN and prev == RED and self.red_amber_ms[g]:
                    return self._trip(ev.FAULT_RED_AMBER, g, events)
                if prev != RED and not (new == GREEN and prev == RED_AMBER):
                    return self._trip(ev.FAULT_BAD_SEQUENCE, g, events)
                if prev == RED and age < self.red_revert_ms[g]:
                    return self._trip(ev.FAULT_RED_REVERT, g, events)
                # red-amber runs inside the intergreen (rule 11): it may start
                # red_amber_ms before it runs out; the green needs it in full
                early = self.red_amber_ms[g] if new == RED_AMBER else 0
                for c in range(n):
                    need = self.intergreen_ms[c * n + g]
                    if need < 0:
                        continue
                    need -= early
                    was = self.last[c]
                    red_shown = self._age(self.shown_at[c]) if was == RED else 0
                    since_end = self._age(self.green_end_at[c]) if was == RED or was == YELLOW else 0
                    if outputs[c] != RED or since_end < need or red_shown < self.min_red_ms[c]:
                        return self._trip(ev.FAULT_INTERGREEN, g, events)
            elif new == YELLOW:
                if prev != FLASHING_GREEN:
                    return self._trip(ev.FAULT_BAD_SEQUENCE, g, events)
            elif new == RED:
                if prev == GREEN:
                    return self._trip(ev.FAULT_BAD_SEQUENCE, g, events)
                if prev == YELLOW and age < self.min_yellow_ms[g]:
                    return self._trip(ev.FAULT_SHORT_YELLOW, g, events)
        if flashing:
            # flash is all or nothing: no head may show a colour during flash
            if flashing != n:
                return self._trip(ev.FAULT_BAD_STATE, 0, events)
        else:
            for k in range(len(self.pair_a)):
                a = outputs[self.pair_a[k]]
                b = outputs[self.pair_b[k]]
                if a != RED and b != RED:
                    return self._trip(ev.FAULT_CONFLICT, self.pair_a[k], events)
            # yellow trap: a yielding group ends beside the green it yields to,
            # or either of them starts green beside the other's clearance
            # (a flashing green lets vehicles go: here it is a green; go: state -> as seen)
            go = b"\x00\x01\x02\x03\x04\x05\x06\x02"
            last = self.last
            for k in range(len(self.yield_a)):
                a = self.yield_a[k]
                b = self.yield_b[k]
                na = go[outputs[a]]
                nb = go[outputs[b]]
                if na == YELLOW and nb == GREEN and (go[last[a]] == GREEN or go[last[b]] != GREEN):
                    return self._trip(ev.FAULT_YELLOW_TRAP, a, events)
                if nb == YELLOW and na == GREEN and go[last[a]] != GREEN:
                    return self._trip(ev.FAULT_YELLOW_TRAP, a, events)
        self._record(outputs, now)
        return True

    def _record(self, outputs, now):
        for g in range(self.n):
            new = outputs[g]
            prev = self.last[g]
            if new != prev:
                if (prev == GREEN or prev == FLASHING_GREEN) and new != FLASHING_GREEN or is_flash(prev):
                    # leaving green (its flashing green included) or flash: the intergreen clock starts now
                    self.green_end_at[g] = now
                self.shown_at[g] = now
                self.last[g] = new

    def _trip(self, fault, group, events):
        self.latched = True
        self.fault = fault
        self.fault_group = group
        if self.trips < SMALL_INT_MAX:
            self.trips += 1
        events.add(ev.VENDOR_ALARM, fault)
        events.add(ev.UNIT_FLASH_STATUS_CHANGE, 1)
        return False
