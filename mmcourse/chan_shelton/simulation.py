"""One trading day, simulated step by step.

The market maker observes the order imbalance I_t (the orders since its last price change,
excluding this step's), moves its price by Δ_t = π(I_t) ∈ {−1, 0, +1}, and earns
r_t = o_t · (m_t − p*_t) on this step's order o_t. See :func:`simulate_episode`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmcourse.chan_shelton._kernels import Day, _episode
from mmcourse.chan_shelton.params import EVENT_NAMES, MarketParams, _check_epsilon, _params
from mmcourse.chan_shelton.policies import Policy, _check_policy
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.seeding import make_rng

pd = lazy_pandas()

__all__ = ["Episode", "simulate_episode"]


@dataclass(frozen=True)
class Episode:
    """One simulated trading day: what happened at each step, as arrays indexed by t = 0 … T−1.

    Attributes
    ----------
    fundamental_price : numpy.ndarray
        p*_t, the fundamental price after this step's event.
    mm_price : numpy.ndarray
        m_t, the market maker's price after this step's action.
    imbalance : numpy.ndarray
        I_t, the order imbalance the market maker observed before acting: the orders since
        its last price change, excluding this step's.
    event : numpy.ndarray
        The step's event code, 0 … 4 (names in ``EVENT_NAMES``: price up, price down,
        uninformed buy, uninformed sell, informed).
    order : numpy.ndarray
        o_t: +1 if a trader bought, −1 if one sold, 0 if the price moved or the informed
        trader found p*_t = m_{t−1}.
    action : numpy.ndarray
        Δ_t ∈ {−1, 0, +1}, the market maker's price move (the policy's, or a random one when
        it explored).
    reward : numpy.ndarray
        r_t = o_t · (m_t − p*_t).
    params : MarketParams
        The market simulated.
    policy : Policy
        The policy followed.
    """

    fundamental_price: np.ndarray
    mm_price: np.ndarray
    imbalance: np.ndarray
    event: np.ndarray
    order: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    params: MarketParams
    policy: Policy

    @property
    def mean_reward(self) -> float:
        """(1/T) Σ_t r_t, one sample of v(π)."""
        return float(self.reward.mean())

    def to_frame(self) -> pd.DataFrame:
        """The day as a DataFrame, one row per step.

        Returns
        -------
        pandas.DataFrame
            Index ``t``; columns ``event`` (categorical, by name), ``fundamental_price``,
            ``mm_price``, ``imbalance``, ``order``, ``action`` and ``reward``.
        """
        return pd.DataFrame({
            "event": pd.Categorical.from_codes(self.event, categories=list(EVENT_NAMES)),
            "fundamental_price": self.fundamental_price,
            "mm_price": self.mm_price,
            "imbalance": self.imbalance,
            "order": self.order,
            "action": self.action,
            "reward": self.reward,
        }, index=pd.RangeIndex(self.params.T, name="t"))


def simulate_episode(policy: Policy, params: MarketParams | None = None, seed=None,
                     epsilon: float = 0.0) -> Episode:
    """Simulate one trading day under ``policy`` (with ε-exploration if ``epsilon`` > 0).

    At each step one event happens and the market maker moves its price by Δ_t = π(I_t) (or,
    with probability ε, by an action drawn uniformly from {−1, 0, +1}); it earns
    r_t = o_t · (m_t − p*_t) on the step's order, at its new price m_t.

    Parameters
    ----------
    policy : Policy
        The market maker's policy, e.g. ``threshold_policy(2)``.
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the day's random numbers (see :func:`mmcourse.core.seeding.make_rng`).
    epsilon : float
        The exploration rate ε, in [0, 1].

    Returns
    -------
    Episode

    Raises
    ------
    ValueError
        If ``policy`` is not a :class:`~mmcourse.chan_shelton.policies.Policy`, ``params`` is
        not a :class:`~mmcourse.chan_shelton.params.MarketParams`, or ``epsilon`` is outside
        [0, 1].
    """
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    rng = make_rng(seed)
    T = params.T
    day = Day(*(np.zeros(T, dtype=np.int64) for _ in range(6)), np.zeros(T))
    _episode(rng, params._market(), policy.as_array(), epsilon, day)
    return Episode(*day, params, policy)
