# The strategies (fixed, actuated, adaptive, coordinated) behind one
# interface, and the registry that makes them by name. Runs on the board.
# No code here: the firmware bundle leaves this file out (firmware/host_build.py).
