# The safety kernel: startup sequence, min green, yellow, intergreen, pedestrians.
from controller.core import Controller
from controller.config.loading import load_dict
from tests.controller.core_support import AlwaysRequest, Alternate, Recorder, controller, example_raw, two_group_raw


def test_startup_flash_then_all_red_for_longest_intergreen_then_first_stage():
    rec = Recorder(controller(two_group_raw(), Alternate())).run(20000)
    ch = rec.changes(0)
    # flash yellow from power-up, red after startup_flash_ms, green after the longest intergreen (7000 ms)
    assert rec.trace[0][1] == "ff"
    assert ch[1] == (2000, "R")
    assert ch[2] == (9000, "G")


def test_min_green_held_even_when_strategy_wants_to_leave_at_once():
    rec = Recorder(controller(two_group_raw(), Alternate())).run(120000)
    assert min(rec.intervals(0, "G")) == 5000
    assert min(rec.intervals(1, "G")) == 6000


def test_yellow_and_intergreen_durations_exact():
    rec = Recorder(controller(two_group_raw(), Alternate())).run(120000)
    assert set(rec.intervals(0, "Y")) == {3000}
    assert set(rec.intervals(1, "Y")) == {4000}
    # B green starts 5000 ms after A's green ended; A green 7000 ms after B's
    a, b = rec.changes(0), rec.changes(1)
    a_end = [t for t, s in a if s == "Y"]
    b_start = [t for t, s in b if s == "G"]
    assert [bs - ae for ae, bs in zip(a_end, b_start)][:3] == [5000, 5000, 5000]


def test_unknown_stage_request_is_refused_and_logged():
    ctl = controller(two_group_raw(), AlwaysRequest(7))
    Recorder(ctl).run(30000)
    assert ctl.kernel.rejected_requests > 0
    assert not ctl.flashing
    assert any(code == 174 for _, code, _ in ctl.drain_events())


def test_pedestrian_walks_only_on_call_and_holds_walk_and_clearance():
    raw = example_raw()
    ctl = controller(raw, Alternate())
    ix = ctl.ix
    p1 = ix.group_ids.index("P1")
    pb1 = ix.detector_ids.index("PB1")

    def press(t, pres):
        pres[pb1] = 1 if 60000 <= t < 60500 else 0

    rec = Recorder(ctl).run(200000, press)
    walks = [t for t, s in rec.changes(p1) if s == "G"]
    assert len(walks) == 1 and walks[0] > 60000  # exactly one walk, after the press
    assert rec.intervals(p1, "G")[0] >= 7000
    assert rec.intervals(p1, "Y")[0] == 10000


def test_bad_elapsed_is_clamped_and_counted():
    ctl = controller(two_group_raw())
    pres = bytearray(2)
    ctl.step(-5, pres)
    ctl.step(10 ** 7, pres)
    assert ctl.bad_steps == 2
    assert not ctl.flashing


def test_same_inputs_give_same_trace():
    def run():
        ctl = Controller(load_dict(example_raw()), "actuated")
        seed = [7]

        def pres_fn(t, pres):
            seed[0] = (seed[0] * 1103515245 + 12345) & 0x7FFFFFFF
            i = seed[0] % 40
            if i < len(pres):
                pres[i] ^= 1

        rec = Recorder(ctl).run(300000, pres_fn)
        return rec.trace, ctl.drain_events()

    assert run() == run()
