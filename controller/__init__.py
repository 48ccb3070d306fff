# Ampelwerk signal-timing core. Runs unchanged on MicroPython boards and CPython.
# Imports only controller/ modules. Its sub-packages, what may import what and
# the walk of one tick (core.py): docs/architecture.md.
