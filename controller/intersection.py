# The intersection model: signal groups, conflicts with intergreens, stages,
# sequence, detectors and plans, as flat arrays indexed by number. Runs on the
# board. Built once from a config dict that config/validation.py accepted and
# config/defaults.py filled in (every optional field written out: this module
# knows no defaults); the tick path reads these arrays and never the dict.
# Units: ms, metres.
#
# Besides the config's own tables it derives, for every change of stage that
# would otherwise be a yellow trap (a group that yields to another ending
# while that one stays green into the next stage), the groups that must end
# with it and come back (restarts).
from array import array

from controller.compat import const

RECALL_NONE = const(0)
RECALL_MIN = const(1)
RECALL_MAX = const(2)
RECALL_PED = const(3)
RECALL_CODES = {"none": RECALL_NONE, "min": RECALL_MIN, "max": RECALL_MAX, "ped": RECALL_PED}

DETECTOR_STOP_BAR = const(0)
DETECTOR_ADVANCE = const(1)
DETECTOR_PEDESTRIAN = const(2)
DETECTOR_EXIT = const(3)
# check_in / check_out (4, 5): priority loops (controller/priority/classes.py); they belong to no group
DETECTOR_KIND_CODES = {"stop_bar": DETECTOR_STOP_BAR, "advance": DETECTOR_ADVANCE, "pedestrian": DETECTOR_PEDESTRIAN,
                       "exit": DETECTOR_EXIT, "check_in": 4, "check_out": 5}
NO_GROUP = const(255)  # detector_group of an exit loop: it belongs to no group

NO_CONFLICT = const(-1)


