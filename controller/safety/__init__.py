# The safety kernel (kernel.py: the only code that changes signal states),
# the independent conflict monitor and the signal states. Runs on the board.
# No code here: the firmware bundle leaves this file out (firmware/host_build.py).
