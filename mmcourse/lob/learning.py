"""Learning the quote depths: tabular :func:`q_learning` and :func:`double_q_learning`,
Monte-Carlo control (:func:`mc_control`) and tile-coded Q-learning (:func:`tile_q_learning`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmcourse.core import _pcg64
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int
from mmcourse.core.schedules import alpha_schedule, epsilon_schedule
from mmcourse.core.seeding import make_rng
from mmcourse.lob._kernels import DoubleQ, History, Schedule, _double_q_learning, _q_learning
from mmcourse.lob._kernels import TileCoding, Trajectory, _mc_control, _tile_q_learning, _tile_q_table
from mmcourse.lob.book import Book, _background, _work
from mmcourse.lob.params import LOBParams, _check_params
from mmcourse.lob.policies import GreedyPolicy

pd = lazy_pandas()

__all__ = ["QLearningResult", "q_learning", "double_q_learning", "mc_control", "tile_q_learning"]


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
        the other learners.
    method : str
        The learner's name, ``"Q-learning"``, ``"Double Q-learning"``, ``"Monte-Carlo
        control"`` or ``"Tile-coded Q-learning"``; it labels :attr:`greedy_policy`.
    weights : numpy.ndarray or None
        From :func:`tile_q_learning`, the learnt weights ``weights[i, j, k, a]`` (tiling i,
        time tile j, inventory tile k, action a), of which ``q_table`` is an evaluation on
        the table's grid; None from the other learners.
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
    weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_episodes(self) -> int:
        """The number of training episodes."""
        return int(self.episode_rewards.size)

    @property
    def greedy_policy(self) -> GreedyPolicy:
        """The learnt greedy policy, labelled "<method> (greedy)" (e.g. "Q-learning (greedy)"),
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


