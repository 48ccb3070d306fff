# From loop presence to what the strategies read: counts and gaps, loop
# diagnostics, calls (demand.py), queue estimates, blocked exits, green usage. On the board.
# No code here: the firmware bundle leaves this file out (firmware/host_build.py).
