# Registry of signal-timing strategies by name. Runs on the board.
# Modules are imported only when a strategy is made, so a board carries in RAM
# only the strategy it runs. Every strategy implements the same small interface:
#
#   class Strategy:
#       name = "..."
#       def __init__(self, intersection): ...
#       def start(self, ctl): ...            # kernel entered normal operation
#       def decide(self, ctl, elapsed_ms):   # -> stage index the kernel should serve
#
# `ctl` is the Controller: ctl.kernel (stage, established, group states and
# timers), ctl.detectors, ctl.demand (calls per group). decide() runs every tick
# and must not allocate; it only ever *asks* - the safety kernel decides when.


def make_strategy(name, intersection):
    if name == "fixed":
        from controller.strategies.fixed import FixedTimeStrategy

        return FixedTimeStrategy(intersection)
    if name == "actuated":
        from controller.strategies.actuated import ActuatedStrategy

        return ActuatedStrategy(intersection)
    if name == "adaptive":
        from controller.strategies.adaptive import AdaptiveStrategy

        return AdaptiveStrategy(intersection)
    if name == "coordinated":
        from controller.strategies.coordinated import CoordinatedStrategy

        return CoordinatedStrategy(intersection)
    from controller.config.schema import STRATEGY_NAMES  # (only here: the board drops config/ once loaded)

    raise ValueError("unknown strategy %r (known: %s)" % (name, ", ".join(STRATEGY_NAMES)))


def log_green_end(ctl, stage, next_stage, code):
    # The Indiana event saying why green ends (gap-out, max-out, force-off)
    # for each vehicle group of `stage` that does not stay green in `next_stage`.
    ix = ctl.ix
    for g in ix.stage_groups[stage]:
        if not ix.is_pedestrian[g] and not ix.stage_mask[next_stage][g]:
            ctl.events.add(code, g + 1)
