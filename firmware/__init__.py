# Board firmware (MicroPython) and its host-side tooling (host_*.py, CPython).
