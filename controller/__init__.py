# Ampelwerk signal-timing core. Runs unchanged on MicroPython boards and CPython.
# Imports only controller/ modules; see docs/architecture.md for the walk of one tick.
