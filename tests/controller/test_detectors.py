# Detector processing and diagnostics: counts, occupancy, headway, faults, recall on failure.
from controller.events import codes as ev
from controller.detection.diagnostics import FAULT_ERRATIC, FAULT_MAX_PRESENCE, FAULT_NO_ACTIVITY, FAULT_NONE
from controller.horizon import diagnostics_horizon_ms
from controller.intersection import RECALL_MAX
from tests.controller.core_support import Recorder, controller, two_group_raw


def _raw(**diag):
    raw = two_group_raw()
    d = {"no_activity_ms": 0, "max_presence_ms": 0, "erratic_counts_per_min": 0, "occupancy_window_ms": 10000}
    for k in diag:
        d[k] = diag[k]
    raw["detector_diagnostics"] = d
    return raw


def test_counts_occupancy_and_headway():
    ctl = controller(_raw())

    def pulses(t, pres):
        # a 500 ms vehicle every 2000 ms on dA, arriving at 1000, 3000, ... 9000 ms
        pres[0] = 1 if 1000 <= t % 2000 < 1500 else 0

    Recorder(ctl).run(10000, pulses)
    det = ctl.detectors
    assert det.count[0] == 5
    assert det.flow_count[0] == 5
    assert det.occupancy_permille[0] == 250
    assert det.headway_ms[0] == 2000
    assert det.count[1] == 0


def test_stuck_on_detector_faults_puts_group_on_max_recall_and_restores():
    ctl = controller(_raw(max_presence_ms=20000))

    def stuck(t, pres):
        pres[1] = 1 if t < 60000 else 0

    rec = Recorder(ctl).run(30000, stuck)
    assert ctl.diagnostics.fault[1] == FAULT_MAX_PRESENCE
    assert ctl.demand.recall[1] == RECALL_MAX
    rec.run(40000, stuck)
    assert ctl.diagnostics.fault[1] == FAULT_NONE
    codes = [c for _, c, p in ctl.drain_events() if p == 2]
    assert ev.DETECTOR_FAULT_MAX_PRESENCE in codes and ev.DETECTOR_RESTORED in codes


def test_no_activity_fault_and_restore_on_actuation():
    ctl = controller(_raw(no_activity_ms=120000))

    def late(t, pres):
        pres[0] = 1 if 200000 <= t < 200500 else 0

    rec = Recorder(ctl).run(150000, late)
    assert ctl.diagnostics.fault[0] == FAULT_NO_ACTIVITY
    rec.run(60000, late)
    assert ctl.diagnostics.fault[0] == FAULT_NONE


def test_a_faulted_loop_lets_the_checks_skip_until_a_loop_changes():
    # both loops fail for want of activity; with nothing changing, the
    # once-a-second checks have nothing to find (a faulted loop comes back
    # only with an edge or a minute's close), so the diagnostics' horizon
    # reaches past them to the minute's end; an actuation still restores dA
    ctl = controller(_raw(no_activity_ms=120000))

    def late(t, pres):
        pres[0] = 1 if 200000 <= t < 200500 else 0

    rec = Recorder(ctl).run(150000, late)
    diag = ctl.diagnostics
    assert diag.fault[0] == FAULT_NO_ACTIVITY and diag.fault[1] == FAULT_NO_ACTIVITY
    assert diagnostics_horizon_ms(diag) == 60000 - diag.minute_ms - 1
    rec.run(51000, late)
    assert diag.fault[0] == FAULT_NONE and diag.fault[1] == FAULT_NO_ACTIVITY


def test_erratic_counts_fault():
    ctl = controller(_raw(erratic_counts_per_min=30))

    def chatter(t, pres):
        pres[0] = 1 if t % 400 < 200 else 0  # 150 counts per minute

    Recorder(ctl).run(30000, chatter)
    assert ctl.diagnostics.fault[0] == FAULT_ERRATIC


def test_failed_detector_still_serves_its_group():
    # dB stuck off (no activity): group B must still get green through the fault recall
    ctl = controller(_raw(no_activity_ms=60000))

    def only_a(t, pres):
        pres[0] = 1 if t % 3000 < 600 else 0
        pres[1] = 0

    rec = Recorder(ctl).run(400000, only_a)
    greens_b = [t for t, s in rec.changes(1) if s == "G"]
    assert ctl.diagnostics.fault[1] == FAULT_NO_ACTIVITY
    assert len([t for t in greens_b if t > 60000]) >= 3


def test_ages_saturate_over_days_and_never_wrap():
    # Four days without a vehicle, in 60 s ticks: the stamp clocks wrap after
    # 6.2 days and ages must saturate at AGE_MAX_MS (3.1 days), never look new.
    from controller.timing import AGE_MAX_MS, CLAMP_EVERY_MS

    ctl = controller(_raw(no_activity_ms=0))
    pres = bytearray(2)
    for _ in range(4 * 24 * 60):
        ctl.step(60000, pres)
    det = ctl.detectors
    assert det.since_on_ms(0) == AGE_MAX_MS and det.off_ms(0) == AGE_MAX_MS
    assert not ctl.flashing
    for _ in range(3 * 24 * 60):  # past the clock's wrap
        ctl.step(60000, pres)
    assert det.since_on_ms(1) == AGE_MAX_MS
    pres[1] = 1
    ctl.step(100, pres)
    # saturated, give or take the clamp's period (CLAMP_EVERY_MS, a minute)
    assert AGE_MAX_MS <= det.headway_ms[1] <= AGE_MAX_MS + CLAMP_EVERY_MS and det.since_on_ms(1) == 0
    assert not ctl.flashing
