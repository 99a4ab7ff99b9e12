"""One episode of the market maker in the book, step by step: :func:`simulate_episode`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmcourse.core import _pcg64
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.seeding import make_rng
from mmcourse.lob._kernels import _EPISODE_COLUMNS, _N_COLUMNS, Work, _episode
from mmcourse.lob.book import Book, _background, _book_from_state, _scratch
from mmcourse.lob.params import LOBParams, _check_params
from mmcourse.lob.policies import _policy_arrays

pd = lazy_pandas()

__all__ = ["Episode", "simulate_episode"]


@dataclass(frozen=True, eq=False)
class Episode:
    """One episode of the market maker in the book, step by step (T rows).

    Row t: ``bid``, ``ask`` at the start of step t; the quotes posted (``bid_quote``,
    ``ask_quote`` prices, ``bid_depth`` = a − bid_quote, ``ask_depth`` = ask_quote − b, after
    any widening; 0 at t = T−1, where nothing is posted); the market maker's fills in the
    step (``bought``, ``sold``; at t = T−1 the liquidation); ``cash`` X, ``inventory`` Q and
    ``value`` V at the end of the step (time t + 1); ``reward`` r_t; ``n_events`` book events.

    Attributes
    ----------
    policy : ConstantPolicy, RandomPolicy or GreedyPolicy
        The policy followed.
    t : numpy.ndarray
        The steps 0 … T−1.
    bid : numpy.ndarray
        The best bid b at the start of each step.
    ask : numpy.ndarray
        The best ask a at the start of each step.
    bid_depth : numpy.ndarray
        a − bid_quote: the policy's d_b, or more if the quotes were widened (if s ≥ d_b + d_a
        the quotes would meet or cross, so both depths grow by ⌈(s − d_b − d_a + 1)/2⌉).
    ask_depth : numpy.ndarray
        ask_quote − b: the policy's d_a, or more if widened.
    bid_quote : numpy.ndarray
        The price of the market maker's buy order.
    ask_quote : numpy.ndarray
        The price of the market maker's sell order.
    bought : numpy.ndarray
        The units the market maker bought in the step.
    sold : numpy.ndarray
        The units it sold in the step.
    cash : numpy.ndarray
        X, its cash at the end of the step.
    inventory : numpy.ndarray
        Q, its inventory at the end of the step.
    value : numpy.ndarray
        V = X + H at the end of the step: the cash plus H, what liquidating the inventory
        would bring.
    reward : numpy.ndarray
        r_t: the value at the end of the step minus the value at its start (0 at the start
        of the episode), minus φ Q² for the inventory Q at the end of the step.
    n_events : numpy.ndarray
        The number of book events in the step.
    start_book : Book
        The book at the start of the episode.
    end_book : Book
        The book at the end of the episode.
    """

    policy: object
    t: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_depth: np.ndarray
    ask_depth: np.ndarray
    bid_quote: np.ndarray
    ask_quote: np.ndarray
    bought: np.ndarray
    sold: np.ndarray
    cash: np.ndarray
    inventory: np.ndarray
    value: np.ndarray
    reward: np.ndarray
    n_events: np.ndarray
    start_book: Book
    end_book: Book

    def __repr__(self):
        return (f"Episode(policy={self.policy!r}, steps={self.t.size}, "
                f"total_reward={self.total_reward:g}, events={int(self.n_events.sum())})")

    @property
    def spread(self) -> np.ndarray:
        """The spread a − b at the start of each step."""
        return self.ask - self.bid

    @property
    def total_reward(self) -> float:
        """Σ r_t (= the final cash when φ = 0)."""
        return float(self.reward.sum())

    @property
    def final_cash(self) -> int:
        """X_T, the cash at the end of the episode, after the liquidation."""
        return int(self.cash[-1])

    def to_frame(self) -> pd.DataFrame:
        """The steps as a DataFrame (quotes and depths are <NA> at t = T−1).

        Returns
        -------
        pandas.DataFrame
            One row per step; columns ``t``, ``bid``, ``ask``, ``spread``, ``bid_depth``,
            ``ask_depth``, ``bid_quote``, ``ask_quote`` (nullable integers), ``bought``,
            ``sold``, ``cash``, ``inventory``, ``value``, ``reward`` and ``n_events``.
        """
        frame = pd.DataFrame({"t": self.t, "bid": self.bid, "ask": self.ask, "spread": self.spread})
        for name in ("bid_depth", "ask_depth", "bid_quote", "ask_quote"):
            column = pd.array(getattr(self, name), dtype="Int64")
            column[-1] = pd.NA
            frame[name] = column
        for name in ("bought", "sold", "cash", "inventory", "value", "reward", "n_events"):
            frame[name] = getattr(self, name)
        return frame


def simulate_episode(policy, params: LOBParams | None = None, seed=None,
                     start_book: Book | None = None) -> Episode:
    """One episode of the market maker following ``policy``.

    At the start of each step t = 0 … T−2 the market maker posts ``default_order_size`` units
    to buy and to sell at the policy's depths for its time bucket and inventory bucket; the
    book runs for ``dt``, and what is left of the orders is cancelled. At t = T−1 it
    liquidates its inventory by walking the book.

    Parameters
    ----------
    policy : ConstantPolicy, RandomPolicy or GreedyPolicy
        Where the market maker quotes.
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the burn-in and the episode (see :func:`mmcourse.core.seeding.make_rng`).
    start_book : Book or None
        The book to start from, with ``params.num_levels`` levels; None for the simple book
        run alone for ``params.burn_in``.

    Returns
    -------
    Episode

    Raises
    ------
    ValueError
        If ``policy`` is not one of the three policies or its depths do not fit ``params``,
        ``params`` is not a LOBParams, or ``start_book`` is not a Book that fits ``params``.
    """
    params = _check_params(params)
    depths = _policy_arrays(policy, params)
    rng = make_rng(seed)
    m = params._model()
    top, vols, _ = _background(params, start_book, rng)
    start = _book_from_state(top, vols)
    rec = np.zeros((params.T, _N_COLUMNS), dtype=np.int64)
    rewards = np.zeros(params.T)
    with _pcg64.stream(rng) as g:
        _episode(g, m, depths, Work(top, vols, *_scratch(vols)), rec, rewards)
    columns = {name: rec[:, k].copy() for k, name in enumerate(_EPISODE_COLUMNS)}
    return Episode(policy, np.arange(params.T), reward=rewards, start_book=start,
                   end_book=_book_from_state(top, vols), **columns)