def mc_control(params: LOBParams | None = None, n_episodes: int = 3000, epsilon_start: float = 1.0,
               epsilon_end: float = 0.05, epsilon_cutoff: float = 0.5, alpha_start: float = 0.5,
               alpha_end: float = 0.001, seed=None, start_book: Book | None = None) -> QLearningResult:
    """Every-visit Monte-Carlo control of the depths (γ = 1) with constant step sizes within an
    episode, on the state, actions, schedules and episodes of :func:`q_learning`.

    Q starts at 0. Each episode is played ε-greedily on the current Q with the draws of
    :func:`q_learning` (one uniform per decision to explore or not, then a uniform action if
    exploring; greedy ties to the lowest action index), and Q does not change during it.
    After the episode every decision t = 0 … T−2 (every visit, not only the first of a
    state-action pair) moves towards its return, the rest of the day's rewards
    G_t = r_t + r_{t+1} + … + r_{T−1}: Q(s_t, a_t) += α (G_t − Q(s_t, a_t)), applied for
    t = T−2 down to 0 (the order matters only when a pair recurs within an episode, which
    needs fewer time buckets than steps). The target is the return of the ε-greedy
    behaviour, not a bootstrapped maximum.

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
        ``start_values[k]`` = max_a Q(s_0, a) after episode k's updates; ``method`` is
        ``"Monte-Carlo control"``.

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
    n = params.T - 1
    path = Trajectory(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
                      np.zeros(n, dtype=np.int64), np.zeros(n))
    with _pcg64.stream(rng) as g:
        _mc_control(g, params._model(), Q, Schedule(epsilons, alphas), background, _work(params),
                    History(rewards, start_values), path)
    return QLearningResult(params, Q, rewards, start_values, epsilons, alphas,
                           method="Monte-Carlo control")


def tile_q_learning(params: LOBParams | None = None, n_episodes: int = 3000,
                    epsilon_start: float = 1.0, epsilon_end: float = 0.05,
                    epsilon_cutoff: float = 0.5, alpha_start: float = 0.5,
                    alpha_end: float = 0.001, seed=None, start_book: Book | None = None,
                    n_tilings: int = 4, time_tiles: int = 10,
                    inventory_tiles: int = 8) -> QLearningResult:
    """Semi-gradient Q-learning of the depths (γ = 1) with q linear in tile-coded features of
    the exact time and inventory, on the actions, schedules and episodes of :func:`q_learning`.

    Each of ``n_tilings`` tilings cuts (t/T, Q) into a grid: time tile ⌊t·time_tiles/T + i/n⌋
    and inventory tile ⌊(Q + R)·inventory_tiles/(2R) + (3i mod n)/n⌋ for tiling i of n, with
    the inventory clipped to ±R, R = (max_inventory_bucket + 1)·kappa (the offsets, i/n and
    3i/n of a tile, shift the tilings asymmetrically). Each action a has its own weights, and
    q(t, Q, a) = Σ_i w_a[i, active tile of tiling i], added tiling by tiling; the weights
    start at 0. At each decision t = 0 … T−2 the market maker explores with the draws of
    :func:`q_learning` (one uniform, then a uniform action if exploring) or takes
    argmax_a q(t, Q_t, a) at the exact (t, Q_t) (ties to the lowest index), and after the step
    w_a[active] += (α / n) [r_t + max_a' q(t+1, Q_{t+1}, a') − q(t, Q_t, a_t)] for each
    tiling's active tile; the last decision's target is r_{T−2} alone. There are
    n · (time_tiles + 1) · (inventory_tiles + 1) · D² weights (9,900 by default, against the
    17,500 entries of the default table), and each learns from every state its tile covers.

    Parameters
    ----------
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    n_episodes : int
        The number of training episodes, ≥ 1.
    epsilon_start, epsilon_end, epsilon_cutoff : float
        The exploration schedule (see :func:`~mmcourse.core.schedules.epsilon_schedule`).
    alpha_start, alpha_end : float
        The step-size schedule (see :func:`~mmcourse.core.schedules.alpha_schedule`); each
        tiling's weight moves by α / n_tilings times the error.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the burn-in and the episodes (see :func:`mmcourse.core.seeding.make_rng`).
    start_book : Book or None
        The book every episode starts from, with ``params.num_levels`` levels; None for the
        background book.
    n_tilings : int
        The number of offset tilings, 1 … 64.
    time_tiles, inventory_tiles : int
        The tiles across the day and across the inventory range [−R, R] in each tiling,
        1 … 1000 (each tiling has one more in each direction, for its offset).

    Returns
    -------
    QLearningResult
        ``weights`` holds w, shape (n_tilings, time_tiles + 1, inventory_tiles + 1, D²);
        ``q_table`` is q on the table's grid, so that ``greedy_policy`` is a
        :class:`GreedyPolicy` over (time bucket, inventory bucket): time bucket tb is valued
        at its first step ⌈tb·T / num_time_buckets⌉, inventory bucket b at the middle of its
        κ inventories, sign(b)·((abs(b) − 1)·κ + ⌊(κ + 1)/2⌋) (the lower middle for even κ;
        for the clipped outer buckets, the middle of their first κ inventories; 0 for
        b = 0). That policy only approximates the greedy policy of training, which acts on
        the exact (t, Q). ``start_values[k]`` = max_a q(0, 0, a) after episode k; ``method`` is
        ``"Tile-coded Q-learning"``.

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, or ``start_book`` is not a Book
        that fits ``params``.

    Notes
    -----
    With γ = 1 and time tiles several steps wide, consecutive decisions share most of their
    weights, so the target r_t + max_a q(t+1, ·) largely bootstraps on the value being
    updated and the maximum's upward bias accumulates: in the default setting (T = 100,
    10 time tiles) ``start_values`` drifts far above what the greedy policy earns (measured
    ≈ +26 per episode after 3,000 episodes, against ≈ +1.6 for :func:`q_learning`), and less
    so with finer time tiles (≈ +9 with 25, ≈ +1.7 with 100). Early in training the shared
    weights help: after 1,000 default episodes the greedy policy earns more than
    :func:`q_learning`'s (see tests/test_tile_q_learning.py).
    """
    params = _check_params(params)
    n_tilings = check_int("n_tilings", n_tilings, 1, 64)
    time_tiles = check_int("time_tiles", time_tiles, 1, 1000)
    inventory_tiles = check_int("inventory_tiles", inventory_tiles, 1, 1000)
    epsilons = epsilon_schedule(n_episodes, epsilon_start, epsilon_end, epsilon_cutoff)
    alphas = alpha_schedule(n_episodes, alpha_start, alpha_end)
    rng = make_rng(seed)
    background = _background(params, start_book, rng)
    kappa, c = params.kappa, params.max_inventory_bucket
    # each tiling's tile of every step and every clipped inventory, in exact integer
    # arithmetic: ⌊t·time_tiles/T + i/n⌋ and ⌊(Q + R)·inventory_tiles/(2R) + (3i mod n)/n⌋
    R, n, T = (c + 1) * kappa, n_tilings, params.T
    i = np.arange(n, dtype=np.int64)
    t = np.arange(T, dtype=np.int64)[:, None]
    shifted = np.arange(2 * R + 1, dtype=np.int64)[:, None]                  # Q + R
    tiles = TileCoding(np.zeros((n, time_tiles + 1, inventory_tiles + 1, params.num_actions)),
                       np.zeros((1, 1, params.num_actions)),
                       (t * time_tiles * n + i * T) // (T * n),
                       (shifted * inventory_tiles * n + (3 * i % n) * 2 * R) // (2 * R * n), R)
    rewards = np.zeros(epsilons.size)
    start_values = np.zeros(epsilons.size)
    model = params._model()
    with _pcg64.stream(rng) as g:
        _tile_q_learning(g, model, tiles, Schedule(epsilons, alphas), background, _work(params),
                         History(rewards, start_values))
    nb = params.num_time_buckets
    steps = (np.arange(nb, dtype=np.int64) * params.T + nb - 1) // nb
    b = np.arange(-c, c + 1, dtype=np.int64)
    inventories = np.sign(b) * (np.maximum(np.abs(b) - 1, 0) * kappa + (kappa + 1) // 2)
    Q = np.zeros((nb, params.num_inventory_buckets, params.num_actions))
    _tile_q_table(model, tiles, steps, inventories, Q)
    return QLearningResult(params, Q, rewards, start_values, epsilons, alphas,
                           method="Tile-coded Q-learning", weights=tiles.weights)
