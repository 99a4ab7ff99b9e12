"""Many independent learners: learning curves with confidence bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from mmcourse.chan_shelton.learning import sarsa
from mmcourse.chan_shelton.params import MarketParams, _params
from mmcourse.chan_shelton.policies import Policy
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int, check_real
from mmcourse.core.parallel import run_parallel
from mmcourse.core.seeding import spawn_generators

pd = lazy_pandas()

__all__ = ["sarsa_learning_curves", "LearningCurves"]


@dataclass(frozen=True)
class LearningCurves:
    """Per-episode mean rewards of independently seeded SARSA learners (rows: learners).

    Attributes
    ----------
    rewards : numpy.ndarray
        Shape (n_learners, n_episodes): ``rewards[i, k]`` is learner i's mean reward per step,
        (1/T) Σ_t r_t, in its day k + 1, earned while exploring.
    final_policies : list of Policy
        Each learner's greedy policy after its last day.
    """

    rewards: np.ndarray = field(repr=False)
    final_policies: list[Policy] = field(repr=False)

    def band(self, level: float = 0.95, block: int = 1) -> pd.DataFrame:
        """The learning curve: the mean over learners of the mean reward per step, with a
        normal confidence band for that mean.

        With ``block`` > 1 each learner's days are first averaged over consecutive blocks of
        that many days (indexed by each block's last day); days after the last whole block
        are left out.

        Parameters
        ----------
        level : float
            The confidence level of the band, in (0, 1).
        block : int
            Days per block, 1 … n_episodes.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``episode``; columns ``mean`` (over learners), ``lower`` and ``upper``
            (mean ∓ z · s / √n_learners, s the standard deviation across learners).

        Raises
        ------
        ValueError
            If ``level`` or ``block`` is out of range.
        """
        z = NormalDist().inv_cdf(0.5 + check_real("level", level, 0, 1, True, True) / 2)
        n_learners, n_days = self.rewards.shape
        block = check_int("block", block, 1, n_days)
        n_blocks = n_days // block
        r = self.rewards[:, :n_blocks * block].reshape(n_learners, n_blocks, block).mean(axis=2)
        mean = r.mean(axis=0)
        se = r.std(axis=0, ddof=1) / np.sqrt(n_learners)
        return pd.DataFrame({"mean": mean, "lower": mean - z * se, "upper": mean + z * se},
                            index=pd.Index(np.arange(1, n_blocks + 1) * block, name="episode"))


def sarsa_learning_curves(n_learners: int = 100, params: MarketParams | None = None,
                          n_episodes: int = 5000, alpha: float = 0.01, gamma: float = 0.0,
                          epsilon: float = 0.1, seed=None, max_imbalance: int = 2,
                          update_last: bool = True, n_workers: int | None = None) -> LearningCurves:
    """Run ``n_learners`` independent SARSA learners, each with its own seed spawned from
    ``seed``, and keep each one's per-episode mean reward and final greedy policy.

    Each learner is :func:`~mmcourse.chan_shelton.learning.sarsa` with the same arguments and
    its own generator from :func:`mmcourse.core.seeding.spawn_generators`, so the results do
    not depend on ``n_workers``.

    Parameters
    ----------
    n_learners : int
        The number of learners, ≥ 2.
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    n_episodes : int
        Days per learner, ≥ 1.
    alpha, gamma, epsilon : float
        The step size α in (0, 1], the discount γ and the exploration rate ε in [0, 1].
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        The seed that the learners' generators are spawned from.
    max_imbalance : int
        K ≥ 0: the states are the imbalances −K … K.
    update_last : bool
        Whether the last transition of each day is updated (see
        :func:`~mmcourse.chan_shelton.learning.sarsa`).
    n_workers : int or None
        Threads to run the learners on; None for every core.

    Returns
    -------
    LearningCurves

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range.
    """
    params = _params(params)
    n_learners = check_int("n_learners", n_learners, low=2)
    n_episodes = check_int("n_episodes", n_episodes, low=1)
    generators = spawn_generators(seed, n_learners)

    def learn(rng):
        return sarsa(params, n_episodes, alpha, gamma, epsilon, rng, max_imbalance, update_last,
                     record_q=False)

    sarsa(params, 1, alpha, gamma, epsilon, 0, max_imbalance, update_last, record_q=False)  # compile once
    results = run_parallel(learn, [(rng,) for rng in generators], n_workers)
    rewards = np.stack([r.history["mean_reward"].to_numpy() for r in results])
    policies = [r.policy for r in results]
    return LearningCurves(rewards, policies)
