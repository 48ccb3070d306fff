"""Poisoned reports for fault injection: what a broken or hostile controller could publish. Host only.

``sim run --coordinated --poison-reports ID`` (ampelwerk/sim_coordination.py) has controller ID publish
one of these on its own report topic every simulated second, next to its real reports, over the same
transport and, with a broker, with its own credentials (the topic ACL allows it). Each one must be
refused as a whole by the coordinator (none of its counts
reach the flows) and counted for ID, while every controller keeps getting plans
(docs/coordination.md, "Threat model"). The first four are the reports of issue 14 that stopped every
plan on every corridor.
"""

from __future__ import annotations

import json

from controller.coordination.messages import MODE_FREE, Report, encode_report

BIG = 10 ** 400
KINDS = ("counts 10**400", "period_ms 10**400", "loop_counts 10**400", "groups [[1]]", "counts NaN",
         "counts negative", "seq 2**64", "group it does not have", "another controller's name", "not JSON",
         "nested 5000 deep", "empty")


class PoisonedReports:
    """The poisoned reports of one controller, in turn: payload(k, wall_ms) is the k-th one sent."""

    def __init__(self, controller_id: str, group_ids: list[str], other_id: str) -> None:
        self.controller_id = controller_id
        self.group_ids = list(group_ids)
        self.other_id = other_id  # another controller's id, for the misaddressed one

    def payload(self, k: int, wall_ms: int) -> tuple[str, bytes]:
        """(kind, payload) of the k-th poisoned report, stamped with the current time and a seq of its own."""
        kind = KINDS[k % len(KINDS)]
        if kind == "not JSON":
            return kind, b"\xff\xfe{counts"
        if kind == "nested 5000 deep":
            return kind, b"[" * 5000
        if kind == "empty":
            return kind, b""
        g = self.group_ids
        n = len(g)
        d = json.loads(encode_report(Report(self.controller_id, 1000000 + k, wall_ms, 60000, MODE_FREE, 0, g, [1] * n,
                                            [0] * n, [], [1000] * n, [500] * n, [[1]] * n)))
        d.update({
            "counts 10**400": {"counts": [BIG] + [1] * (n - 1)},
            "period_ms 10**400": {"period_ms": BIG},
            "loop_counts 10**400": {"loop_counts": [[BIG]] + [[1]] * (n - 1)},
            "groups [[1]]": {"groups": [[1]] + g[1:]},
            "counts NaN": {"counts": [float("nan")] * n},
            "counts negative": {"counts": [-5] * n},
            "seq 2**64": {"seq": 2 ** 64},
            "group it does not have": {"groups": ["no-such-group"] + g[1:]},
            "another controller's name": {"controller": self.other_id},
        }[kind])
        return kind, json.dumps(d).encode()
