"""Monte-Carlo estimates with their standard errors and confidence intervals.

An :class:`Estimate` wraps n independent samples x_1 … x_n of a random quantity (one per
episode) and reports the sample mean, the sample standard deviation s, the standard error
s / √n and the normal-approximation confidence interval mean ± z · s / √n.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

__all__ = ["Estimate"]


@dataclass(frozen=True)
class Estimate:
    """The Monte-Carlo estimate of an expectation from independent samples.

    Parameters
    ----------
    samples : array_like
        One value per episode (at least two), e.g. each episode's total reward. They are
        stored read-only in ``samples``.

    Raises
    ------
    ValueError
        If ``samples`` is not one-dimensional with at least two values.
    """
    # one value per episode, never every step of every episode: 100,000 episodes cost 800 kB

    samples: np.ndarray = field(repr=False)

    def __post_init__(self):
        samples = np.asarray(self.samples, dtype=float)
        if samples.ndim != 1 or samples.size < 2:
            raise ValueError(f"samples must be a 1-d array of at least 2 values, got shape {samples.shape}")
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)

    @property
    def n(self) -> int:
        """The number of samples (episodes)."""
        return int(self.samples.size)

    @property
    def mean(self) -> float:
        """The sample mean."""
        return float(self.samples.mean())

    @property
    def std(self) -> float:
        """The sample standard deviation (with n − 1 in the denominator)."""
        return float(self.samples.std(ddof=1))

    @property
    def stderr(self) -> float:
        """The standard error of the mean, s / √n."""
        return self.std / np.sqrt(self.n)

    def confidence_interval(self, level: float = 0.95) -> tuple[float, float]:
        """The normal-approximation confidence interval for the mean at ``level``."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        z = NormalDist().inv_cdf(0.5 + level / 2)
        return (self.mean - z * self.stderr, self.mean + z * self.stderr)

    @property
    def ci(self) -> tuple[float, float]:
        """The 95 % confidence interval for the mean."""
        return self.confidence_interval(0.95)

    def __repr__(self) -> str:
        lo, hi = self.ci
        return (f"Estimate(mean={self.mean:.4f}, stderr={self.stderr:.4f}, "
                f"95% CI=({lo:.4f}, {hi:.4f}), n={self.n})")
