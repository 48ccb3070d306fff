# The serial wire protocol: frames (frame.py) and message layouts
# (messages.py), shared by the board and the host.
# No code here: the firmware bundle leaves this file out (firmware/host_build.py).
