"""The cores of an ampelwerk-* SUMO run, stepped once per SUMO step. Host only.

Per SUMO step and per traffic light: the E1 loops' vehicle data -> presence
bits per core tick (sim/loop_presence.py) -> core.step() (quiet ticks held
back and stepped as one where the core allows it: exactly as tick by tick)
-> outputs (one state per signal group) -> the traffic light's SUMO state
string (LinkMap) -> SUMO; the cores' events -> events.csv. The core sees
presence bits only. Times: SUMO seconds at the boundary, integer ms towards
the core.
"""

from __future__ import annotations

from itertools import compress
from typing import Any

from controller.events.log import EventLog
from controller.safety.signal_states import DARK, FLASH_RED, FLASH_YELLOW, FLASHING_GREEN, GREEN, RED, RED_AMBER, YELLOW
from sim.loop_presence import CoreStepper, LoopPresence, merged_ticks
from sim.sumo_session import SumoError

# signal state -> SUMO link char; GREEN shows the link's own G/g and RED its r/s (LinkMap);
# a flashing green (kernel rule 12) shows G/g too: SUMO has none, and vehicles may go
SIGNAL_CHARS = {RED: "r", YELLOW: "y", FLASH_YELLOW: "o", FLASH_RED: "O", DARK: "O", RED_AMBER: "u"}


class LinkMap:
    """Turns one core's outputs (state per signal group) into the SUMO state string of its traffic light."""

    def __init__(self, ix: Any) -> None:
        src = (ix.raw.get("source") or {}).get("sumo")
        if not src:
            raise SumoError("config %s has no source.sumo link mapping: import the scenario with `ampelwerk sim import`" % ix.id)
        self.link_count = int(src["link_count"])
        self.green_chars = src["green_chars"]
        # shown while a link's group is red: 's' (stop, then turn on red) where the program allows it
        self.red_chars = src.get("red_chars") or "r" * self.link_count
        self.group_links = [tuple(src["group_links"].get(gid, ())) for gid in ix.group_ids]
        self.chars = list(self.red_chars)
        self._outputs = b""  # the outputs the last state string was made from
        self._state = ""

    def state(self, outputs: bytes | bytearray) -> str:
        if outputs == self._outputs:
            return self._state
        chars = self.chars
        for g, links in enumerate(self.group_links):
            s = outputs[g]
            for i in links:
                chars[i] = (self.green_chars[i] if s == GREEN or s == FLASHING_GREEN else self.red_chars[i] if s == RED
                            else SIGNAL_CHARS.get(s, "O"))
        self._outputs = bytes(outputs)
        self._state = "".join(chars)
        return self._state


