# Loading an intersection config: text -> validated dict with defaults ->
# Intersection (loading.py). Runs on the board, then unloads (loading.unload).
# No code here: the firmware bundle leaves this file out (firmware/host_build.py).
