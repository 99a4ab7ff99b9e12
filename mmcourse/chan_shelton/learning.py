"""Learning to act: policy iteration and SARSA.

* :func:`policy_iteration`: evaluate Q_π (with ε-exploration), act greedily, repeat;
* :func:`sarsa`: on-policy TD control, one update per step of every simulated day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmcourse.chan_shelton._kernels import SarsaRecord, SarsaSettings, _sarsa
from mmcourse.chan_shelton.evaluation import exact_policy_value, exact_values, state_action_values
from mmcourse.chan_shelton.params import MarketParams, _check_epsilon, _params
from mmcourse.chan_shelton.policies import Policy, _as_q_array, _check_policy, greedy_policy, q_table
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int, check_real
from mmcourse.core.seeding import make_rng

pd = lazy_pandas()

__all__ = ["policy_iteration", "PolicyIterationStep", "sarsa", "SarsaResult"]


@dataclass(frozen=True)
class PolicyIterationStep:
    """One round of policy iteration: the policy evaluated, its Q table (with exploration),
    and the exact value of the policy itself (without exploration).

    Attributes
    ----------
    policy : Policy
        The policy evaluated in this round.
    q : pandas.DataFrame
        Its Q table under ε-exploration, exact or estimated (see :func:`policy_iteration`);
        the next round's policy is greedy in it.
    value : float
        The exact v(π) of ``policy`` itself, without exploration.
    """

    policy: Policy
    q: pd.DataFrame = field(repr=False)
    value: float


def policy_iteration(policy: Policy, params: MarketParams | None = None, epsilon: float = 0.1,
                     max_imbalance: int = 2, evaluation: str = "exact", n_episodes: int = 10_000,
                     seed=None, max_iterations: int = 20, gamma: float = 0.0) -> list[PolicyIterationStep]:
    """Policy iteration: evaluate Q_π, make the policy greedy in it, repeat until it is stable.

    Alternate evaluation of Q_π (with ε-exploration so every action is tried) and greedy
    improvement π'(s) = argmax_a Q_π(s, a) (ties as in
    :func:`~mmcourse.chan_shelton.policies.greedy_policy`) until the policy no longer changes.

    ``evaluation="exact"`` uses :func:`~mmcourse.chan_shelton.evaluation.exact_values`;
    ``"monte_carlo"`` uses :func:`~mmcourse.chan_shelton.evaluation.state_action_values` with
    ``n_episodes`` days per round and returns discounted by ``gamma`` (the exact evaluation is
    for γ = 0, the slides' immediate reward).

    Parameters
    ----------
    policy : Policy
        The policy to start from.
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    epsilon : float
        The exploration rate ε of the evaluations, in (0, 1].
    max_imbalance : int
        K ≥ 0: the Q tables cover the imbalances −K … K, beyond which imbalances count as ±K.
    evaluation : {"exact", "monte_carlo"}
        How Q_π is evaluated.
    n_episodes : int
        Days per Monte-Carlo evaluation, ≥ 2 (unused with ``"exact"``).
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds one generator that all Monte-Carlo evaluations draw from, in turn (unused with
        ``"exact"``).
    max_iterations : int
        The largest number of rounds, ≥ 1.
    gamma : float
        The discount γ of the Monte-Carlo returns, in [0, 1]; must be 0 with ``"exact"``.

    Returns
    -------
    list of PolicyIterationStep
        The sequence of steps, one per round, the first for ``policy``; the improved policies
        are named π^(1), π^(2), …. The last one's policy is stable (or ``max_iterations`` was
        reached).

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, ``evaluation`` is unknown, or
        ``gamma`` ≠ 0 with ``evaluation="exact"``.
    """
    policy, params = _check_policy(policy), _params(params)
    epsilon = check_real("epsilon", epsilon, 0.0, 1.0, low_open=True)
    max_imbalance = check_int("max_imbalance", max_imbalance, low=0)
    max_iterations = check_int("max_iterations", max_iterations, low=1)
    if evaluation not in ("exact", "monte_carlo"):
        raise ValueError(f"evaluation must be 'exact' or 'monte_carlo', got {evaluation!r}")
    gamma = check_real("gamma", gamma, 0.0, 1.0)
    if evaluation == "exact" and gamma != 0.0:
        raise ValueError("gamma must be 0 with evaluation='exact' (use evaluation='monte_carlo' for returns)")
    rng = make_rng(seed)
    steps = []
    for k in range(max_iterations):
        if evaluation == "exact":
            q = exact_values(policy, params, epsilon, max_imbalance).q
        else:
            q = state_action_values(policy, params, n_episodes, rng, epsilon, max_imbalance, gamma).values
        steps.append(PolicyIterationStep(policy, q, exact_policy_value(policy, params)))
        improved = greedy_policy(q, name=f"π^({k + 1})")
        if improved == policy:
            break
        policy = improved
    return steps


@dataclass(frozen=True)
class SarsaResult:
    """What SARSA learnt: the Q table, its greedy policy, and the learning history.

    Attributes
    ----------
    q : pandas.DataFrame
        The Q table after the last day: rows the imbalances −K … K, columns Δp = −1, 0, +1.
    policy : Policy
        Its greedy policy, named "SARSA greedy" (ties as in
        :func:`~mmcourse.chan_shelton.policies.greedy_policy`).
    history : pandas.DataFrame
        Each day's mean reward (1/T) Σ_t r_t, earned while exploring: column ``mean_reward``,
        indexed by ``episode`` 1 … n_episodes.
    q_history : numpy.ndarray
        The Q table after each day, shape (n_episodes, 2K + 1, 3); no rows if the run was
        made with ``record_q=False``.
    final_day : pandas.DataFrame
        The last day, one row per step t: ``fundamental_price``, ``mm_price``, ``imbalance``
        (before acting, not clipped), ``action`` and ``reward``.
    params : MarketParams
        The market the learner traded in.
    """

    q: pd.DataFrame
    policy: Policy
    history: pd.DataFrame = field(repr=False)
    q_history: np.ndarray = field(repr=False)
    final_day: pd.DataFrame = field(repr=False)
    params: MarketParams

    def greedy_value_curve(self, every: int = 50) -> pd.DataFrame:
        """The exact value v of the greedy policy of Q after every ``every``-th episode.

        Shows how good the learnt policy is as learning goes on: the greedy policy of the Q
        table after episodes ``every``, 2·``every``, …, valued exactly and without exploration
        (:func:`~mmcourse.chan_shelton.evaluation.exact_policy_value`).

        Parameters
        ----------
        every : int
            The spacing of the episodes looked at, ≥ 1.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``episode``; columns ``greedy policy`` (its table as text) and
            ``exact value``.

        Raises
        ------
        ValueError
            If ``every`` < 1, or the result kept no Q history (``record_q=False``).
        """
        every = check_int("every", every, low=1)
        if self.q_history.shape[0] == 0:
            raise ValueError("this result kept no Q history (record_q=False)")
        cache: dict[Policy, float] = {}
        rows = []
        for ep in range(every - 1, self.q_history.shape[0], every):
            pol = greedy_policy(self.q_history[ep])
            if pol not in cache:
                cache[pol] = exact_policy_value(pol, self.params)
            rows.append((ep + 1, repr(pol).split(": ", 1)[1], cache[pol]))
        return pd.DataFrame(rows, columns=["episode", "greedy policy", "exact value"]).set_index("episode")


def sarsa(params: MarketParams | None = None, n_episodes: int = 5000, alpha: float = 0.01,
          gamma: float = 0.0, epsilon: float = 0.1, seed=None, max_imbalance: int = 2,
          update_last: bool = True, record_q: bool = True, Q=None) -> SarsaResult:
    """Learn a policy with SARSA, on-policy TD control, as in the slides.

    ε-greedy actions from Q over the imbalance clipped to −K…K (``max_imbalance`` = K = 2), Q
    initialised to 0 (or to ``Q``), one update per step:
    Q(s_{t−1}, a_{t−1}) += α [r_{t−1} + γ Q(s_t, a_t) − Q(s_{t−1}, a_{t−1})]. A greedy action
    is drawn at random among the actions tied for the largest Q value.

    ``update_last=False`` reproduces the slides' code, which never uses the last transition
    of a day; the default also updates it, with target r_{T−1} (the day has ended).
    ``history`` holds each day's mean reward; ``q_history`` the Q table after each day
    (15 numbers per day with K = 2; pass ``record_q=False`` to skip it for very long runs).

    Parameters
    ----------
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    n_episodes : int
        The number of days to learn from, ≥ 1.
    alpha : float
        The step size α, in (0, 1].
    gamma : float
        The discount γ, in [0, 1].
    epsilon : float
        The exploration rate ε, in [0, 1].
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the days' random numbers (see :func:`mmcourse.core.seeding.make_rng`).
    max_imbalance : int
        K ≥ 0: the states are the imbalances −K … K, beyond which imbalances count as ±K.
    update_last : bool
        Whether the last transition of each day is updated.
    record_q : bool
        Whether to keep the Q table after each day (``q_history``).
    Q : pandas.DataFrame, array_like or None
        The initial Q table, (2K + 1) × 3 (it is copied, not changed); None for zeros.

    Returns
    -------
    SarsaResult

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, or ``Q`` is not a (2K + 1) × 3
        table.
    """
    params = _params(params)
    n_episodes = check_int("n_episodes", n_episodes, low=1)
    alpha = check_real("alpha", alpha, 0.0, 1.0, low_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0)
    epsilon = _check_epsilon(epsilon)
    K = check_int("max_imbalance", max_imbalance, low=0)
    if Q is None:
        Qa = np.zeros((2 * K + 1, 3))
    else:
        Qa = _as_q_array(Q).copy()
        if Qa.shape[0] != 2 * K + 1:
            raise ValueError(f"Q must have {2 * K + 1} rows for max_imbalance={K}, got {Qa.shape[0]}")
    mean_reward = np.empty(n_episodes)
    q_history = np.empty((n_episodes if record_q else 0, 2 * K + 1, 3))
    final_day = np.zeros((5, params.T))
    _sarsa(make_rng(seed), params._market(), Qa, n_episodes,
           SarsaSettings(alpha, gamma, epsilon, bool(update_last)),
           SarsaRecord(mean_reward, q_history, final_day))
    history = pd.DataFrame({"mean_reward": mean_reward},
                           index=pd.RangeIndex(1, n_episodes + 1, name="episode"))
    day = pd.DataFrame(final_day.T, columns=["fundamental_price", "mm_price", "imbalance", "action", "reward"],
                       index=pd.RangeIndex(params.T, name="t"))
    day = day.astype({"fundamental_price": np.int64, "mm_price": np.int64, "imbalance": np.int64,
                      "action": np.int64})
    return SarsaResult(q_table(Qa), greedy_policy(Qa, name="SARSA greedy"), history, q_history, day, params)