class AmpelwerkLights:
    """The cores of an ampelwerk-* run: loops in, SUMO state strings and events out, once per SUMO step."""

    def __init__(self, cores: dict[str, Any], infos: dict, step_ms: int, tick_ms: int, merge_ticks: bool = False,
                 failed_loops: dict[str, int] | None = None) -> None:
        self.cores = cores
        self.tick_ms = tick_ms
        self.merge_ticks = merge_ticks
        failed_loops = failed_loops or {}
        self.maps = {}
        self.presence: dict[str, LoopPresence] = {}
        # every loop of every core, in one list: (core's presence, loop index) per loop id
        self.loop_ids: list[str] = []
        self.loop_slots: list[tuple[LoopPresence, int]] = []
        for tls, core in cores.items():
            m = LinkMap(core.ix)
            if m.link_count != len(infos[tls].links):
                raise SumoError("config of %s maps %d links, the net's traffic light has %d: re-import the scenario"
                                % (tls, m.link_count, len(infos[tls].links)))
            self.maps[tls] = m
            lp = self.presence[tls] = LoopPresence(core.ix.n_detectors, step_ms, tick_ms)
            for j, det in enumerate(core.ix.detector_ids):
                self.loop_ids.append(det)
                self.loop_slots.append((lp, j))
        self.all_loops = range(len(self.loop_ids))
        # a failed loop amplifier: stuck on or dead, whatever drives over it
        self.forced = [(self.loop_slots[k], failed_loops[det]) for k, det in enumerate(self.loop_ids)
                       if det in failed_loops]
        self.steppers = {tls: CoreStepper(core, tick_ms) for tls, core in cores.items()}
        self.shown: dict[str, str] = {}  # the state string each traffic light was last set to
        # an in-process core's event log: drained only when it holds events (None: always drain)
        self.logs = {tls: core.events if isinstance(getattr(core, "events", None), EventLog) else None
                     for tls, core in cores.items()}
        # the priority classes' check-in/out loops (sim/priority_loops.py): (index, tls, loop id, kind)
        kinds = {d["id"]: (tls, d["kind"]) for tls, core in cores.items() for d in core.ix.raw.get("detectors", ())
                 if d.get("kind") in ("check_in", "check_out")}
        self.class_loops = [(k, kinds[det][0], det, kinds[det][1]) for k, det in enumerate(self.loop_ids)
                            if det in kinds]
        self.passages: Any = None  # a file: every vehicle a class loop saw (analysis only, the cores get bits)

    def record_passages(self, f: Any) -> None:
        """Write each vehicle entering a check-in or check-out loop to ``f`` (priority_loops.csv): what the
        loop's own log would hold, for the per-junction view (sim/junction_view.py). Never fed to a core."""
        self.passages = f
        f.write("time_s,tls_id,loop_id,kind,vehicle_id,vtype\n")

    def finish(self) -> None:
        """At the end of the run: every core takes the quiet time still held back (nothing happens in it)."""
        for stepper in self.steppers.values():
            stepper.flush()

    def show(self, conn: Any, tls: str) -> None:
        self.shown[tls] = self.maps[tls].state(self.cores[tls].outputs)
        conn.trafficlight.setRedYellowGreenState(tls, self.shown[tls])

    def step(self, conn: Any, now_s: float, step_s: float, events: Any, begin_s: float) -> None:
        """Feed each core the presence of the step that just ended at now_s; show its outputs; log its events."""
        from controller.events.names import NAMES

        step_begin_ms = round((now_s - step_s) * 1000)
        # 300+ loops are read every step, most of them empty: the reader mapped over all of them
        # (libsumo and TraCI alike), and only the loops with vehicle data visited
        read = conn.inductionloop.getVehicleData
        for lp in self.presence.values():
            lp.clear()
        data = list(map(read, self.loop_ids))
        slots = self.loop_slots
        for k in compress(self.all_loops, data):
            lp, j = slots[k]
            lp.mark(j, data[k], step_begin_ms)
        if self.passages is not None:
            for k, tls, det, kind in self.class_loops:
                for v in data[k]:
                    if round(v[2] * 1000) >= step_begin_ms:  # entered during this step
                        self.passages.write("%.2f,%s,%s,%s,%s,%s\n" % (v[2], tls, det, kind, v[0], v[4]))
        for (lp, j), value in self.forced:
            lp.force(j, value)
        for tls, core in self.cores.items():
            lp = self.presence[tls]
            if self.merge_ticks:
                for elapsed, bits in merged_ticks(lp.ticks, self.tick_ms):
                    core.step(elapsed, bits)
            else:
                self.steppers[tls].feed(lp.ticks, lp.uniform)
            state = self.maps[tls].state(core.outputs)
            if self.shown[tls] != state:
                conn.trafficlight.setRedYellowGreenState(tls, state)
                self.shown[tls] = state
            log = self.logs[tls]
            if log is None or log.size:
                for time_ms, code, param in core.drain_events():
                    events.write("%.3f,%s,%d,%d,%s\n" % (begin_s + time_ms / 1000, tls, code, param,
                                                          NAMES.get(code, "")))
