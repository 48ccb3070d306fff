"""Detector diagnostics skip their pass over the loops only when no loop can
have failed or recovered since the last pass: a controller whose diagnostics
pass over every loop at every check must give the same faults and events, tick
for tick (hypothesis: random configs; loops that chatter, stick on, go dead and
come back; ticks of 100 ms to a minute)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.config.loading import load_dict
from controller.core import Controller
from controller.detection.diagnostics import FAULT_ERRATIC, FAULT_IDLE, FAULT_MAX_PRESENCE, FAULT_NO_ACTIVITY
from tests.core_config_strategy import configs


class _FullPass:
    """Wraps a DetectorDiagnostics.check so that every check passes over all loops."""

    def __init__(self, diag) -> None:
        self.diag = diag
        self.check = diag.check

    def __call__(self, elapsed_ms: int) -> None:
        self.diag.quiet_ms = 0  # no margin: the pass is never skipped
        self.check(elapsed_ms)


def troubled_stream(n_detectors: int, seed: int, ticks: int) -> list[tuple[int, bytes]]:
    """(elapsed ms, presence) per tick: ordinary traffic, and per loop spells of chatter, stuck on and dead."""
    rnd = random.Random(seed)
    pres = bytearray(n_detectors)
    mode = [0] * n_detectors  # 0 ordinary, 1 chatter, 2 stuck on, 3 dead
    busy = rnd.choice((0.001, 0.01, 0.05))
    out = []
    for _ in range(ticks):
        for i in range(n_detectors):
            if rnd.random() < 0.0005:
                mode[i] = rnd.choice((0, 1, 2, 3))
            m = mode[i]
            if m == 1:
                pres[i] ^= 1
            elif m == 2:
                pres[i] = 1
            elif m == 3:
                pres[i] = 0
            elif rnd.random() < (0.3 if pres[i] else busy):
                pres[i] ^= 1
        r = rnd.random()
        elapsed = 100 if r < 0.97 else 1000 if r < 0.995 else 60000
        out.append((elapsed, bytes(pres)))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=configs(strategies=("actuated", "fixed", "adaptive")), seed=st.integers(0, 2**31))
def test_skipped_passes_find_what_full_passes_find(raw: dict, seed: int) -> None:
    ref = Controller(load_dict(raw))
    ref.diagnostics.check = _FullPass(ref.diagnostics)
    ctl = Controller(load_dict(raw))
    faults_seen = set()
    for elapsed, bits in troubled_stream(ref.ix.n_detectors, seed, 8000):
        ref.step(elapsed, bits)
        ctl.step(elapsed, bits)
        assert ctl.diagnostics.fault == ref.diagnostics.fault
        assert ctl.outputs == ref.outputs
        faults_seen.update(ctl.diagnostics.fault)
    assert ctl.drain_events() == ref.drain_events()
    # the streams do make loops fail, so the comparison covers the fault paths
    assert faults_seen & {FAULT_NO_ACTIVITY, FAULT_IDLE, FAULT_MAX_PRESENCE, FAULT_ERRATIC}
