"""Tabular Q-learning of the quote depths: :func:`q_learning` and :func:`double_q_learning`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmcourse.core import _pcg64
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.schedules import alpha_schedule, epsilon_schedule
from mmcourse.core.seeding import make_rng
from mmcourse.lob._kernels import DoubleQ, History, Schedule, _double_q_learning, _q_learning
from mmcourse.lob.book import Book, _background, _work
from mmcourse.lob.params import LOBParams, _check_params
from mmcourse.lob.policies import GreedyPolicy

pd = lazy_pandas()

__all__ = ["QLearningResult", "q_learning", "double_q_learning"]


@dataclass(frozen=True, eq=False)
class QLearningResult:
    """A trained Q table and its training history (one value per episode).

    ``q_table[tb, ib + c, (d_b − 1)·D + (d_a − 1)]``; ``episode_rewards[k]`` is episode k's
    total reward (while exploring); ``start_values[k]`` = max_a Q(s_0, a) after episode k,
    s_0 = (time bucket 0, inventory bucket 0). From :func:`double_q_learning`, ``q_table`` is
    (Q^A + Q^B) / 2, ``start_values`` the double estimate (see there), and ``q_table_a`` and
    ``q_table_b`` hold the two tables.

    Attributes
    ----------
    params : LOBParams
        The setting the table was learnt in.
    q_table : numpy.ndarray
        Q(s, a), shape (num_time_buckets, num_inventory_buckets, D²): time bucket tb,
        inventory bucket ib + c, action index (d_b − 1)·D + (d_a − 1).
    episode_rewards : numpy.ndarray
        Each training episode's total reward, earned while exploring.
    start_values : numpy.ndarray
        max_a Q(s_0, a) after each episode: the learner's own estimate of an episode's
        expected total reward.
    epsilons : numpy.ndarray
        Each episode's exploration rate ε.
    alphas : numpy.ndarray
        Each episode's step size α.
    q_table_a, q_table_b : numpy.ndarray or None
        Double Q-learning's two tables Q^A and Q^B, shaped like ``q_table``; None from
        :func:`q_learning`.
    method : str
        The learner's name, ``"Q-learning"`` or ``"Double Q-learning"``; it labels
        :attr:`greedy_policy`.
    """

    params: LOBParams
    q_table: np.ndarray = field(repr=False)
    episode_rewards: np.ndarray = field(repr=False)
    start_values: np.ndarray = field(repr=False)
    epsilons: np.ndarray = field(repr=False)
    alphas: np.ndarray = field(repr=False)
    q_table_a: np.ndarray | None = field(default=None, repr=False)
    q_table_b: np.ndarray | None = field(default=None, repr=False)
    method: str = "Q-learning"

    @property
    def n_episodes(self) -> int:
        """The number of training episodes."""
        return int(self.episode_rewards.size)

    @property
    def greedy_policy(self) -> GreedyPolicy:
        """The learnt greedy policy ("Q-learning (greedy)", or "Double Q-learning (greedy)"),
        usable by :func:`~mmcourse.lob.evaluation.evaluate_policy`."""
        return GreedyPolicy.from_q_table(self.q_table, f"{self.method} (greedy)")

    def history_frame(self) -> pd.DataFrame:
        """The training history: per episode, the reward, the start-state value, ε and α.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``episode`` 0 … n_episodes − 1; columns ``reward``, ``start_value``,
            ``epsilon`` and ``alpha``.
        """
        return pd.DataFrame({"reward": self.episode_rewards, "start_value": self.start_values,
                             "epsilon": self.epsilons, "alpha": self.alphas},
                            index=pd.RangeIndex(self.n_episodes, name="episode"))

    def q_frame(self) -> pd.DataFrame:
        """The Q values in long form: one row per (time bucket, inventory bucket, d_b, d_a).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``time_bucket``, ``inventory_bucket`` (−c … c), ``bid_depth`` and
            ``ask_depth`` (1 … D); one column, ``q``.
        """
        nb, ni, na = self.q_table.shape
        D = self.params.max_quote_depth
        c = self.params.max_inventory_bucket
        index = pd.MultiIndex.from_product(
            [range(nb), range(-c, c + 1), range(1, D + 1), range(1, D + 1)],
            names=["time_bucket", "inventory_bucket", "bid_depth", "ask_depth"])
        return pd.DataFrame({"q": self.q_table.reshape(-1)}, index=index)

    def greedy_frame(self) -> pd.DataFrame:
        """The greedy depths by (time bucket, inventory bucket).

        Returns
        -------
        pandas.DataFrame
            ``greedy_policy.to_frame()``: columns ``bid_depth`` and ``ask_depth``.
        """
        return self.greedy_policy.to_frame()


def q_learning(params: LOBParams | None = None, n_episodes: int = 3000, epsilon_start: float = 1.0,
               epsilon_end: float = 0.05, epsilon_cutoff: float = 0.5, alpha_start: float = 0.5,
               alpha_end: float = 0.001, seed=None, start_book: Book | None = None) -> QLearningResult:
    """Tabular Q-learning of the depths (γ = 1), ε-greedy with
    :func:`~mmcourse.core.schedules.epsilon_schedule`, step sizes
    :func:`~mmcourse.core.schedules.alpha_schedule`, Q initialised to 0.

    The state is (time bucket, inventory bucket), the action one of the D² depth pairs. At
    each decision t = 0 … T−2 the market maker explores with probability ε (one uniform per
    decision, then a uniform action) or takes the greedy action (ties to the lowest action
    index), and updates Q(s_t, a_t) += α [r_t + max_a Q(s_{t+1}, a) − Q(s_t, a_t)]; the last
    decision's target is r_{T−2} alone, since the liquidation step that follows brings reward
    0 by construction. ε and α are constant within an episode. Episodes start as in
    :func:`~mmcourse.lob.evaluation.evaluate_policy`.

    Parameters
    ----------
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    n_episodes : int
        The number of training episodes, ≥ 1.
    epsilon_start, epsilon_end, epsilon_cutoff : float
        The exploration schedule (see :func:`~mmcourse.core.schedules.epsilon_schedule`).
    alpha_start, alpha_end : float
        The step-size schedule (see :func:`~mmcourse.core.schedules.alpha_schedule`).
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the burn-in and the episodes (see :func:`mmcourse.core.seeding.make_rng`).
    start_book : Book or None
        The book every episode starts from, with ``params.num_levels`` levels; None for the
        background book.

    Returns
    -------
    QLearningResult

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, or ``start_book`` is not a Book
        that fits ``params``.
    """
    params = _check_params(params)
    epsilons = epsilon_schedule(n_episodes, epsilon_start, epsilon_end, epsilon_cutoff)
    alphas = alpha_schedule(n_episodes, alpha_start, alpha_end)
    rng = make_rng(seed)
    background = _background(params, start_book, rng)
    Q = np.zeros((params.num_time_buckets, params.num_inventory_buckets, params.num_actions))
    rewards = np.zeros(epsilons.size)
    start_values = np.zeros(epsilons.size)
    with _pcg64.stream(rng) as g:
        _q_learning(g, params._model(), Q, Schedule(epsilons, alphas), background, _work(params),
                    History(rewards, start_values))
    return QLearningResult(params, Q, rewards, start_values, epsilons, alphas)


def double_q_learning(params: LOBParams | None = None, n_episodes: int = 3000,
                      epsilon_start: float = 1.0, epsilon_end: float = 0.05,
                      epsilon_cutoff: float = 0.5, alpha_start: float = 0.5,
                      alpha_end: float = 0.001, seed=None,
                      start_book: Book | None = None) -> QLearningResult:
    """Tabular double Q-learning of the depths (van Hasselt, 2010; γ = 1), on the state,
    actions, schedules and episodes of :func:`q_learning`.

    Two tables Q^A and Q^B start at 0. At each decision t = 0 … T−2 the market maker acts
    ε-greedily on Q^A + Q^B, with the draws of :func:`q_learning` (one uniform to explore or
    not, then a uniform action if exploring; greedy ties to the lowest action index). After
    the step one more uniform u picks the table to update: if u < 0.5,
    Q^A(s_t, a_t) += α [r_t + Q^B(s_{t+1}, a*) − Q^A(s_t, a_t)] with a* = argmax_a
    Q^A(s_{t+1}, a); otherwise the same with A and B swapped. As in :func:`q_learning` the
    last decision's target is r_{T−2} alone (u is drawn there too). The table that picks
    the action is not the one that values it, which removes the upward bias of
    max_a Q(s, a) as an estimate of the value of the greedy action.

    Parameters
    ----------
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    n_episodes : int
        The number of training episodes, ≥ 1.
    epsilon_start, epsilon_end, epsilon_cutoff : float
        The exploration schedule (see :func:`~mmcourse.core.schedules.epsilon_schedule`).
    alpha_start, alpha_end : float
        The step-size schedule (see :func:`~mmcourse.core.schedules.alpha_schedule`).
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the burn-in and the episodes (see :func:`mmcourse.core.seeding.make_rng`).
    start_book : Book or None
        The book every episode starts from, with ``params.num_levels`` levels; None for the
        background book.

    Returns
    -------
    QLearningResult
        ``q_table`` = (Q^A + Q^B) / 2, so ``greedy_policy`` is greedy on the sum that training
        acted on (labelled "Double Q-learning (greedy)"); ``q_table_a`` and ``q_table_b`` are
        Q^A and Q^B; ``start_values[k]`` is the double estimate of the start state's value
        after episode k, [Q^B(s_0, argmax_a Q^A(s_0, a)) + Q^A(s_0, argmax_a Q^B(s_0, a))] / 2
        (each argmax's ties to the lowest index), s_0 = (time bucket 0, inventory bucket 0);
        ``method`` is ``"Double Q-learning"``.

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, or ``start_book`` is not a Book
        that fits ``params``.
    """
    params = _check_params(params)
    epsilons = epsilon_schedule(n_episodes, epsilon_start, epsilon_end, epsilon_cutoff)
    alphas = alpha_schedule(n_episodes, alpha_start, alpha_end)
    rng = make_rng(seed)
    background = _background(params, start_book, rng)
    shape = (params.num_time_buckets, params.num_inventory_buckets, params.num_actions)
    QA, QB, total = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    rewards = np.zeros(epsilons.size)
    start_values = np.zeros(epsilons.size)
    with _pcg64.stream(rng) as g:
        _double_q_learning(g, params._model(), DoubleQ(QA, QB, total), Schedule(epsilons, alphas),
                           background, _work(params), History(rewards, start_values))
    return QLearningResult(params, (QA + QB) / 2, rewards, start_values, epsilons, alphas,
                           q_table_a=QA, q_table_b=QB, method="Double Q-learning")
