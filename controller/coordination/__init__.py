# Coordination with the central coordinator: messages and their field
# bounds, plan signatures, the plan gate and the agent. Runs on the board.
# No code here: the firmware bundle leaves this file out (firmware/host_build.py).
