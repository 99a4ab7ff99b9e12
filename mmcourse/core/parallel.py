"""Independent runs on all cores.

The compiled loops release Python's global interpreter lock (numba's ``nogil``), so threads
run them truly in parallel, without copying parameters or results between processes. Each
run must draw from its own generator (:func:`mmcourse.core.seeding.spawn_generators`): then
the results do not depend on the number of workers.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

from mmcourse.core.checks import check_int

__all__ = ["default_workers", "run_parallel"]


def default_workers() -> int:
    """The number of cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def run_parallel(function: Callable, tasks: Iterable, n_workers: int | None = None) -> list:
    """``[function(*task) for task in tasks]``, computed by ``n_workers`` threads.

    Parameters
    ----------
    function : callable
        Called once per task with the task's items as arguments.
    tasks : iterable of tuples
        The arguments of each call.
    n_workers : int or None
        Threads to use; None uses every core (:func:`default_workers`).

    Returns
    -------
    list
        The results, in the order of ``tasks``. The first exception raised by a call is
        raised again here.
    """
    tasks = [tuple(t) for t in tasks]
    n_workers = default_workers() if n_workers is None else check_int("n_workers", n_workers, low=1)
    if n_workers == 1 or len(tasks) <= 1:
        return [function(*t) for t in tasks]
    with ThreadPoolExecutor(max_workers=min(n_workers, len(tasks))) as pool:
        futures = [pool.submit(function, *t) for t in tasks]
        return [f.result() for f in futures]
