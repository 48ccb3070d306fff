# The intersection model: signal groups, conflicts with intergreens, stages,
# sequence, detectors and plans, as flat arrays indexed by number. Runs on the
# board. Built once from a config dict that config_validation accepted; the
# tick path reads these arrays and never the dict. Units: ms, metres.
from array import array

from controller.config_schema import (
    DIAGNOSTICS,
    OCCUPANCY_WINDOW,
    PEDESTRIAN_TIMING,
    STARTUP_FLASH,
    VEHICLE_TIMING,
)

RECALL_NONE = 0
RECALL_MIN = 1
RECALL_MAX = 2
RECALL_PED = 3
RECALL_CODES = {"none": RECALL_NONE, "min": RECALL_MIN, "max": RECALL_MAX, "ped": RECALL_PED}

DETECTOR_STOP_BAR = 0
DETECTOR_ADVANCE = 1
DETECTOR_PEDESTRIAN = 2
DETECTOR_KIND_CODES = {"stop_bar": DETECTOR_STOP_BAR, "advance": DETECTOR_ADVANCE, "pedestrian": DETECTOR_PEDESTRIAN}

NO_CONFLICT = -1


def _get(d, name, spec):
    v = d.get(name)
    return spec[0] if v is None else v


class Intersection:
    def __init__(self, raw):
        self.raw = raw
        self.id = raw["id"]
        self.name = raw.get("name", self.id)
        self.strategy = raw.get("strategy", "actuated")
        self.flash_red = raw.get("flash_mode", "yellow") == "red"
        self.startup_flash_ms = _get(raw, "startup_flash_ms", STARTUP_FLASH)

        groups = raw["signal_groups"]
        n = len(groups)
        self.n_groups = n
        self.group_ids = [g["id"] for g in groups]
        self.is_pedestrian = bytearray(n)
        self.min_green_ms = array("i", [0] * n)  # walk_ms for pedestrians
        self.max_green_ms = array("i", [0] * n)
        self.passage_ms = array("i", [0] * n)
        self.clearance_ms = array("i", [0] * n)  # yellow_ms or ped_clearance_ms
        self.red_clearance_ms = array("i", [0] * n)
        self.recall = bytearray(n)
        self.max_wait_ms = array("i", [0] * n)  # 0 = strategy default
        for i, g in enumerate(groups):
            if g.get("kind", "vehicle") == "pedestrian":
                self.is_pedestrian[i] = 1
                self.min_green_ms[i] = _get(g, "walk_ms", PEDESTRIAN_TIMING["walk_ms"])
                self.max_green_ms[i] = _get(g, "max_green_ms", PEDESTRIAN_TIMING["max_green_ms"])
                self.clearance_ms[i] = g["ped_clearance_ms"]
                self.red_clearance_ms[i] = _get(g, "red_clearance_ms", PEDESTRIAN_TIMING["red_clearance_ms"])
            else:
                self.min_green_ms[i] = _get(g, "min_green_ms", VEHICLE_TIMING["min_green_ms"])
                self.max_green_ms[i] = _get(g, "max_green_ms", VEHICLE_TIMING["max_green_ms"])
                self.passage_ms[i] = _get(g, "passage_ms", VEHICLE_TIMING["passage_ms"])
                self.clearance_ms[i] = _get(g, "yellow_ms", VEHICLE_TIMING["yellow_ms"])
                self.red_clearance_ms[i] = _get(g, "red_clearance_ms", VEHICLE_TIMING["red_clearance_ms"])
            self.recall[i] = RECALL_CODES[g.get("recall", "none")]
            self.max_wait_ms[i] = g.get("max_wait_ms", 0)

        # intergreen[a * n + b]: ms from end of green of a to start of green of b
        self.intergreen_ms = array("i", [NO_CONFLICT] * (n * n))
        index = {}
        for i, gid in enumerate(self.group_ids):
            index[gid] = i
        self.group_index = index
        for a, row in raw.get("intergreen_ms", {}).items():
            for b, v in row.items():
                self.intergreen_ms[index[a] * n + index[b]] = v
        # conflicting groups of each group, for short loops in the kernel
        self.conflicts = []
        for a in range(n):
            row = []
            for b in range(n):
                if self.intergreen_ms[a * n + b] >= 0 or self.intergreen_ms[b * n + a] >= 0:
                    row.append(b)
            self.conflicts.append(tuple(row))
        # startup all-red: the longest intergreen, and never less than any
        # group's own clearance + red clearance (a junction without conflicts)
        self.startup_all_red_ms = 0
        for v in self.intergreen_ms:
            if v > self.startup_all_red_ms:
                self.startup_all_red_ms = v
        for g in range(n):
            v = self.clearance_ms[g] + self.red_clearance_ms[g]
            if v > self.startup_all_red_ms:
                self.startup_all_red_ms = v

        stages = raw["stages"]
        self.n_stages = len(stages)
        self.stage_ids = [s["id"] for s in stages]
        self.stage_groups = []
        self.stage_mask = []  # bytearray per stage: 1 where the group belongs
        # stage_permissive[s][g] = 1: the stage shows g green permissive (yielding to a
        # conflicting movement of the same stage); None when no stage has one
        self.stage_permissive = None
        for i, s in enumerate(stages):
            members = tuple(index[x] for x in s["groups"])
            mask = bytearray(n)
            for g in members:
                mask[g] = 1
            self.stage_groups.append(members)
            self.stage_mask.append(mask)
            if s.get("permissive"):
                if self.stage_permissive is None:
                    self.stage_permissive = [bytearray(n) for _ in stages]
                for x in s["permissive"]:
                    self.stage_permissive[i][index[x]] = 1
        seq = raw.get("sequence", {})
        self.free_sequence = seq.get("mode", "fixed") == "free"
        order = seq.get("order", self.stage_ids)
        self.sequence = bytearray(self.stage_ids.index(x) for x in order)
        # position of each stage in the sequence
        self.sequence_position = bytearray(self.n_stages)
        for pos, s in enumerate(self.sequence):
            self.sequence_position[s] = pos

        dets = raw.get("detectors", [])
        m = len(dets)
        self.n_detectors = m
        self.detector_ids = [d["id"] for d in dets]
        self.detector_group = bytearray(m)
        self.detector_kind = bytearray(m)
        self.detector_distance_m = array("H", [0] * m)
        self.detector_extend = bytearray(m)
        self.detector_call = bytearray(m)
        self.detector_fault_recall = bytearray(m)
        self.no_activity_ms = array("i", [0] * m)
        self.max_presence_ms = array("i", [0] * m)
        self.erratic_counts_per_min = array("H", [0] * m)
        diag = raw.get("detector_diagnostics", {})
        self.occupancy_window_ms = _get(diag, "occupancy_window_ms", OCCUPANCY_WINDOW)
        for i, d in enumerate(dets):
            kind = DETECTOR_KIND_CODES[d.get("kind", "stop_bar")]
            self.detector_group[i] = index[d["group"]]
            self.detector_kind[i] = kind
            self.detector_distance_m[i] = d.get("distance_m", 0)
            self.detector_extend[i] = 1 if d.get("extend", True) else 0
            self.detector_call[i] = 1 if d.get("call", True) else 0
            default_recall = "ped" if kind == DETECTOR_PEDESTRIAN else "max"
            self.detector_fault_recall[i] = RECALL_CODES[d.get("fault_recall", default_recall)]
            self.no_activity_ms[i] = d.get("no_activity_ms", _get(diag, "no_activity_ms", DIAGNOSTICS["no_activity_ms"]))
            self.max_presence_ms[i] = d.get("max_presence_ms", _get(diag, "max_presence_ms", DIAGNOSTICS["max_presence_ms"]))
            self.erratic_counts_per_min[i] = d.get(
                "erratic_counts_per_min", _get(diag, "erratic_counts_per_min", DIAGNOSTICS["erratic_counts_per_min"]))
        self.group_detectors = []
        for g in range(n):
            self.group_detectors.append(tuple(i for i in range(m) if self.detector_group[i] == g))

        ft = raw.get("fixed_time")
        self.cycle_ms = 0
        self.offset_ms = 0
        self.split_ms = array("i", [0] * self.n_stages)
        if ft:
            self.cycle_ms = ft["cycle_ms"]
            self.offset_ms = ft.get("offset_ms", 0)
            for sid, v in ft["splits_ms"].items():
                self.split_ms[self.stage_ids.index(sid)] = v

    def intergreen(self, a, b):
        return self.intergreen_ms[a * self.n_groups + b]

    def transition_ms(self, s_from, s_to):
        # Longest intergreen from a group leaving with s_from to a group entering with s_to.
        leave = self.stage_mask[s_from]
        enter = self.stage_mask[s_to]
        worst = 0
        for a in self.stage_groups[s_from]:
            if enter[a]:
                continue
            for b in self.stage_groups[s_to]:
                if leave[b]:
                    continue
                v = self.intergreen(a, b)
                if v > worst:
                    worst = v
        return worst

    def stage_min_green_ms(self, s):
        worst = 0
        for g in self.stage_groups[s]:
            if self.min_green_ms[g] > worst:
                worst = self.min_green_ms[g]
        return worst
