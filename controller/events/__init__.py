# The event log: Indiana event codes (codes.py), the ring buffer (log.py),
# the codes' names for export (names.py). Runs on the board.
# No code here: the firmware bundle leaves this file out (firmware/host_build.py).
