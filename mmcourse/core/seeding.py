"""Seeds: every random result of the course comes from a ``numpy.random.Generator``.

A function that draws random numbers takes ``seed``: an int, a ``numpy.random.SeedSequence``,
a ``Generator`` (used as it is, and advanced), or ``None`` (fresh entropy). Independent runs
(learners, test batches) each get a child generator from :func:`spawn_generators`, so their
numbers do not depend on how many run at once or in which order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_rng", "spawn_generators"]


def make_rng(seed=None) -> np.random.Generator:
    """A ``numpy.random.Generator`` for ``seed``.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        A Generator is returned as it is; anything else seeds ``numpy.random.default_rng``.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def spawn_generators(seed, n: int) -> list[np.random.Generator]:
    """``n`` independent generators, children of ``seed``.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        With an int, a SeedSequence or None, child k is
        ``default_rng(SeedSequence(seed).spawn(n)[k])``; with a Generator, its ``spawn(n)``
        (which advances the Generator's own seed sequence, not its stream).
    n : int
        How many generators.

    Returns
    -------
    list of numpy.random.Generator
    """
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n))
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(child) for child in sequence.spawn(n)]
