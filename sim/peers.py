"""Peer baselines that Ampelwerk is compared against in SUMO. Host only.

* ``sumo-actuated``: SUMO's own gap-based actuated control on the net's phases.
  We write a type="actuated" copy of every program (green phases get minDur /
  maxDur, transitions keep their durations) into an additional file; SUMO lays
  its own detectors for it.
* ``sumo-delay-based``: SUMO's own time-loss actuated control (``type="delay_based"``,
  Oertel and Wagner 2011) on the same copy of the program as ``sumo-actuated``.
  SUMO builds a lane-area (E2) detector over the last ``detectorRange`` (100 m,
  SUMO's default) of every incoming lane, running on upstream where the lane
  is shorter, and knows every vehicle's time loss inside it. A green is held
  while a vehicle on a green lane has lost more than ``minTimeLoss`` (1 s) and
  can reach the stop line before maxDur; after minDur it ends when none is
  left, and at maxDur when a vehicle waits on a red lane's area.
* ``max-pressure``: the textbook max-pressure rule (Varaiya 2013) with richer
  sensing than Ampelwerk: lane-area (E2) detectors count the vehicles on the
  last 50 m before the stop line of every incoming lane and the first 50 m of
  every outgoing lane (running on over the next lanes where a lane is shorter,
  e.g. a turn pocket). Every decision interval, once the minimum green has run,
  it serves the green phase of the program with the largest pressure (sum over
  its green movements of vehicles upstream minus downstream); once a green
  has run its maximum (the program's maxDur, else 50 s as for
  ``sumo-actuated``) it moves to the phase with the largest pressure among
  those with a vehicle waiting. Decision interval and minimum green 10 s: the
  action period of the RESCO benchmark's agents (``step_length`` 10 s in
  RESCO's map_config.py on every net but arterial4x4, which has 5 s). It goes
  through the program's yellow (and all-red, if the program has one).

Also reads what the peers need from a running SUMO (programs, controlled links,
lane lengths). Times in seconds, lengths in metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

ACTUATED_PROGRAM_ID = "ampelwerk-peer-actuated"
ACTUATED_MIN_DUR_S = 5.0  # minDur of every green phase of a static program
ACTUATED_MAX_DUR_S = 50.0  # maxDur of every green phase of a static program
DELAY_BASED_PROGRAM_ID = "ampelwerk-peer-delay-based"
DELAY_BASED_DETECTOR_RANGE_M = 100.0  # SUMO's default (sumo --tls.delay_based.detector-range), written out
MAX_PRESSURE_DETECTOR_M = 50.0
MAX_PRESSURE_MIN_GREEN_S = 10.0  # RESCO's step_length (map_config.py): its agents act every 10 s
MAX_PRESSURE_INTERVAL_S = 10.0
DEFAULT_YELLOW_S = 3.0


@dataclass
class TlsInfo:
    """One traffic light as SUMO runs it: active program, its phases and the lanes of each link."""

    tls_id: str
    program_id: str
    phases: list[tuple[float, str, float, float]]  # (duration, state, minDur, maxDur)
    links: list[tuple[str, str] | None]  # per link index: (incoming lane, outgoing lane)
    lane_length: dict[str, float] = field(default_factory=dict)

    def approach_edges(self) -> list[str]:
        """Incoming edges of the junction (edge id = lane id without the _<index> suffix)."""
        return sorted({lk[0].rsplit("_", 1)[0] for lk in self.links if lk and not lk[0].startswith(":")})


def read_net_info(conn: Any) -> dict[str, TlsInfo]:
    """Every traffic light of a running simulation, with its current program and links."""
    out = {}
    for tls in conn.trafficlight.getIDList():
        program = conn.trafficlight.getProgram(tls)
        logics = conn.trafficlight.getAllProgramLogics(tls)
        logic = next((lg for lg in logics if lg.programID == program), logics[0] if logics else None)
        phases = [(p.duration, p.state, p.minDur, p.maxDur) for p in logic.phases] if logic else []
        links: list[tuple[str, str] | None] = []
        for alternatives in conn.trafficlight.getControlledLinks(tls):
            links.append((alternatives[0][0], alternatives[0][1]) if alternatives else None)
        lengths = {}
        for lk in links:
            if lk:
                for lane in lk:
                    if lane not in lengths:
                        lengths[lane] = conn.lane.getLength(lane)
        out[tls] = TlsInfo(tls, program, phases, links, lengths)
    return out


def is_green_phase(state: str) -> bool:
    """A phase that gives green to someone and is not a transition (no yellow)."""
    return ("G" in state or "g" in state) and "y" not in state and "Y" not in state


def has_green_phase(info: TlsInfo) -> bool:
    """Whether the program has a phase a peer controller can serve (lights that only blink are left alone)."""
    return any(is_green_phase(p[1]) for p in info.phases)


def write_actuated_programs(infos: dict[str, TlsInfo], path: Path) -> dict[str, str]:
    """Write a type="actuated" copy of each program to ``path``; returns {tls_id: program id to switch to}."""
    return _write_programs(infos, path, "actuated", ACTUATED_PROGRAM_ID, {})


def write_delay_based_programs(infos: dict[str, TlsInfo], path: Path) -> dict[str, str]:
    """Write a type="delay_based" copy of each program to ``path``; returns {tls_id: program id to switch to}."""
    return _write_programs(infos, path, "delay_based", DELAY_BASED_PROGRAM_ID,
                           {"detectorRange": "%g" % DELAY_BASED_DETECTOR_RANGE_M})


def _write_programs(infos: dict[str, TlsInfo], path: Path, kind: str, program_id: str,
                    params: dict[str, str]) -> dict[str, str]:
    """A copy of each program with its green phases given minDur/maxDur (transitions keep their durations)."""
    lines = ["<additional>"]
    served = [tls for tls, info in infos.items() if has_green_phase(info)]
    for tls in served:
        info = infos[tls]
        lines.append('    <tlLogic id=%s type="%s" programID="%s" offset="0">' % (quoteattr(tls), kind, program_id))
        for key, value in params.items():
            lines.append('        <param key="%s" value="%s"/>' % (key, value))
        for duration, state, min_dur, max_dur in info.phases:
            if is_green_phase(state):
                if not (0 < min_dur < max_dur):  # static phase: documented defaults
                    min_dur, max_dur = ACTUATED_MIN_DUR_S, ACTUATED_MAX_DUR_S
                lines.append('        <phase duration="%g" minDur="%g" maxDur="%g" state="%s"/>' % (
                    min(max(duration, min_dur), max_dur), min_dur, max_dur, state))
            else:
                lines.append('        <phase duration="%g" state="%s"/>' % (duration, state))
        lines.append("    </tlLogic>")
    lines.append("</additional>")
    Path(path).write_text("\n".join(lines) + "\n")
    return {tls: program_id for tls in served}


def _detector_id(direction: str, lane: str) -> str | None:
    """E2 id of a lane; None for internal lanes (SUMO lays no E2 there; they count as empty)."""
    return None if lane.startswith(":") else "mp_%s_%s" % (direction, lane)


def write_pressure_detectors(infos: dict[str, TlsInfo], path: Path) -> None:
    """E2 detectors over the last (incoming) / first (outgoing) 50 m of every controlled lane.

    An area longer than its lane runs on over the lanes before it (incoming; SUMO follows
    the lane's predecessors) or after it (outgoing), so a 25 m turn pocket still gets
    50 m: the queue that spills out of the pocket counts.
    """
    lines = ["<additional>"]
    done = set()
    for info in infos.values():
        for lk in info.links:
            if not lk:
                continue
            for direction, lane in (("in", lk[0]), ("out", lk[1])):
                if (direction, lane) in done or _detector_id(direction, lane) is None:
                    continue
                done.add((direction, lane))
                where = 'endPos="%.2f"' % info.lane_length[lane] if direction == "in" else 'pos="0"'
                lines.append('    <laneAreaDetector id=%s lane=%s %s length="%.2f" friendlyPos="true" period="86400" '
                             'file="NUL"/>' % (quoteattr(_detector_id(direction, lane)), quoteattr(lane), where,
                                               MAX_PRESSURE_DETECTOR_M))
    lines.append("</additional>")
    Path(path).write_text("\n".join(lines) + "\n")


class MaxPressure:
    """Max-pressure control of one traffic light through setRedYellowGreenState."""

    def __init__(self, info: TlsInfo, min_green_s: float = MAX_PRESSURE_MIN_GREEN_S,
                 interval_s: float = MAX_PRESSURE_INTERVAL_S) -> None:
        self.tls_id = info.tls_id
        phases = [p for p in info.phases if is_green_phase(p[1])]
        self.greens = [p[1] for p in phases]
        if not self.greens:
            raise ValueError("traffic light %r has no green phase to serve" % info.tls_id)
        # the program's maxDur where it has a range, else the sumo-actuated default
        self.max_green_s = [max_dur if 0 < min_dur < max_dur else ACTUATED_MAX_DUR_S
                            for _, _, min_dur, max_dur in phases]
        yellows = [p[0] for p in info.phases if "y" in p[1] or "Y" in p[1]]
        reds = [p[0] for p in info.phases if not any(c in p[1] for c in "GgyYu")]
        self.yellow_s = yellows[0] if yellows else DEFAULT_YELLOW_S
        self.all_red_s = max(reds) if reds else 0.0
        self.min_green_s = min_green_s
        self.interval_s = interval_s
        # movements (incoming E2, outgoing E2) served by each green phase, each once
        self.movements = []
        for state in self.greens:
            moves = {(_detector_id("in", info.links[i][0]), _detector_id("out", info.links[i][1]))
                     for i, c in enumerate(state) if c in "Gg" and info.links[i]}
            self.movements.append(sorted(moves, key=str))
        self.current = 0
        self.target = 0
        self.mode = "green"
        self.mode_until = 0.0
        self.next_decision = 0.0
        self.green_since = 0.0

    def _counts(self, conn: Any) -> Any:
        counts: dict[str, int] = {}

        def n(det: str | None) -> int:
            if det is None:
                return 0
            if det not in counts:
                counts[det] = conn.lanearea.getLastStepVehicleNumber(det)
            return counts[det]

        return n

    def pressures(self, conn: Any) -> list[int]:
        """Pressure of every green phase from the current E2 vehicle counts."""
        return self._pressures(self._counts(conn))

    def _pressures(self, n: Any) -> list[int]:
        return [sum(n(a) - n(b) for a, b in moves) for moves in self.movements]

    def _choose(self, conn: Any, now_s: float) -> int:
        """The green phase to serve next: the largest pressure (the current one on a tie); once the
        current green has run its maximum, the largest pressure among the others with a vehicle waiting."""
        n = self._counts(conn)
        p = self._pressures(n)
        if now_s - self.green_since >= self.max_green_s[self.current]:
            waiting = [k for k, moves in enumerate(self.movements)
                       if k != self.current and any(n(a) > 0 for a, _ in moves)]
            if waiting:
                return max(waiting, key=lambda k: p[k])
        return max(range(len(p)), key=lambda k: (p[k], k == self.current))

    def _transition(self, keep_yellow: bool) -> str:
        cur, nxt = self.greens[self.current], self.greens[self.target]
        out = []
        for c, d in zip(cur, nxt):
            if c in "Gg" and d in "Gg":
                out.append(c)
            elif c in "Gg" and keep_yellow:
                out.append("y")
            else:
                out.append("r")
        return "".join(out)

    def start(self, conn: Any, now_s: float) -> None:
        conn.trafficlight.setRedYellowGreenState(self.tls_id, self.greens[0])
        self.next_decision = now_s + self.min_green_s
        self.green_since = now_s

    def step(self, conn: Any, now_s: float) -> None:
        """Advance to simulation time now_s (called once per SUMO step)."""
        if self.mode == "green":
            if now_s < self.next_decision:
                return
            self.next_decision = now_s + self.interval_s
            best = self._choose(conn, now_s)
            if best == self.current:
                return
            self.target = best
            self.mode, self.mode_until = "yellow", now_s + self.yellow_s
            conn.trafficlight.setRedYellowGreenState(self.tls_id, self._transition(True))
        elif now_s >= self.mode_until:
            if self.mode == "yellow" and self.all_red_s > 0:
                self.mode, self.mode_until = "red", now_s + self.all_red_s
                conn.trafficlight.setRedYellowGreenState(self.tls_id, self._transition(False))
                return
            self.current = self.target
            self.mode = "green"
            self.next_decision = now_s + self.min_green_s
            self.green_since = now_s
            conn.trafficlight.setRedYellowGreenState(self.tls_id, self.greens[self.current])
