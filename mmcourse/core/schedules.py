"""Exploration and step-size schedules: one value per training episode.

A learner that follows a schedule holds ε (or α) constant within episode k and uses the
k-th value of the array these functions return.
"""

from __future__ import annotations

import numpy as np

from mmcourse.core.checks import check_int, check_real

__all__ = ["epsilon_schedule", "alpha_schedule"]


def epsilon_schedule(n_episodes: int, epsilon_start: float = 1.0, epsilon_end: float = 0.05,
                     epsilon_cutoff: float = 0.5) -> np.ndarray:
    """Exploration rates that fall linearly, then stay constant.

    Parameters
    ----------
    n_episodes : int
        Number of training episodes, ≥ 1.
    epsilon_start, epsilon_end : float
        ε of the first episode and ε after the cutoff, in [0, 1].
    epsilon_cutoff : float
        Fraction of the episodes, in [0, 1], over which ε falls from ``epsilon_start`` to
        ``epsilon_end``.

    Returns
    -------
    numpy.ndarray
        ε_k for k = 0 … n_episodes − 1: ε_start + (ε_end − ε_start) · k / (cutoff · n_episodes)
        while k < cutoff · n_episodes, then ε_end.
    """
    n_episodes = check_int("n_episodes", n_episodes, low=1)
    start = check_real("epsilon_start", epsilon_start, 0.0, 1.0)
    end = check_real("epsilon_end", epsilon_end, 0.0, 1.0)
    cutoff = check_real("epsilon_cutoff", epsilon_cutoff, 0.0, 1.0)
    k = np.arange(n_episodes)
    n_cut = cutoff * n_episodes
    if n_cut == 0:
        return np.full(n_episodes, end)
    return np.where(k < n_cut, start + (end - start) * k / n_cut, end)


def alpha_schedule(n_episodes: int, alpha_start: float = 0.5, alpha_end: float = 0.001) -> np.ndarray:
    """Step sizes that decay exponentially from the first episode to the last.

    Parameters
    ----------
    n_episodes : int
        Number of training episodes, ≥ 1.
    alpha_start, alpha_end : float
        α of the first and of the last episode, in (0, 1].

    Returns
    -------
    numpy.ndarray
        α_k = α_start · (α_end / α_start)^{k / (n_episodes − 1)} for k = 0 … n_episodes − 1
        (just α_start when n_episodes = 1).
    """
    n_episodes = check_int("n_episodes", n_episodes, low=1)
    start = check_real("alpha_start", alpha_start, 0.0, 1.0, low_open=True)
    end = check_real("alpha_end", alpha_end, 0.0, 1.0, low_open=True)
    if n_episodes == 1:
        return np.array([start])
    return start * (end / start) ** (np.arange(n_episodes) / (n_episodes - 1))
