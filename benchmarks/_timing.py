"""The timer the benchmark scripts share."""

import time


def timed(f, *args, repeat=1, clock=time.process_time, **kwargs):
    """Run f and return its result and its best time on ``clock`` (default: CPU seconds of
    this process) over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        out = f(*args, **kwargs)
        best = min(best, clock() - t0)
    return out, best