class Intersection:
    def __init__(self, raw):
        # raw: a config that config/validation.py accepted and config/defaults.py filled in
        self.raw = raw
        self.id = raw["id"]
        self.name = raw.get("name", self.id)
        self.strategy = raw["strategy"]
        self.flash_red = raw["flash_mode"] == "red"
        self.startup_flash_ms = raw["startup_flash_ms"]
        self._read_groups(raw)
        self._read_conflicts(raw)
        self._read_stages(raw)
        self._read_detectors(raw)
        self._read_fixed_time(raw)
        self._restart_table()

    def _read_groups(self, raw):
        # signal groups: their timing and recall, by number
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
        self.red_revert_ms = array("i", [0] * n)  # least red after its own clearance before green again
        # red-amber before green, and at n + g the flashing green before yellow
        # (0: none; the profile's sequence); one array, for a small heap's sake
        self.red_amber_ms = array("i", [0] * (2 * n))
        self.recall = bytearray(n)
        self.max_wait_ms = array("i", [0] * n)  # 0 = strategy default
        for i, g in enumerate(groups):
            if g["kind"] == "pedestrian":
                self.is_pedestrian[i] = 1
                self.min_green_ms[i] = g["walk_ms"]
                self.clearance_ms[i] = g["ped_clearance_ms"]
            else:
                self.min_green_ms[i] = g["min_green_ms"]
                self.passage_ms[i] = g["passage_ms"]
                self.clearance_ms[i] = g["yellow_ms"]
            self.max_green_ms[i] = g["max_green_ms"]
            self.red_clearance_ms[i] = g["red_clearance_ms"]
            self.red_revert_ms[i] = g["red_revert_ms"]
            self.red_amber_ms[i] = g.get("red_amber_ms", 0)
            self.red_amber_ms[n + i] = g.get("flashing_green_ms", 0)
            self.recall[i] = RECALL_CODES[g["recall"]]
            self.max_wait_ms[i] = g.get("max_wait_ms", 0)

    def _read_conflicts(self, raw):
        # which groups conflict (with their intergreens) or yield to each
        # other, and the startup all-red that clears them all
        n = self.n_groups
        groups = raw["signal_groups"]
        # intergreen[a * n + b]: ms from end of green of a to start of green of b
        self.intergreen_ms = array("i", [NO_CONFLICT] * (n * n))
        index = {}
        for i, gid in enumerate(self.group_ids):
            index[gid] = i
        self.group_index = index
        for a, row in raw["intergreen_ms"].items():
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
        # yields_to[g]: the groups g gives way to when both are green (a permissive
        # turn and the opposing through); partners[g]: g's pairs of that kind in
        # either direction, the groups it may show green beside but never a
        # clearance beside
        self.yields_to = []
        for g in groups:
            self.yields_to.append(tuple(index[x] for x in g["yields_to"]))
        self.partners = []
        for a in range(n):
            row = list(self.yields_to[a])
            for b in range(n):
                if a in self.yields_to[b] and b not in row:
                    row.append(b)
            self.partners.append(tuple(row))
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

    def _read_stages(self, raw):
        # stages (the groups green together, the permissive ones) and their sequence
        n = self.n_groups
        index = self.group_index
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
            if s["permissive"]:
                if self.stage_permissive is None:
                    self.stage_permissive = [bytearray(n) for _ in stages]
                for x in s["permissive"]:
                    self.stage_permissive[i][index[x]] = 1
        seq = raw["sequence"]
        self.free_sequence = seq["mode"] == "free"
        order = seq["order"]
        self.sequence = bytearray(self.stage_ids.index(x) for x in order)
        # position of each stage in the sequence
        self.sequence_position = bytearray(self.n_stages)
        for pos, s in enumerate(self.sequence):
            self.sequence_position[s] = pos

    def _read_detectors(self, raw):
        # detectors: group, kind, distance, extend, call, fault recall and
        # diagnostic thresholds, by number
        n = self.n_groups
        index = self.group_index
        dets = raw["detectors"]
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
        diag = raw["detector_diagnostics"]  # thresholds of detectors that set none of their own
        self.occupancy_window_ms = diag["occupancy_window_ms"]
        for i, d in enumerate(dets):
            self.detector_group[i] = index[d["group"]] if "group" in d else NO_GROUP  # exit, check-in/out: none
            self.detector_kind[i] = DETECTOR_KIND_CODES[d["kind"]]
            self.detector_distance_m[i] = d["distance_m"]
            self.detector_extend[i] = 1 if d["extend"] else 0
            self.detector_call[i] = 1 if d["call"] else 0
            self.detector_fault_recall[i] = RECALL_CODES[d["fault_recall"]]
            self.no_activity_ms[i] = d.get("no_activity_ms", diag["no_activity_ms"])
            self.max_presence_ms[i] = d.get("max_presence_ms", diag["max_presence_ms"])
            self.erratic_counts_per_min[i] = d.get("erratic_counts_per_min", diag["erratic_counts_per_min"])
        self.group_detectors = []
        for g in range(n):
            self.group_detectors.append(tuple(i for i in range(m) if self.detector_group[i] == g))
        # the exit loops each loop's lane leads onto (None: no loop names any)
        self.detector_exits = None
        if any("exits" in d for d in dets):
            self.detector_exits = [tuple(self.detector_ids.index(x) for x in d.get("exits", ())) for d in dets]

    def _read_fixed_time(self, raw):
        # the fixed-time plan, if any (0 ms cycle: none)
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
        # Longest wait from the end of the greens leaving with s_from to the
        # start of the greens entering with s_to: the intergreen between
        # conflicting groups, a yielding pair's clearance and red clearance,
        # and for a group that restarts (rule 5) its clearance and red revert;
        # then the entering group's red-amber (kernel rule 11), if any: inside
        # the intergreen of a conflicting pair, but after the red clearance;
        # and before it all the leaving group's flashing green, if any.
        restarts = self.restarting(s_from, s_to)
        leave = [a for a in self.stage_groups[s_from] if not self.stage_mask[s_to][a]] + list(restarts)
        enter = [b for b in self.stage_groups[s_to] if not self.stage_mask[s_from][b]] + list(restarts)
        worst = 0
        for a in leave:
            for b in enter:
                if a == b:
                    v = self.clearance_ms[a] + self.red_revert_ms[a]
                elif b in self.partners[a]:
                    v = self.clearance_ms[a] + self.red_clearance_ms[a]
                else:
                    v = self.intergreen(a, b)
                    if self.red_amber_ms[b] and b in self.conflicts[a]:
                        # red-amber inside the intergreen, after a's red clearance
                        v -= self.red_amber_ms[b]
                        if v < self.clearance_ms[a] + self.red_clearance_ms[a]:
                            v = self.clearance_ms[a] + self.red_clearance_ms[a]
                v += self.red_amber_ms[b] + self.red_amber_ms[self.n_groups + a]  # a's flashing green ends its green
                if v > worst:
                    worst = v
        return worst

    def split_minimum_ms(self, s, nxt):
        # Shortest split stage s can run before stage nxt: its longest min
        # green (walk) plus the transition to nxt. Fixed-time plans and
        # coordination plans both keep it.
        return self.stage_min_green_ms(s) + self.transition_ms(s, nxt)

    def fixed_time_errors(self):
        # The fixed-time plan against the model: every split at least its
        # minimum, the splits adding up to the cycle ([] when sound, or no plan).
        # Its fields were checked before the model was built (config/validation.py).
        errors = []
        if not self.cycle_ms:
            return errors
        k = len(self.sequence)
        total = 0
        for p in range(k):
            s = self.sequence[p]
            nxt = self.sequence[(p + 1) % k]
            v = self.split_ms[s]
            total += v
            need = self.split_minimum_ms(s, nxt)
            if v < need:
                errors.append("fixed_time: splits_ms %s=%d is below the %d ms minimum (min green %d ms + transition "
                              "to %s %d ms)" % (self.stage_ids[s], v, need, self.stage_min_green_ms(s),
                                                self.stage_ids[nxt], self.transition_ms(s, nxt)))
        if total != self.cycle_ms:
            errors.append("fixed_time: splits_ms add up to %d ms but cycle_ms=%d; they must be equal" % (
                total, self.cycle_ms))
        return errors

    def stage_min_green_ms(self, s):
        worst = 0
        for g in self.stage_groups[s]:
            if self.min_green_ms[g] > worst:
                worst = self.min_green_ms[g]
        return worst

    def _restart_closure(self, s_from, s_to):
        # Groups green in both stages that must still end on the way from
        # s_from to s_to (rule 5): a group the change ends yields to them, so
        # they end together with it, show their clearance and red revert, and
        # come back. Closed over yields_to: what ends is never left beside a
        # group it yields to that stays green.
        leave = self.stage_mask[s_from]
        enter = self.stage_mask[s_to]
        ending = [g for g in self.stage_groups[s_from] if not enter[g]]
        out = []
        k = 0
        while k < len(ending):
            for c in self.yields_to[ending[k]]:
                if leave[c] and enter[c] and c not in out:
                    out.append(c)
                    ending.append(c)
            k += 1
        return tuple(out)

    def _restart_table(self):
        # restarts[a * n_stages + b]: _restart_closure(a, b), () for most pairs;
        # None when no group yields to another (most hand-written configs)
        self.restarts = None
        for ys in self.yields_to:
            if ys:
                break
        else:
            return
        k = self.n_stages
        none = ()
        self.restarts = [none] * (k * k)
        for a in range(k):
            for b in range(k):
                if a != b:
                    r = self._restart_closure(a, b)
                    if r:
                        self.restarts[a * k + b] = r

    def restarting(self, s_from, s_to):
        # the groups that end and come back on the way from s_from to s_to (rule 5)
        if self.restarts is None:
            return ()
        return self.restarts[s_from * self.n_stages + s_to]
