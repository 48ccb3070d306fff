# The priority classes of a config and the loops that call them, as flat
# arrays by number. Runs on the board; built once from the filled-in config
# (config/priority_schema.py wrote every default out). Units: ms.
#
# Rank: the kind's band (railroad 3 > emergency 2 > transit 1) times 100
# plus the class's own "rank" (0..99) within the band.
from array import array

from controller.compat import const

KIND_TRANSIT = const(1)
KIND_EMERGENCY = const(2)
KIND_RAILROAD = const(3)
KIND_CODES = {"transit": KIND_TRANSIT, "emergency": KIND_EMERGENCY, "railroad": KIND_RAILROAD}
NO_CLASS = const(255)
NO_STAGE = const(-1)


class PriorityClasses:
    def __init__(self, ix, block):
        classes = block["classes"]
        k = len(classes)
        self.n = k
        self.ids = [c["id"] for c in classes]
        stage_ids = ix.stage_ids
        self.kind = bytearray(k)
        self.rank = array("i", [0] * k)
        self.stage = array("i", [0] * k)
        self.request_timeout_ms = array("i", [0] * k)
        # preemption
        self.preempt_min_green_ms = array("i", [0] * k)
        self.max_dwell_ms = array("i", [0] * k)  # 0: no limit
        self.exit_stage = array("i", [NO_STAGE] * k)
        self.track_stage = array("i", [NO_STAGE] * k)
        self.track_clearance_ms = array("i", [0] * k)
        # transit
        self.max_extension_ms = array("i", [0] * k)
        self.max_early_ms = array("i", [0] * k)
        self.max_per_cycle_ms = array("i", [0] * k)
        self.window_ms = array("i", [0] * k)
        for i, c in enumerate(classes):
            kind = KIND_CODES[c["kind"]]
            self.kind[i] = kind
            self.rank[i] = kind * 100 + c["rank"]
            self.stage[i] = stage_ids.index(c["stage"])
            self.request_timeout_ms[i] = c["request_timeout_ms"]
            if kind == KIND_TRANSIT:
                self.max_extension_ms[i] = c["max_extension_ms"]
                self.max_early_ms[i] = c["max_early_ms"]
                self.max_per_cycle_ms[i] = c["max_per_cycle_ms"]
                self.window_ms[i] = c["window_ms"]
                continue
            self.preempt_min_green_ms[i] = c["preempt_min_green_ms"]
            self.max_dwell_ms[i] = c["max_dwell_ms"]
            if c["exit_stage"] is not None:
                self.exit_stage[i] = stage_ids.index(c["exit_stage"])
            if kind == KIND_RAILROAD and c["track_clearance_stage"] is not None:
                self.track_stage[i] = stage_ids.index(c["track_clearance_stage"])
                self.track_clearance_ms[i] = c["track_clearance_ms"]
        # loops: the class each check-in / check-out loop calls (NO_CLASS:
        # not a priority loop), 1 for a check-in, and the stage a check-in asks for
        m = ix.n_detectors
        self.detector_class = bytearray([NO_CLASS] * m)
        self.detector_checks_in = bytearray(m)
        self.detector_stage = array("i", [NO_STAGE] * m)
        for d, det in enumerate(ix.raw["detectors"]):
            kind = det["kind"]
            if kind != "check_in" and kind != "check_out":
                continue
            c = self.ids.index(det["priority_class"])
            self.detector_class[d] = c
            if kind == "check_in":
                self.detector_checks_in[d] = 1
                st = det.get("stage")
                self.detector_stage[d] = stage_ids.index(st) if st is not None else self.stage[c]
        self.loops = tuple(d for d in range(m) if self.detector_class[d] != NO_CLASS)

    def index(self, class_id):
        # the number of a class by its id (-1: unknown); not on the tick path
        return self.ids.index(class_id) if class_id in self.ids else -1
