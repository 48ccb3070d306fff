"""Helpers for tests that start the CLI as a process and stop it as a user would."""

import signal


def interruptible() -> None:
    """Popen(preexec_fn=...): Ctrl-C (SIGINT) interrupts the child even when the test runs in a background
    job, whose shell starts it with SIGINT ignored (Python then installs no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(proc, timeout_s: float = 30.0) -> bool:
    """Ctrl-C a CLI process and wait for it; True when it stopped by itself within timeout_s, else it is
    killed and False."""
    import subprocess

    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout_s)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False
