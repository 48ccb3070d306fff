# Green used per signal group (SCATS-style degree of saturation) from the
# counting loops: gaps longer than the space a vehicle needs count as unused.
from controller.config.loading import load_dict
from controller.detection.green_usage import GreenUsage
from controller.safety.signal_states import GREEN, RED
from tests.controller.core_support import two_group_raw


class _Loops:
    def __init__(self, n):
        self.presence = bytearray(n)


def _usage():
    ix = load_dict(two_group_raw())
    det = _Loops(2)
    return det, GreenUsage(ix, det, [(0,), (1,)], space_ms=1500)


def test_a_queue_that_keeps_the_loop_busy_uses_all_its_green():
    det, u = _usage()
    states = bytearray([GREEN, RED])
    for i in range(100):  # 10 s green, a vehicle every 2 s (0.5 s on the loop, 1.5 s gap)
        det.presence[0] = 1 if i % 20 < 5 else 0
        u.update(100, states)
    green, used = u.take(0)
    assert green == 10000 and used == 10000
    assert u.take(1) == (0, 0)  # red all along: no green, none used


def test_gaps_beyond_the_space_of_a_vehicle_are_unused_green():
    det, u = _usage()
    states = bytearray([GREEN, RED])
    for i in range(100):  # 10 s green, three vehicles then 5.5 s without one
        det.presence[0] = 1 if i < 60 and i % 20 < 5 else 0
        u.update(100, states)
    green, used = u.take(0)
    assert green == 10000 and used == 10000 - (5500 - 1500)
    # the next period starts empty
    assert u.take(0) == (0, 0)


def test_the_gap_open_when_green_ends_counts_at_the_end_of_green():
    det, u = _usage()
    states = bytearray([GREEN, RED])
    det.presence[0] = 1
    for _ in range(10):
        u.update(100, states)
    det.presence[0] = 0
    for _ in range(40):
        u.update(100, states)  # 4 s free at the end of a 5 s green
    states[0] = RED
    for _ in range(30):
        u.update(100, states)
    assert u.take(0) == (5000, 5000 - (4000 - 1500))
