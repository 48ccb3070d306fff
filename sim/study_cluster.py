"""Where a study's simulations run: Dask distributed, on local processes or a running scheduler. Host only.

``study_client(jobs, scheduler)`` is a context manager that yields a Dask
client: without a scheduler, a LocalCluster of ``jobs`` worker processes with
one thread each (no dashboard, no memory limit: a SUMO run may take what it
needs, as in a plain process), closed with its processes when the block ends,
Ctrl-C included; with ``scheduler`` (``tcp://HOST:PORT``), a client of that
scheduler, whose workers are started by hand (docs/sim.md). Dask is imported
here, when a study starts, so the command line stays fast.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterator

CONNECT_TIMEOUT_S = 30


class ClusterError(Exception):
    """The Dask scheduler cannot be reached or Dask is missing; the message says what to do."""


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError("Dask distributed not importable: pip install 'ampelwerk[sim]' "
                           "(from a checkout: pip install -e '.[sim]')") from None
    return distributed


@contextlib.contextmanager
def study_client(jobs: int, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client for a study: ``jobs`` local worker processes, or the scheduler at ``scheduler``."""
    distributed = _dask()
    if scheduler is None:
        # the workers share the caller's terminal: Ctrl-C is the caller's, which closes them (dask_setup below)
        with distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                                      memory_limit=0, silence_logs=logging.ERROR, preload=[__name__]) as cluster:
            with distributed.Client(cluster) as client:
                yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError, TypeError) as e:
        raise ClusterError("Dask scheduler %s not reachable (%s): start one with `dask scheduler` and workers with "
                           "`dask worker %s --nthreads 1` (docs/sim.md)" % (scheduler, e, scheduler)) from None
    with client:
        yield client


def dask_setup(worker: Any) -> None:
    """Preload of the local workers: they ignore SIGINT (Ctrl-C reaches the whole process group); the caller
    gets it and closes the cluster, which stops them."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def describe(client: Any) -> tuple[int, int]:
    """(workers, threads) the client's scheduler has now."""
    workers = client.scheduler_info().get("workers", {})
    return len(workers), sum(int(w.get("nthreads", 1)) for w in workers.values())
