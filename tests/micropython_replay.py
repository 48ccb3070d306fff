# Replays a detector trace through the core under MicroPython, writing the same
# signal and event CSVs as `ampelwerk replay`:
#   micropython tests/micropython_replay.py CONFIG TRACE SIGNALS EVENTS [STRATEGY]
import sys

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

from controller.config.loading import load_file  # noqa: E402
from controller.core import Controller  # noqa: E402
from controller.events.log import CSV_HEADER  # noqa: E402
from controller.trace_replay import replay  # noqa: E402

config, trace, signals, events = sys.argv[1:5]
strategy = sys.argv[5] if len(sys.argv) > 5 else None
ctl = Controller(load_file(config), strategy)
with open(trace) as src, open(signals, "w") as sig, open(events, "w") as evf:
    evf.write(CSV_HEADER + "\n")
    replay(ctl, src, lambda l: sig.write(l + "\n"), lambda l: evf.write(l + "\n"))
