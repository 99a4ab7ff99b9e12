"""How good is a policy? Monte-Carlo estimates and exact values.

* :func:`evaluate_policy`: v(π) = E[(1/T) Σ_t r_t] from independent simulated days;
* :func:`state_values`, :func:`state_action_values`: Monte-Carlo v_π(s) and Q_π(s, a);
* :func:`exact_values`, :func:`exact_policy_value`: the same quantities exactly, by
  propagating the distribution of (p* − m, I) through the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmcourse.chan_shelton._kernels import _day_buffers, _evaluate, _exact, _visit_sums
from mmcourse.chan_shelton.params import MarketParams, _check_epsilon, _params
from mmcourse.chan_shelton.policies import Policy, _check_policy, q_table
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int, check_real
from mmcourse.core.estimates import Estimate
from mmcourse.core.seeding import make_rng

pd = lazy_pandas()

__all__ = ["evaluate_policy", "state_values", "state_action_values", "ValueTable",
           "exact_values", "exact_policy_value", "ExactValues"]


def evaluate_policy(policy: Policy, params: MarketParams | None = None, n_episodes: int = 1000,
                    seed=None, epsilon: float = 0.0) -> Estimate:
    """Monte-Carlo estimate of v(π) = E[(1/T) Σ_t r_t] from ``n_episodes`` independent days.

    Each simulated day gives one sample, its mean reward per step (1/T) Σ_t r_t.

    Parameters
    ----------
    policy : Policy
        The market maker's policy.
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    n_episodes : int
        The number of independent days, ≥ 2.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the days' random numbers (see :func:`mmcourse.core.seeding.make_rng`).
    epsilon : float
        The exploration rate ε in [0, 1]: with probability ε a step's action is drawn uniformly
        from {−1, 0, +1}.

    Returns
    -------
    Estimate
        One sample per day: ``.mean`` estimates v(π), ``.ci`` is its 95 % confidence interval.

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range.
    """
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    n_episodes = check_int("n_episodes", n_episodes, low=2)
    # only each day's mean reward is kept, so memory does not grow with T
    samples = _evaluate(make_rng(seed), params._market(), policy.as_array(), epsilon, n_episodes,
                        _day_buffers(params.T))
    return Estimate(samples)


@dataclass(frozen=True)
class ValueTable:
    """Monte-Carlo values by state (rows: imbalance) and action (columns: Δp), with standard
    errors and visit counts.  Entries never visited are NaN.

    Attributes
    ----------
    values : pandas.DataFrame
        The estimates of Q_π(s, a): rows the imbalances −K … K, columns Δp = −1, 0, +1.
    stderr : pandas.DataFrame
        Their standard errors, laid out alike.
    visits : pandas.DataFrame
        The number of visits of each (s, a), summed over all days (integers).
    estimator : str
        ``"pooled"`` or ``"episode_mean"``: how the values were estimated (see
        :func:`state_action_values`).
    """

    values: pd.DataFrame
    stderr: pd.DataFrame
    visits: pd.DataFrame
    estimator: str


def _check_estimator(estimator):
    if estimator not in ("pooled", "episode_mean"):
        raise ValueError(f"estimator must be 'pooled' or 'episode_mean', got {estimator!r}")
    return estimator


def _mc_values(policy, params, n_episodes, seed, epsilon, max_imbalance, gamma, estimator, by_action):
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    n = check_int("n_episodes", n_episodes, low=2)
    K = policy.K if max_imbalance is None else check_int("max_imbalance", max_imbalance, low=0)
    gamma = check_real("gamma", gamma, 0.0, 1.0)
    _check_estimator(estimator)
    tot, cnt, syy, sxx, sxy, em_sum, em_sq, em_n = _visit_sums(
        make_rng(seed), params._market(), policy.as_array(), epsilon, n, K, gamma, by_action,
        _day_buffers(params.T))
    with np.errstate(invalid="ignore", divide="ignore"):
        if estimator == "pooled":
            values = tot / cnt
            # ratio estimator: Var(R̂) ≈ Σ_e (y_e − R x_e)² / (n (n−1) x̄²)
            resid = syy - 2 * values * sxy + values ** 2 * sxx
            stderr = np.sqrt(np.maximum(resid, 0.0) / (n * (n - 1))) / (cnt / n)
        else:
            values = em_sum / em_n
            var = (em_sq - em_n * values ** 2) / (em_n - 1)
            stderr = np.sqrt(np.maximum(var, 0.0) / em_n)
    values[cnt == 0] = np.nan
    stderr[cnt == 0] = np.nan
    return values, stderr, cnt.astype(np.int64)


def state_action_values(policy: Policy, params: MarketParams | None = None, n_episodes: int = 1000,
                        seed=None, epsilon: float = 0.0, max_imbalance: int | None = None,
                        gamma: float = 0.0, estimator: str = "pooled") -> ValueTable:
    """Monte-Carlo estimate of Q_π(s, a): the mean (discounted) return after taking action a
    in imbalance state s, over ``n_episodes`` days under π with ε-exploration.

    States are imbalances clipped to −K … K (``max_imbalance`` = K, by default the policy's K).
    With ``gamma`` = 0 (the slides) the return is the immediate reward r_t.

    ``estimator="pooled"`` (every-visit Monte Carlo): total return / total visits over all
    days, the estimator to teach.  ``estimator="episode_mean"``: the slides' mean over days of
    each day's mean, skipping days that never visit (s, a); it weights a visit in a day with
    few visits more than one in a day with many.

    The standard errors treat the days as the independent samples: the ratio estimator's for
    ``"pooled"``, s / √m over the m days that visit (s, a) for ``"episode_mean"``.

    Parameters
    ----------
    policy : Policy
        The policy π that the market maker follows (with exploration).
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    n_episodes : int
        The number of independent days, ≥ 2.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the days' random numbers (see :func:`mmcourse.core.seeding.make_rng`).
    epsilon : float
        The exploration rate ε in [0, 1]; with ε = 0 only the policy's own actions are visited.
    max_imbalance : int or None
        K ≥ 0: imbalances beyond ±K count as ±K; None for the policy's K.
    gamma : float
        The discount γ in [0, 1] of the return r_t + γ r_{t+1} + … to the end of the day.
    estimator : {"pooled", "episode_mean"}
        How the returns of the visits are averaged (see above).

    Returns
    -------
    ValueTable
        Values, standard errors and visit counts by (imbalance, action).

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, or ``estimator`` is unknown.
    """
    values, stderr, visits = _mc_values(policy, params, n_episodes, seed, epsilon, max_imbalance,
                                        gamma, estimator, True)
    return ValueTable(q_table(values), q_table(stderr), q_table(visits).astype(np.int64), estimator)


def state_values(policy: Policy, params: MarketParams | None = None, n_episodes: int = 1000,
                 seed=None, epsilon: float = 0.0, max_imbalance: int | None = None,
                 gamma: float = 0.0, estimator: str = "pooled") -> pd.DataFrame:
    """Monte-Carlo estimate of v_π(s), the mean (discounted) return from imbalance state s.

    Every step at (clipped) imbalance s is a visit of s, whatever the action taken; otherwise
    the estimate is that of :func:`state_action_values`, which explains ``max_imbalance``,
    ``gamma`` and ``estimator``.

    Parameters
    ----------
    policy : Policy
        The policy π that the market maker follows (with exploration).
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    n_episodes : int
        The number of independent days, ≥ 2.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the days' random numbers (see :func:`mmcourse.core.seeding.make_rng`).
    epsilon : float
        The exploration rate ε, in [0, 1].
    max_imbalance : int or None
        K ≥ 0: imbalances beyond ±K count as ±K; None for the policy's K.
    gamma : float
        The discount γ of the return, in [0, 1].
    estimator : {"pooled", "episode_mean"}
        How the returns of the visits are averaged.

    Returns
    -------
    pandas.DataFrame
        Indexed by state (``imbalance``, −K … K), with columns ``value``, ``stderr`` and
        ``visits``; ``value`` and ``stderr`` are NaN for a state never visited.

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, or ``estimator`` is unknown.
    """
    values, stderr, visits = _mc_values(policy, params, n_episodes, seed, epsilon, max_imbalance,
                                        gamma, estimator, False)
    K = values.shape[0] // 2
    return pd.DataFrame({"value": values[:, 0], "stderr": stderr[:, 0], "visits": visits[:, 0]},
                        index=pd.Index(range(-K, K + 1), name="imbalance"))


@dataclass(frozen=True)
class ExactValues:
    """Exact expectations under a policy (with optional ε-exploration), γ = 0.

    Attributes
    ----------
    value : float
        v(π) = E[(1/T) Σ_t r_t], the policy's value.
    step_rewards : numpy.ndarray
        E[r_t] for each step t = 0 … T−1.
    q : pandas.DataFrame
        E[r_t | s_t = s, a_t = a] pooled over the day: the expected reward of all visits of
        (s, a) in a day over their expected number, the limit of the pooled Monte-Carlo
        estimator of :func:`state_action_values`. Rows the imbalances −K … K, columns
        Δp = −1, 0, +1; NaN where (s, a) is never visited.
    state_values : pandas.Series
        E[r_t | s_t = s] pooled over the day and the actions, indexed by imbalance; NaN for a
        state never visited.
    visits : pandas.DataFrame
        The expected number of visits of each (s, a) per day, laid out as ``q``.
    """

    value: float
    step_rewards: np.ndarray = field(repr=False)
    q: pd.DataFrame = field(repr=False)
    state_values: pd.Series = field(repr=False)
    visits: pd.DataFrame = field(repr=False)


def exact_values(policy: Policy, params: MarketParams | None = None, epsilon: float = 0.0,
                 max_imbalance: int | None = None) -> ExactValues:
    """Exact v(π), E[r_t], and pooled state and state-action values, by forward propagation
    of the distribution of (p* − m, I) through the T steps of a day (no sampling).

    The gap p* − m between the fundamental and the market maker's price decides the informed
    trader's order and the reward, the imbalance I the policy's action: so the pair's
    distribution, step by step, gives every expectation exactly. The rewards are not
    discounted (γ = 0, the slides' immediate reward).

    Parameters
    ----------
    policy : Policy
        The market maker's policy.
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    epsilon : float
        The exploration rate ε in [0, 1]: with probability ε a step's action is drawn uniformly
        from {−1, 0, +1}.
    max_imbalance : int or None
        K ≥ 0, the states of ``q``, ``state_values`` and ``visits``: imbalances beyond ±K
        count as ±K; None for the policy's K.

    Returns
    -------
    ExactValues

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range.
    """
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    K = policy.K if max_imbalance is None else check_int("max_imbalance", max_imbalance, low=0)
    step_reward, rmass, visits = _exact(params.event_probabilities(), params.T, policy.as_array(),
                                        epsilon, K)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(visits > 0, rmass / visits, np.nan)
        sv = np.where(visits.sum(1) > 0, rmass.sum(1) / visits.sum(1), np.nan)
    return ExactValues(float(step_reward.sum() / params.T), step_reward, q_table(q),
                       pd.Series(sv, index=pd.Index(range(-K, K + 1), name="imbalance"), name="value"),
                       q_table(visits))


def exact_policy_value(policy: Policy, params: MarketParams | None = None, epsilon: float = 0.0) -> float:
    """The exact v(π) = E[(1/T) Σ_t r_t] of a policy of the imbalance (see :func:`exact_values`).

    Parameters
    ----------
    policy : Policy
        The market maker's policy.
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults.
    epsilon : float
        The exploration rate ε, in [0, 1].

    Returns
    -------
    float
        ``exact_values(policy, params, epsilon).value``.

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range.
    """
    return exact_values(policy, params, epsilon).value
