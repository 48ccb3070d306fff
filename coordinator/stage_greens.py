"""Share an intersection's green among stages whose signal groups overlap. Host only.

Units: whole steps (the caller's unit, seconds in cycle_splits.py); flow ratios
are dimensionless (q / saturation flow).

Where a signal group is green in more than one stage (a left turn with its
through movement in one stage and with the opposite left in another, as on the
RESCO grids), summing the stages' flow ratios counts that group once per stage
and starves the stages that serve a group alone. Here the unit is the group:
its green is the sum of the greens of the stages it is in, and its degree of
saturation x_g = y_g / (green_g / cycle). The green above the minimums is
handed out one step at a time to the stage that most lowers the groups'
saturation, compared from the most saturated group down (lexicographically),
among the stages that serve the most saturated group; ties go to the earlier
stage in running order (the coordinated stage first). With one group per stage
this gives each stage a green in proportion to its flow ratio, at least its
minimum: every stage above its minimum at about the same degree of saturation.
"""

from __future__ import annotations


def _saturations(greens: list[int], members: list[list[int]], ratios: list[float]) -> list[float]:
    """Each loaded group's y / green (infinite with no green), highest first."""
    out = []
    for g, y in enumerate(ratios):
        if y <= 0:
            continue
        green = sum(greens[s] for s in members[g])
        out.append(y / green if green > 0 else float("inf"))
    out.sort(reverse=True)
    return out


def share_green(stage_groups: list[list[int]], ratios: list[float], min_steps: list[int],
                total_steps: int) -> list[int] | None:
    """Green steps per stage (running order): at least min_steps each, summing to total_steps.

    ``stage_groups[s]`` lists the group indices green in stage s, ``ratios[g]`` group g's
    flow ratio (0: no demand, the group is left out). None when the minimums do not fit.
    With no loaded group the steps above the minimums go to stage 0.
    """
    greens = list(min_steps)
    extra = total_steps - sum(greens)
    if extra < 0:
        return None
    members: list[list[int]] = [[] for _ in ratios]
    for s, groups in enumerate(stage_groups):
        for g in groups:
            members[g].append(s)
    loaded = [g for g, y in enumerate(ratios) if y > 0 and members[g]]
    if not loaded:
        greens[0] += extra
        return greens
    for _ in range(extra):
        # the most saturated group and the stages that serve it
        worst, worst_x = -1, -1.0
        for g in loaded:
            green = sum(greens[s] for s in members[g])
            x = ratios[g] / green if green > 0 else float("inf")
            if x > worst_x:
                worst, worst_x = g, x
        best_s, best_key = -1, None
        for s in members[worst]:
            greens[s] += 1
            key = _saturations(greens, members, ratios)
            greens[s] -= 1
            if best_key is None or key < best_key:
                best_s, best_key = s, key
        greens[best_s] += 1
    return greens


def critical_flow_ratio(stage_groups: list[list[int]], ratios: list[float], resolution: int = 1000) -> float:
    """The overlapping-stage counterpart of the sum of stage flow ratios (Webster's Y).

    The least share of the cycle's green that serves every group at saturation 1:
    with the green shared by ``share_green`` (no minimums, ``resolution`` steps),
    Y = max over groups of y_g * total / green_g. With one group per stage this is
    the sum of the ratios (up to the resolution).
    """
    if not any(y > 0 for y in ratios):
        return 0.0
    greens = share_green(stage_groups, ratios, [0] * len(stage_groups), resolution)
    assert greens is not None
    members: list[list[int]] = [[] for _ in ratios]
    for s, groups in enumerate(stage_groups):
        for g in groups:
            members[g].append(s)
    worst = 0.0
    for g, y in enumerate(ratios):
        if y <= 0 or not members[g]:
            continue
        green = sum(greens[s] for s in members[g])
        worst = max(worst, y * resolution / green if green > 0 else float("inf"))
    return worst
