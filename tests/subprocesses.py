"""Helpers for tests that start the CLI as a process and stop it as a user would."""

import signal


def interruptible() -> None:
    """Popen(preexec_fn=...): Ctrl-C (SIGINT) interrupts the child even when the test runs in a background
    job, whose shell starts it with SIGINT ignored (Python then installs no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
