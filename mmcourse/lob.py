"""A Markov-chain limit order book and a market maker that learns its quote depths.

The book (Hult & Kiessling; the "MC model" of Carlsson & Regnell, 2022) is the best ask a,
the spread s = a − b and, for j = 1…L, the sell volume at b + j and the buy volume at a − j:
each side is indexed from the *opposite* best price, so the levels inside the spread are part
of the window and empty. Outside the window every price level holds ``outside_volume`` units.
Six competing exponential clocks move the book: limit buys at a − i and limit sells at b + i
(rate λ_i), cancellations of one unit at a − i or b + i (rate θ_i × the other traders' volume
there), and market sells/buys at the best bid/ask (rate μ, only if that price has volume).

A market maker quotes depths (d_b, d_a) ∈ {1…D}² from the opposite best price at the start
of each step t = 0…T−2, is first in the queue at its prices, and cancels what is left at the
end of the step; at t = T−1 it liquidates its inventory by walking the book. With cash X_t,
inventory Q_t and H_t what liquidating Q_t would bring, its value is V_t = X_t + H_t and its
reward r_t = V_t − V_{t−1} − φ Q_t², so an episode's total reward is its final cash (φ = 0).
Tabular Q-learning (γ = 1) learns Q((time bucket, inventory bucket), (d_b, d_a)).

The rules are those of ``shared/spec/lob-markov-chain.md``. Choices the spec leaves open:

* **Exact continuous time.** In each step the next event comes after an Exp(R) wait, R the
  total rate, and is chosen with probability rate / R by one uniform: first the type (in the
  order of :data:`EVENT_TYPES`), then the level by cumulative rates. The event that would
  cross the end of the step is not executed.
* **Sizes.** Limit orders: geometric with P(k) ∝ e^{−0.5667 k}, redrawn until k ≤ L. Market
  orders: geometric with 0.4955, redrawn until no larger than the volume at the best price
  (the market maker's included): market orders never walk the book.
* **Empty side.** If the last unit of one side of the window goes, that side's best price
  moves to the first level beyond the window, L + 1 ticks from the opposite best price, which
  like every outside level holds ``outside_volume``. Both windows then lie inside the spread,
  so they are empty (the thesis code's "reset of both sides") and only limit orders can
  arrive until one of them lands inside the spread. A market maker's order whose price is
  pushed out of the window by a price move is forgotten with its level (cancelled).
* **The market maker's orders** sit in the book (they count for the market-order size and
  can make their price the best price) but are never cancelled by other traders: θ_i
  multiplies only the other traders' volume. At the end of a step the bid remainder is
  cancelled first, then the ask remainder.
* **Liquidation** at t = T−1 sells (buys) unit by unit at the best price, then at worse
  prices, ``outside_volume`` units per tick beyond the window; the book keeps what the walk
  did (if it walks past the window the book is left with that side empty). The valuation
  H_t walks the same book without changing it, so the last step's reward is exactly
  −φ·0 = 0 and V_T = X_T.
* **Starting book.** Unless a fixed :class:`Book` is given, a background book starts from
  :meth:`Book.simple` (spread 1, one unit on every level) and runs without the market maker
  for ``burn_in`` = 2,000 time units (≈ 9,500 events; the volumes 6…10 levels deep, which
  move only when the window shifts, need ≈ 1,000 to forget the simple book, the spread and
  the first five levels ≈ 50). The first episode starts from it; before each further
  episode (of one call of :func:`evaluate_strategy` or :func:`q_learning`) the background
  book runs alone another ``start_gap`` = 10 time units (≈ 48 events). Episodes thus start
  from the chain's long-run behaviour; consecutive starting books share much of their
  volume, but the episodes' rewards are uncorrelated (lag-1…10 autocorrelations within
  ±0.02 over 20,000 episodes even with a gap of 2; see the tests).
  :func:`simulate_book` and :func:`simulate_episode` start right after the burn-in.
* **Buckets.** Time bucket ⌊t · num_time_buckets / T⌋; inventory bucket ⌈Q/κ⌉ (Q > 0),
  ⌊Q/κ⌋ (Q < 0), clipped to ±num_inventory_buckets. Action index (d_b − 1)·D + (d_a − 1).
* **Q-learning.** ε and α are constant within an episode; ε-greedy draws one uniform per
  decision (then a uniform action if exploring); greedy ties go to the lowest action
  index. The last decision (t = T−2) is updated with target r_{T−2}: the liquidation step
  that follows brings reward 0 by construction.

Prices, volumes, cash and values are integers; rewards are floats (exact integers when φ = 0).
The hot loops are plain loops compiled with numba (``nogil``, so independent runs can use
threads); every random result takes a seed and draws from its own ``numpy`` Generator,
whose PCG64 stream the compiled loops advance inline (:mod:`mmcourse._pcg64`: the same
numbers as ``Generator.random()``, ``.exponential()`` and ``.geometric()``, without a call
into numpy's C library per number).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit

from mmcourse import _pcg64
from mmcourse._util import check_int, check_real, lazy_pandas, make_rng
from mmcourse.estimates import Estimate

pd = lazy_pandas()  # pandas (~30 MB) loads on first use: the simulations never need it

__all__ = [
    "LOBParams", "Book", "EVENT_TYPES", "apply_event", "BookSimulation", "simulate_book",
    "ConstantStrategy", "RandomStrategy", "GreedyStrategy", "constant_strategy",
    "random_strategy", "Episode", "simulate_episode", "evaluate_strategy",
    "epsilon_schedule", "alpha_schedule", "QLearningResult", "q_learning",
    "ComparisonResult", "run_comparison", "default_benchmarks",
]

#: The six event types, in the order of their codes 0…5.
EVENT_TYPES = ("limit_buy", "limit_sell", "cancel_buy", "cancel_sell", "market_sell", "market_buy")
LIMIT_BUY, LIMIT_SELL, CANCEL_BUY, CANCEL_SELL, MARKET_SELL, MARKET_BUY = range(6)

# Slots of the small state arrays the compiled code passes around.
ASK, SPREAD = 0, 1                                   # top = [best ask a, spread s]
BID_PRICE, BID_LEFT, ASK_PRICE, ASK_LEFT = 0, 1, 2, 3  # mm = the market maker's resting orders
BOUGHT, BUY_CASH, SOLD, SELL_CASH = 0, 1, 2, 3       # fills = volumes and Σ price × volume

# The compiled functions release the GIL (independent runs can share the cores), are cached
# on disk, and run without numba's reference counting: they allocate nothing (the Python
# wrappers pass in every array), and the atomic reference-count updates on each call would
# otherwise double the time per book event.
_kernel = njit(cache=True, nogil=True, _nrt=False, error_model="numpy")
# The helpers of each event and each step are inlined into the loops that call them by
# numba itself (``_inline``): LLVM would leave them as calls, each passing every array and
# the parameters field by field, and the loops would take twice as long. numba's inlining
# is slow to compile, though (each inlined copy of the event adds seconds), so helpers
# outside the hot path are plain functions (``_small``), and the chain that runs once per
# episode is called, not inlined (:func:`_run_alone`). Compiling everything takes ≈ 40 s,
# once: the result is cached on disk.
_inline = njit(cache=True, nogil=True, _nrt=False, error_model="numpy", inline="always")
_small = njit(cache=True, nogil=True, _nrt=False, error_model="numpy")

# Columns of an episode's per-step record.
_EPISODE_COLUMNS = ("bid", "ask", "bid_depth", "ask_depth", "bid_quote", "ask_quote",
                    "bought", "sold", "cash", "inventory", "value", "n_events")
(_C_BID, _C_ASK, _C_BID_DEPTH, _C_ASK_DEPTH, _C_BID_QUOTE, _C_ASK_QUOTE,
 _C_BOUGHT, _C_SOLD, _C_CASH, _C_INVENTORY, _C_VALUE, _C_EVENTS) = range(len(_EPISODE_COLUMNS))
_N_COLUMNS = len(_EPISODE_COLUMNS)


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------

def _check_rates(name: str, rates, num_levels: int, positive_sum: bool) -> tuple[float, ...]:
    try:
        values = tuple(rates)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of rates ≥ 0, got {rates!r}") from None
    if len(values) == 0:
        raise ValueError(f"{name} must hold at least one rate ≥ 0, got {rates!r}")
    values = tuple(check_real(f"{name}[{i}]", v, low=0.0) for i, v in enumerate(values))
    last = max((i + 1 for i, v in enumerate(values) if v > 0), default=0)
    if last > num_levels:
        raise ValueError(f"{name} has a nonzero rate at distance {last} > num_levels = {num_levels}; "
                         f"num_levels must be ≥ {last}")
    if positive_sum and last == 0:
        raise ValueError(f"{name} must have at least one rate > 0, got {rates!r}")
    return values


class _Model(NamedTuple):
    """The parameters as the compiled code reads them (rates 1-based: theta[i] = θ_i;
    lam_cum[i] = λ_1 + … + λ_i, added in that order, and lam_total = lam_cum[n_lam];
    limit_cdf[k] = P(limit size ≤ k) before truncation, k = 1…L, see :func:`_limit_cdf`)."""
    theta: np.ndarray
    lam_cum: np.ndarray
    limit_cdf: np.ndarray
    lam_total: float
    n_lam: int
    n_theta: int
    mu: float
    p_limit: float
    p_market: float
    levels: int
    outside: int
    dt: float
    T: int
    order_size: int
    max_depth: int
    kappa: int
    n_inv: int
    n_time: int
    phi: float


@dataclass(frozen=True)
class LOBParams:
    """The book's rates and the market maker's setting; defaults are the seed's and the spec's.

    ``limit_rates`` are λ_1, λ_2, … and ``cancel_rates`` θ_1, θ_2, … (zero beyond the tuple),
    ``market_rate`` is μ; the limit (market) order size is geometric with
    P(k) ∝ exp(−k · ``limit_size_decay``) (``market_size_decay``). ``num_levels`` = L,
    ``max_quote_depth`` = D, ``default_order_size`` = the market maker's order size,
    ``num_inventory_buckets`` = the clip of the inventory bucket on each side, ``phi`` = φ.
    ``start_price`` is the best ask of :meth:`Book.simple`; ``burn_in`` is how long the book
    runs alone from it before the first episode, ``start_gap`` how long it runs alone between
    two episodes' starting books (see the module docstring; unused when a book is given).
    """

    dt: float = 1.0
    T: int = 100
    num_time_buckets: int = 100
    kappa: int = 3
    num_levels: int = 10
    default_order_size: int = 5
    max_quote_depth: int = 5
    limit_rates: tuple = (0.13860, 0.17725, 0.22445, 0.14340, 0.05625)
    cancel_rates: tuple = (0.12975, 0.11055, 0.05360, 0.04925, 0.04225)
    market_rate: float = 0.0467
    limit_size_decay: float = 0.5667
    market_size_decay: float = 0.4955
    outside_volume: int = 1
    phi: float = 0.0
    num_inventory_buckets: int = 3
    start_price: int = 10_000
    burn_in: float = 2000.0
    start_gap: float = 10.0

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        put("dt", check_real("dt", self.dt, low=0.0, low_open=True))
        put("T", check_int("T", self.T, low=2))
        put("num_time_buckets", check_int("num_time_buckets", self.num_time_buckets, 1, self.T))
        put("kappa", check_int("kappa", self.kappa, low=1))
        put("num_levels", check_int("num_levels", self.num_levels, low=2))
        put("default_order_size", check_int("default_order_size", self.default_order_size, low=1))
        put("max_quote_depth", check_int("max_quote_depth", self.max_quote_depth, 1, self.num_levels - 1))
        put("limit_rates", _check_rates("limit_rates", self.limit_rates, self.num_levels, True))
        put("cancel_rates", _check_rates("cancel_rates", self.cancel_rates, self.num_levels, False))
        put("market_rate", check_real("market_rate", self.market_rate, low=0.0))
        put("limit_size_decay", check_real("limit_size_decay", self.limit_size_decay, low=0.0, low_open=True))
        put("market_size_decay", check_real("market_size_decay", self.market_size_decay, low=0.0, low_open=True))
        put("outside_volume", check_int("outside_volume", self.outside_volume, low=1))
        put("phi", check_real("phi", self.phi, low=0.0))
        put("num_inventory_buckets", check_int("num_inventory_buckets", self.num_inventory_buckets, low=0))
        put("start_price", check_int("start_price", self.start_price))
        put("burn_in", check_real("burn_in", self.burn_in, low=0.0))
        put("start_gap", check_real("start_gap", self.start_gap, low=0.0))

    @property
    def num_actions(self) -> int:
        """D², the number of depth pairs (d_b, d_a)."""
        return self.max_quote_depth ** 2

    @property
    def num_inventory_bucket_values(self) -> int:
        """2 · num_inventory_buckets + 1, the inventory buckets −c…c."""
        return 2 * self.num_inventory_buckets + 1

    def rates_by_level(self) -> pd.DataFrame:
        """λ_i and θ_i for i = 1…L (zeros beyond the given rates)."""
        lam, theta = _padded(self.limit_rates, self.num_levels), _padded(self.cancel_rates, self.num_levels)
        return pd.DataFrame({"limit_rate": lam[1:], "cancel_rate": theta[1:]},
                            index=pd.RangeIndex(1, self.num_levels + 1, name="distance"))

    def _model(self) -> _Model:
        lam = _padded(self.limit_rates, self.num_levels)
        theta = _padded(self.cancel_rates, self.num_levels)
        lam_cum = np.zeros_like(lam)
        lam_total = 0.0
        for i in range(1, _last_nonzero(lam) + 1):   # the reference's order
            lam_total += float(lam[i])
            lam_cum[i] = lam_total
        p_limit = 1.0 - math.exp(-self.limit_size_decay)
        return _Model(theta, lam_cum, _limit_cdf(p_limit, self.num_levels), lam_total,
                      _last_nonzero(lam), _last_nonzero(theta), self.market_rate,
                      p_limit, 1.0 - math.exp(-self.market_size_decay),
                      self.num_levels, self.outside_volume, self.dt, self.T, self.default_order_size,
                      self.max_quote_depth, self.kappa, self.num_inventory_buckets,
                      self.num_time_buckets, self.phi)


def _limit_cdf(p: float, L: int) -> np.ndarray:
    """P(size ≤ k), k = 1…L, of a geometric(p) size, each added as numpy's search for
    Generator.geometric(p) adds it (so the compiled code can count instead of search and
    still draw the same sizes); all zero when p < 1/3, where numpy inverts instead."""
    cdf = np.zeros(L + 1)
    if p >= _pcg64.SEARCH_MIN_P:
        total = prod = p
        q = 1.0 - p
        cdf[1] = total
        for k in range(2, L + 1):
            prod *= q
            total += prod
            cdf[k] = total
    return cdf


def _padded(rates, L) -> np.ndarray:
    out = np.zeros(L + 1)
    values = np.asarray(rates, dtype=float)[:L]
    out[1:1 + values.size] = values
    return out


def _last_nonzero(rates: np.ndarray) -> int:
    nonzero = np.flatnonzero(rates)
    return int(nonzero[-1]) if nonzero.size else 0


def _check_params(params) -> LOBParams:
    if params is None:
        return LOBParams()
    if not isinstance(params, LOBParams):
        raise ValueError(f"params must be a LOBParams or None, got {type(params).__name__}")
    return params


# --------------------------------------------------------------------------------------
# The book as a value
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Book:
    """One state of the book: best ask a, spread s, and volumes by distance j = 1…L.

    ``bid_volumes[j − 1]`` is the buy volume at a − j, ``ask_volumes[j − 1]`` the sell volume
    at b + j; levels inside the spread hold 0. ``spread = L + 1`` means both windows are empty
    (a side ran out and its price jumped to the first level beyond the window).
    """

    ask: int
    spread: int
    bid_volumes: tuple
    ask_volumes: tuple

    def __post_init__(self):
        object.__setattr__(self, "ask", check_int("ask", self.ask))
        bid = tuple(check_int("bid_volumes", v, low=0) for v in self.bid_volumes)
        ask = tuple(check_int("ask_volumes", v, low=0) for v in self.ask_volumes)
        L = len(bid)
        if L < 2 or len(ask) != L:
            raise ValueError(f"bid_volumes and ask_volumes must have the same length L ≥ 2, "
                             f"got {len(bid)} and {len(ask)}")
        s = check_int("spread", self.spread, 1, L + 1)
        for side, vol in (("bid_volumes", bid), ("ask_volumes", ask)):
            if any(vol[: s - 1]):
                raise ValueError(f"{side}: the levels inside the spread (distances 1…{s - 1}) must be empty")
            if s <= L and vol[s - 1] == 0:
                raise ValueError(f"{side}: the best price (distance {s}) must hold volume")
        object.__setattr__(self, "spread", s)
        object.__setattr__(self, "bid_volumes", bid)
        object.__setattr__(self, "ask_volumes", ask)

    @classmethod
    def simple(cls, num_levels: int = 10, ask: int = 10_000, volume: int = 1) -> Book:
        """Spread 1 and ``volume`` units on every level: the burn-in's starting point."""
        L = check_int("num_levels", num_levels, low=2)
        volume = check_int("volume", volume, low=1)
        return cls(ask, 1, (volume,) * L, (volume,) * L)

    @property
    def num_levels(self) -> int:
        """L, the number of levels on each side of the window."""
        return len(self.bid_volumes)

    @property
    def bid(self) -> int:
        """The best bid b = a − s."""
        return self.ask - self.spread

    @property
    def mid(self) -> float:
        """(a + b) / 2."""
        return self.ask - self.spread / 2

    @property
    def best_bid_volume(self) -> int:
        """Volume at the best bid (0 if it lies beyond the window)."""
        return self.bid_volumes[self.spread - 1] if self.spread <= self.num_levels else 0

    @property
    def best_ask_volume(self) -> int:
        """Volume at the best ask (0 if it lies beyond the window)."""
        return self.ask_volumes[self.spread - 1] if self.spread <= self.num_levels else 0

    def to_frame(self) -> pd.DataFrame:
        """One row per price in the window: price, side ("bid"/"ask"), distance, volume."""
        L = self.num_levels
        rows = [(self.ask - j, "bid", j, self.bid_volumes[j - 1]) for j in range(L, 0, -1)]
        rows += [(self.bid + j, "ask", j, self.ask_volumes[j - 1]) for j in range(1, L + 1)]
        return pd.DataFrame(rows, columns=["price", "side", "distance", "volume"])

    def _state(self):
        """The book as the compiled code holds it: top = [a, s] and vols (2 × (L + 1)),
        vols[0, j] the bid volume and vols[1, j] the ask volume at distance j."""
        top = np.array([self.ask, self.spread], dtype=np.int64)
        vols = np.zeros((2, self.num_levels + 1), dtype=np.int64)
        vols[0, 1:] = self.bid_volumes
        vols[1, 1:] = self.ask_volumes
        return top, vols



def _book_from_state(top, vols) -> Book:
    return Book(int(top[ASK]), int(top[SPREAD]), tuple(int(v) for v in vols[0, 1:]),
                tuple(int(v) for v in vols[1, 1:]))


def _scratch(vols):
    """Work space of the compiled loops for a book with volumes ``vols``: the market maker's
    orders (none), the partial sums of the cancellation rates, its fills."""
    return np.zeros(4, dtype=np.int64), np.zeros(vols.shape), np.zeros(4, dtype=np.int64)


def _work(params: LOBParams):
    """Work space of the compiled episode loops: top, volumes, and :func:`_scratch`."""
    vols = np.zeros((2, params.num_levels + 1), dtype=np.int64)
    return (np.zeros(2, dtype=np.int64), vols, *_scratch(vols))


def _background(params: LOBParams, start_book, rng):
    """The book that episodes start from, and how long it runs alone between two episodes.

    Without ``start_book``: the simple book run alone for ``burn_in`` (drawing from ``rng``),
    then ``start_gap`` between episodes. With one: that book, every episode.
    """
    if start_book is None:
        top, vols = Book.simple(params.num_levels, params.start_price)._state()
        if params.burn_in > 0:
            mm, cum, fills = _scratch(vols)
            with _pcg64.stream(rng) as g:
                _run_alone(g, params._model(), top, vols, mm, cum, params.burn_in, fills)
        return top, vols, params.start_gap
    if not isinstance(start_book, Book):
        raise ValueError(f"start_book must be a Book or None, got {type(start_book).__name__}")
    if start_book.num_levels != params.num_levels:
        raise ValueError(f"start_book has {start_book.num_levels} levels, params.num_levels = "
                         f"{params.num_levels}")
    return (*start_book._state(), 0.0)


# --------------------------------------------------------------------------------------
# Compiled book: the window shifts and the ways the volume changes
# --------------------------------------------------------------------------------------
#
# The compiled code holds the book as ``top`` = [a, s] and ``vols`` (2 × (L + 1)):
# vols[0, j] is the buy volume at a − j and vols[1, j] the sell volume at b + j (column 0
# unused). The two sides mirror each other, so one piece of code serves both, with
# side = 0 (bid) or 1 (ask), the low bit of the event codes of :data:`EVENT_TYPES`, as an
# index rather than a branch: the side of the next event is a coin flip, and a branch on
# it would be mispredicted at every other event. Only the best ask a is stored, so a
# price move on the ask side moves a: ``top[ASK] += side * ticks``.

@_small
def _shift_closer(vols, side, ticks, L, outside):
    """The opposite best price moved ``ticks`` towards this side: distances shrink by
    ``ticks``, and the levels entering the window at the far end bring ``outside`` units."""
    for j in range(1, L + 1):
        vols[side, j] = vols[side, j + ticks] if j + ticks <= L else outside


@_small
def _shift_away(vols, side, ticks, L):
    """The opposite best price moved ``ticks`` away: distances grow by ``ticks``, levels
    beyond L are forgotten, and the first ``ticks`` levels (now in the spread) are empty."""
    for j in range(L, 0, -1):
        vols[side, j] = vols[side, j - ticks] if j > ticks else 0


@_inline
def _add(top, vols, side, j, v, L, outside):
    """v units at distance j on ``side`` (0: buy volume at a − j, 1: sell volume at b + j);
    inside the spread they make a new best price, and the other side's window moves closer.
    Returns whether the best price moved."""
    vols[side, j] += v
    s = top[SPREAD]
    if j < s:
        _shift_closer(vols, 1 - side, s - j, L, outside)
        top[ASK] -= side * (s - j)                  # a new best ask moves a
        top[SPREAD] = j
        return True
    return False


@_small
def _next_volume(vols, side, s, L, j_mm):
    """The distance of the first level beyond s on ``side`` that holds volume, or holds
    the market maker's order (at j_mm; −1 if none); L + 1 if there is none in the window."""
    k = s + 1
    while k <= L and vols[side, k] == 0 and k != j_mm:
        k += 1
    return k


@_small
def _move_away(top, vols, side, k, L):
    """This side's best price moves from distance s to k (its level emptied): the other
    side's window moves away with it."""
    s = top[SPREAD]
    _shift_away(vols, 1 - side, k - s, L)
    top[ASK] += side * (k - s)                      # a best ask that empties moves a up
    top[SPREAD] = k


@_inline
def _remove(top, vols, side, j, v, L):
    """Take v units from distance j on ``side``; if that empties the best price, it moves
    away to the next volume (or to the first level beyond the window). Returns whether the
    best price moved."""
    vols[side, j] -= v
    s = top[SPREAD]
    if (j == s) & (vols[side, j] == 0):              # `&`: one branch, rarely taken
        _move_away(top, vols, side, _next_volume(vols, side, s, L, -1), L)
        return True
    return False


@_small
def _apply(top, vols, event, j, size, L, outside):
    """One event of the chain on the book (j = distance; for market orders j = s)."""
    side = event & 1
    if event < CANCEL_BUY:
        _add(top, vols, side, j, size, L, outside)
    else:
        _remove(top, vols, side, j, size, L)


# --------------------------------------------------------------------------------------
# Compiled chain: rates, one event, a stretch of time
# --------------------------------------------------------------------------------------
#
# Inside the event loop the market maker's resting orders are kept *out* of ``vols``:
# the volumes there are the other traders', which is what can be cancelled, and ``mm``
# holds the orders' prices and what is left of them (mm[2·side] the price, mm[2·side + 1]
# the units left). Outside the loop, and in a :class:`Book`, a level's volume includes the
# market maker's. Where the rules need a level's whole volume — the size of a market
# order, and whether the best price emptied — the order is counted in.
#
# The cancellation rates of a side change only when its volumes do, so each side's partial
# sums θ_1·v_1, θ_1·v_1 + θ_2·v_2, … are kept in ``cum[side]`` (work space) and recomputed
# after an event for the side(s) that changed, always from 0.0 in the same order: the sums,
# hence every decision taken from them, are bit for bit those of the reference, which
# recomputes everything at every event. (Recomputing only from the level that changed
# measured slower: the loop's varying length is mispredicted.) Whatever changes ``vols``
# outside the event loop refreshes ``cum`` too, so that it matches ``vols`` when the loop
# starts.

@_inline
def _cancel_sums(m, vols, cum, side):
    """cum[side, i] = θ_1 × vols[side, 1] + … + θ_i × vols[side, i], i = 1…n_θ, added in
    that order."""
    acc = 0.0
    for i in range(1, m.n_theta + 1):
        acc += m.theta[i] * vols[side, i]
        cum[side, i] = acc


@_inline
def _refresh(m, vols, cum):
    """Both sides' partial sums, after ``vols`` changed outside the event loop."""
    _cancel_sums(m, vols, cum, 0)
    _cancel_sums(m, vols, cum, 1)


@_inline
def _order_distance(top, mm, side):
    """The distance of the market maker's order on ``side`` from the opposite best price
    (a − price for its bid, price − b for its ask); −1 if nothing is left of it."""
    d = top[ASK] - mm[2 * side] if side == 0 else mm[2 * side] - (top[ASK] - top[SPREAD])
    return d if mm[2 * side + 1] > 0 else -1


@_inline
def _take(top, vols, mm, side, j, v, L):
    """Take v units of the other traders' volume at distance j on ``side``. If that leaves
    the best price empty (no other volume and no market maker's order there), it moves away
    to the next level holding either, and a resting order pushed out of the window is
    forgotten with its level. Returns whether the best price moved."""
    vols[side, j] -= v
    s = top[SPREAD]
    if (j == s) & (vols[side, j] == 0):              # `&`: one branch, rarely taken
        j_mm = _order_distance(top, mm, side)
        if j_mm != s:
            _move_away(top, vols, side, _next_volume(vols, side, s, L, j_mm), L)
            for o in range(2):
                if _order_distance(top, mm, o) > L:
                    mm[2 * o + 1] = 0
            return True
    return False


@_inline
def _choose_type(m, u, cancel_buy, cancel_sell, market):
    """The event type for u uniform on [0, R), and what is left of u to choose its level
    (``market`` is the rate of each of the two market order types, μ or 0).

    Type k is the first whose rate exceeds u_k = u minus the rates of the types before it,
    subtracted one by one in the order of :data:`EVENT_TYPES` as the reference does. Once
    u_k falls below type k's rate, u_{k+1} = u_k − rate_k < 0 and so are all later ones
    (rates are ≥ 0), so the type is simply the number of k with u_k ≥ rate_k, and what is
    left of u is the last u_k ≥ 0. Both are computed without branches (the type is random:
    a branch on it would often be mispredicted); market orders, and rounding that left u ≥ R
    with no market order, take the rare branch.
    """
    lam = m.lam_total
    u1 = u - lam
    u2 = u1 - lam
    u3 = u2 - cancel_buy
    u4 = u3 - cancel_sell
    event = np.int64(u >= lam) + np.int64(u1 >= lam) + np.int64(u2 >= cancel_buy) \
        + np.int64(u3 >= cancel_sell)
    left = u1 if u1 >= 0.0 else u                    # selects on comparisons of floats
    left = u2 if u2 >= 0.0 else left                 # compile to blends, not branches
    left = u3 if u3 >= 0.0 else left
    if event == MARKET_SELL:
        if market == 0.0:                            # rounding: the last type with a rate
            if cancel_sell > 0.0:
                event, left = CANCEL_SELL, cancel_sell
            elif cancel_buy > 0.0:
                event, left = CANCEL_BUY, cancel_buy
            else:
                event, left = LIMIT_SELL, lam
        elif u4 >= market:
            event = MARKET_BUY
    return event, left


@_inline
def _pick_limit(m, u):
    """The distance i of a limit order, given u uniform on [0, Σ λ): the first i with
    u < λ_1 + … + λ_i (``lam_cum``), i.e. one more than the number of partial sums ≤ u
    (they never decrease), counted without branches."""
    below = 0
    for i in range(1, m.n_lam + 1):
        below += m.lam_cum[i] <= u
    return min(below + 1, m.n_lam)


@_inline
def _pick_cancel(m, vols, cum, side, u):
    """The distance i of a cancellation on ``side``, given u uniform on [0, Σ θ_i · v_i):
    the first i whose partial sum exceeds u, counted like :func:`_pick_limit`; if rounding
    left u beyond them all, the last level with a rate."""
    n = m.n_theta
    below = 0
    for i in range(1, n + 1):
        below += cum[side, i] <= u
    if below < n:
        return below + 1
    for i in range(n, 0, -1):
        if m.theta[i] * vols[side, i] > 0.0:
            return i
    return 1


@_small
def _geometric_at_most(rng, p, most):
    """geometric(p), redrawn until ≤ ``most``."""
    k = _pcg64.geometric(rng, p)
    while k > most:
        k = _pcg64.geometric(rng, p)
    return k


@_inline
def _limit_size(rng, m):
    """A limit order's size: geometric(p_limit), redrawn until ≤ L. For p ≥ 1/3 numpy's
    geometric searches k = 1, 2, … for the first P(size ≤ k) ≥ u, one uniform u; that k is
    1 + the number of P(size ≤ k) < u, counted here without branches (a search's exit,
    at a random k, would be mispredicted), k > L meaning redraw."""
    L = m.levels
    if m.limit_cdf[1] > 0.0:
        while True:
            u = _pcg64.random(rng)
            k = 1
            for i in range(1, L + 1):
                k += u > m.limit_cdf[i]
            if k <= L:
                return k
    return _geometric_at_most(rng, m.p_limit, L)


@_inline
def _event(rng, m, top, vols, mm, cum, fills, u, market):
    """One event for u uniform on [0, R) (``market`` = the rate of each market order):
    choose it, draw its size, fill the market maker first at its price, update the book
    and the partial sums of the cancellation rates. Returns the event type."""
    L = m.levels
    n = m.n_theta
    event, left = _choose_type(m, u, cum[0, n], cum[1, n], market)
    side = event & 1                                 # 0: the bid side, 1: the ask side
    if event < CANCEL_BUY:                           # a limit order
        j = _pick_limit(m, left)
        moved = _add(top, vols, side, j, _limit_size(rng, m), L, m.outside)
    elif event < MARKET_SELL:                        # a cancellation of one unit
        j = _pick_cancel(m, vols, cum, side, left)
        moved = _take(top, vols, mm, side, j, 1, L)
    else:                                            # a market order at the best price
        j = top[SPREAD]
        price = top[ASK] - (1 - side) * j            # the best bid, or the best ask
        mine = mm[2 * side + 1] if mm[2 * side] == price else 0
        size = _geometric_at_most(rng, m.p_market, vols[side, j] + mine)   # ≤ the level
        fill = min(size, mine)                       # the market maker is first
        mm[2 * side + 1] -= fill
        fills[BOUGHT + 2 * side] += fill             # a market sell buys from its bid
        fills[BUY_CASH + 2 * side] += fill * price
        moved = _take(top, vols, mm, side, j, size - fill, L)
    _cancel_sums(m, vols, cum, side)
    if moved:                                        # the other side's window moved too
        _cancel_sums(m, vols, cum, 1 - side)
    return event


@_inline
def _market_rate(m, top):
    """μ, the rate of each market order, while the best prices lie in the window (where
    they always hold volume); 0 when the spread spans the window."""
    return m.mu if top[SPREAD] <= m.levels else 0.0


@_inline
def _total_rate(m, cum, market):
    """R, the six types' rates added in the order of :data:`EVENT_TYPES`."""
    n = m.n_theta
    return m.lam_total + m.lam_total + cum[0, n] + cum[1, n] + market + market


@_inline
def _chain(rng, m, top, vols, mm, cum, duration, fills):
    """Run the book for ``duration`` time units with the orders ``mm`` resting outside
    ``vols`` and ``cum`` matching ``vols`` (see above). Returns the number of events."""
    tau = 0.0
    n = 0
    while True:
        market = _market_rate(m, top)
        rate = _total_rate(m, cum, market)
        tau += _pcg64.exponential(rng, 1.0 / rate)
        if tau >= duration:                          # this event would cross the end
            return n
        _event(rng, m, top, vols, mm, cum, fills, _pcg64.random(rng) * rate, market)
        n += 1


@_kernel
def _run_alone(rng, m, top, vols, mm, cum, duration, fills):
    """The book with no order of the market maker resting in it, for ``duration`` (``cum``
    is work space, filled from ``vols`` first). Returns the number of events.

    :func:`_chain` as a function of its own, for the calls made once per episode or less
    (numba inlines the market maker's steps' chain into the episode loops; inlining every
    other call as well would multiply the compilation time)."""
    _refresh(m, vols, cum)
    return _chain(rng, m, top, vols, mm, cum, duration, fills)


@_small
def _snapshot(top, vols, L, k, rec_top, rec_bid, rec_ask):
    """Row k of the book's recorded path: a, s and the volumes."""
    rec_top[k, 0] = top[ASK]
    rec_top[k, 1] = top[SPREAD]
    for j in range(1, L + 1):
        rec_bid[k, j - 1] = vols[0, j]
        rec_ask[k, j - 1] = vols[1, j]


@_kernel
def _run_book(rng, m, top, vols, mm, cum, fills, duration, grid, counts, spread_time,
              spread_events, bid_time, ask_time, rec_top, rec_bid, rec_ask):
    """The book alone (no orders in ``mm``) for ``duration``, counting events by type and
    by the spread just before them, the time spent at each spread, the time-integrated
    volumes, and the book at the times in ``grid``."""
    L = m.levels
    _refresh(m, vols, cum)
    tau = 0.0
    k = 0
    n = 0
    while True:
        market = _market_rate(m, top)
        rate = _total_rate(m, cum, market)
        t_next = min(tau + _pcg64.exponential(rng, 1.0 / rate), duration)
        while k < grid.size and grid[k] < t_next:   # the book is constant on [tau, t_next)
            _snapshot(top, vols, L, k, rec_top, rec_bid, rec_ask)
            k += 1
        held = t_next - tau
        spread_time[top[SPREAD]] += held
        for j in range(1, L + 1):
            bid_time[j] += held * vols[0, j]
            ask_time[j] += held * vols[1, j]
        if t_next >= duration:
            break
        tau = t_next
        spread_events[top[SPREAD]] += 1
        counts[_event(rng, m, top, vols, mm, cum, fills, _pcg64.random(rng) * rate, market)] += 1
        n += 1
    while k < grid.size:                             # grid points at the very end
        _snapshot(top, vols, L, k, rec_top, rec_bid, rec_ask)
        k += 1
    return n


# --------------------------------------------------------------------------------------
# Compiled market maker: one step, liquidation, valuation, episodes, Q-learning
# --------------------------------------------------------------------------------------

@_small
def _uniform_int(rng, n):
    """⌊U·n⌋ for U uniform on [0, 1): uniform on {0, …, n−1}."""
    return int(_pcg64.random(rng) * n)


@_inline
def _inventory_bucket(q, kappa, n_inv):
    """⌈Q/κ⌉ for Q > 0, ⌊Q/κ⌋ for Q < 0, clipped to ±n_inv."""
    if q > 0:
        return min((q + kappa - 1) // kappa, n_inv)
    if q < 0:
        return max(q // kappa, -n_inv)
    return 0


@_inline
def _next_bucket(tb, tb_left, m):
    """The time bucket ⌊(t + 1) · n_time / T⌋ from tb = ⌊t · n_time / T⌋ and
    tb_left = t · n_time − tb · T, without a division (n_time ≤ T: one step at most)."""
    tb_left += m.n_time
    if tb_left >= m.T:
        return tb + 1, tb_left - m.T
    return tb, tb_left


@_inline
def _clear(fills):
    """Zero the four fill counters (written out: a loop would become a call to memset)."""
    fills[BOUGHT] = 0
    fills[BUY_CASH] = 0
    fills[SOLD] = 0
    fills[SELL_CASH] = 0


@_inline
def _market_maker_step(rng, m, top, vols, mm, cum, d_b, d_a, fills):
    """Quote at depths (d_b, d_a) from the opposite best prices, let the book run for dt,
    cancel what is left. Returns the number of book events."""
    L = m.levels
    s = top[SPREAD]
    if s >= d_b + d_a:                               # widen: the quotes may not cross or lock
        grow = (s - d_b - d_a + 2) // 2
        d_b += grow
        d_a += grow
    a = top[ASK]
    b = a - s
    mm[BID_PRICE] = a - d_b
    mm[BID_LEFT] = m.order_size
    mm[ASK_PRICE] = b + d_a
    mm[ASK_LEFT] = m.order_size
    # the orders rest outside vols while the book runs (see _chain), but a quote inside
    # the spread makes a new best price at once
    moved = _add(top, vols, 0, d_b, 0, L, m.outside)
    moved |= _add(top, vols, 1, mm[ASK_PRICE] - (top[ASK] - top[SPREAD]), 0, L, m.outside)
    if moved:
        _refresh(m, vols, cum)
    n = _chain(rng, m, top, vols, mm, cum, m.dt, fills)
    for side in range(2):                            # cancel the remainders, bid first: a
        j = _order_distance(top, mm, side)           # best price held only by the order
        if 1 <= j <= L:                              # moves away (an order pushed out of
            mm[2 * side + 1] = 0                     # the window left with its level)
            if _remove(top, vols, side, j, 0, L):
                _refresh(m, vols, cum)
        mm[2 * side + 1] = 0
    return n


@_inline
def _liquidation_value(m, top, vols, q):
    """H: the cash selling q > 0 (minus the cost of buying −q for q < 0) would bring by
    walking the book, ``outside_volume`` units per tick beyond the window. The book is not
    changed."""
    if q == 0:
        return 0
    L = m.levels
    side = 0 if q > 0 else 1                         # sell into the bids, buy the asks
    left = abs(q)
    j = top[SPREAD]
    if j <= L and left <= vols[side, j]:             # the best price takes it all (mostly)
        return q * (top[ASK] - j) if q > 0 else q * (top[ASK] - top[SPREAD] + j)
    cash = 0
    while left > 0:
        take = min(left, vols[side, j] if j <= L else m.outside)
        cash += take * (top[ASK] - j if q > 0 else top[ASK] - top[SPREAD] + j)
        left -= take
        j += 1
    return cash if q > 0 else -cash


@_inline
def _settle(m, top, vols, fills, x, q, v_prev):
    """The step's fills booked: cash X and inventory Q, the value V = X + H(Q) and the
    reward r = V − V_prev − φQ². Returns (X, Q, V, r)."""
    x += fills[SELL_CASH] - fills[BUY_CASH]
    q += fills[BOUGHT] - fills[SOLD]
    v = x + _liquidation_value(m, top, vols, q)
    return x, q, v, float(v - v_prev) - m.phi * q * q


@_small
def _liquidate(m, top, vols, q, fills):
    """Trade the inventory q away against the book, best price first; beyond the window at
    ``outside_volume`` units per tick (the book then keeps that side empty)."""
    L = m.levels
    side = 0 if q > 0 else 1                         # sell into the bids, or buy the asks
    f = SOLD if q > 0 else BOUGHT                    # fills[f + 1]: its cash
    left = abs(q)
    while left > 0 and top[SPREAD] <= L:
        s = top[SPREAD]
        take = min(left, vols[side, s])
        fills[f] += take
        fills[f + 1] += take * (top[ASK] - (1 - side) * s)   # the best bid, or the best ask
        left -= take
        _remove(top, vols, side, s, take, L)
    j = L + 1
    while left > 0:
        take = min(left, m.outside)
        fills[f] += take
        fills[f + 1] += take * (top[ASK] - j if side == 0 else top[ASK] - top[SPREAD] + j)
        left -= take
        j += 1


@_small
def _next_start(rng, m, k, bg_top, bg_vols, gap, top, vols, mm, cum, fills):
    """Episode k's starting book: the background book, run alone for ``gap`` first (k > 0).
    The partial sums ``cum`` are left to the episode to fill."""
    for i in range(4):
        mm[i] = 0
    if k > 0 and gap > 0.0:
        _run_alone(rng, m, bg_top, bg_vols, mm, cum, gap, fills)
    top[ASK] = bg_top[ASK]
    top[SPREAD] = bg_top[SPREAD]
    for side in range(2):
        for j in range(vols.shape[1]):
            vols[side, j] = bg_vols[side, j]
    _clear(fills)


@_kernel
def _episode(rng, m, random_depths, table, top, vols, mm, cum, fills, rec, rewards):
    """One episode from the current book under a depth table (or uniformly random depths);
    fills ``rec`` (T × columns) and ``rewards`` (T) and returns the total reward."""
    _refresh(m, vols, cum)
    x = 0
    q = 0
    v_prev = 0
    total = 0.0
    tb = 0                                           # ⌊t · n_time / T⌋, kept by adding:
    tb_left = 0                                      # t · n_time − tb · T, in [0, T)
    for t in range(m.T):
        rec[t, _C_BID] = top[ASK] - top[SPREAD]
        rec[t, _C_ASK] = top[ASK]
        _clear(fills)
        if t < m.T - 1:
            if random_depths:
                d_b = _uniform_int(rng, m.max_depth) + 1
                d_a = _uniform_int(rng, m.max_depth) + 1
            else:
                ib = _inventory_bucket(q, m.kappa, m.n_inv) + m.n_inv
                d_b = table[tb, ib, 0]
                d_a = table[tb, ib, 1]
            n = _market_maker_step(rng, m, top, vols, mm, cum, d_b, d_a, fills)
            rec[t, _C_BID_QUOTE] = mm[BID_PRICE]
            rec[t, _C_ASK_QUOTE] = mm[ASK_PRICE]
            rec[t, _C_BID_DEPTH] = rec[t, _C_ASK] - mm[BID_PRICE]
            rec[t, _C_ASK_DEPTH] = mm[ASK_PRICE] - rec[t, _C_BID]
        else:
            _liquidate(m, top, vols, q, fills)
            n = _run_alone(rng, m, top, vols, mm, cum, m.dt, fills)         # no orders rest
            rec[t, _C_BID_QUOTE] = 0
            rec[t, _C_ASK_QUOTE] = 0
            rec[t, _C_BID_DEPTH] = 0
            rec[t, _C_ASK_DEPTH] = 0
        x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
        v_prev = v
        total += r
        rec[t, _C_BOUGHT] = fills[BOUGHT]
        rec[t, _C_SOLD] = fills[SOLD]
        rec[t, _C_CASH] = x
        rec[t, _C_INVENTORY] = q
        rec[t, _C_VALUE] = v
        rec[t, _C_EVENTS] = n
        rewards[t] = r
        tb, tb_left = _next_bucket(tb, tb_left, m)
    return total


@_kernel
def _evaluate(rng, m, random_depths, table, bg_top, bg_vols, gap, top, vols, mm, cum, fills,
              rec, rewards, out):
    """Total rewards of len(out) episodes (``top`` … ``rewards`` are work space)."""
    for k in range(out.size):
        _next_start(rng, m, k, bg_top, bg_vols, gap, top, vols, mm, cum, fills)
        out[k] = _episode(rng, m, random_depths, table, top, vols, mm, cum, fills, rec, rewards)


@_small
def _greedy_action(Q, tb, ib):
    """The lowest-index action with the largest value in state (tb, ib)."""
    best = 0
    for a in range(1, Q.shape[2]):
        if Q[tb, ib, a] > Q[tb, ib, best]:
            best = a
    return best


@_small
def _row_max(Q, tb, ib):
    """max_a Q(tb, ib, a)."""
    return Q[tb, ib, _greedy_action(Q, tb, ib)]


@_kernel
def _q_learning(rng, m, Q, epsilons, alphas, bg_top, bg_vols, gap, top, vols, mm, cum, fills,
                episode_rewards, start_values):
    """Tabular Q-learning (γ = 1) over len(epsilons) episodes, updating Q in place
    (``top`` … ``fills`` are work space)."""
    D = m.max_depth
    for k in range(epsilons.size):
        eps = epsilons[k]
        alpha = alphas[k]
        _next_start(rng, m, k, bg_top, bg_vols, gap, top, vols, mm, cum, fills)
        _refresh(m, vols, cum)
        x = 0
        q = 0
        v_prev = 0
        total = 0.0
        tb = 0
        tb_left = 0
        ib = m.n_inv                                 # inventory 0
        for t in range(m.T - 1):                     # decisions at t = 0…T−2
            if _pcg64.random(rng) < eps:
                action = _uniform_int(rng, D * D)
            else:
                action = _greedy_action(Q, tb, ib)
            _clear(fills)
            _market_maker_step(rng, m, top, vols, mm, cum, action // D + 1, action % D + 1, fills)
            x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
            v_prev = v
            total += r
            tb_next, tb_left = _next_bucket(tb, tb_left, m)
            ib_next = _inventory_bucket(q, m.kappa, m.n_inv) + m.n_inv
            target = r
            if t + 1 < m.T - 1:                      # else the liquidation step brings 0
                target += _row_max(Q, tb_next, ib_next)
            Q[tb, ib, action] += alpha * (target - Q[tb, ib, action])
            tb = tb_next
            ib = ib_next
        _clear(fills)                                # t = T−1: liquidate, one more step
        _liquidate(m, top, vols, q, fills)
        _run_alone(rng, m, top, vols, mm, cum, m.dt, fills)                # no orders rest
        x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
        total += r
        episode_rewards[k] = total
        start_values[k] = _row_max(Q, 0, m.n_inv)


# --------------------------------------------------------------------------------------
# Events on a given book, and the book on its own
# --------------------------------------------------------------------------------------

def apply_event(book: Book, event: str, level: int | None = None, size: int = 1,
                outside_volume: int = 1) -> Book:
    """The book after one chosen event (the book itself is not changed).

    ``event`` is one of :data:`EVENT_TYPES`. For limit orders and cancellations ``level`` is
    the distance i = 1…L from the opposite best price (a − i for buys, b + i for sells);
    market orders trade at the best price and take no level. ``size`` units are added or
    removed; a cancellation or market order may not take more than the level holds (market
    orders never walk the book). Levels entering the window bring ``outside_volume`` units.
    """
    if not isinstance(book, Book):
        raise ValueError(f"book must be a Book, got {type(book).__name__}")
    if event not in EVENT_TYPES:
        raise ValueError(f"event must be one of {EVENT_TYPES}, got {event!r}")
    outside_volume = check_int("outside_volume", outside_volume, low=1)
    code = EVENT_TYPES.index(event)
    L = book.num_levels
    size = check_int("size", size, low=1)
    if code in (MARKET_SELL, MARKET_BUY):
        if level is not None:
            raise ValueError(f"level must be None for a market order (it trades at the best price), got {level!r}")
        level = book.spread
        available = book.best_bid_volume if code == MARKET_SELL else book.best_ask_volume
        if available == 0:
            raise ValueError(f"{event}: the best price holds no volume in the window")
    else:
        if level is None:
            raise ValueError(f"{event} needs a level (distance 1…{L} from the opposite best price)")
        level = check_int("level", level, 1, L)
        volumes = book.bid_volumes if code in (LIMIT_BUY, CANCEL_BUY) else book.ask_volumes
        available = volumes[level - 1]
    if code in (CANCEL_BUY, CANCEL_SELL, MARKET_SELL, MARKET_BUY) and size > available:
        raise ValueError(f"size must be ≤ {available}, the volume at that level, got {size}")
    top, vols = book._state()
    _apply(top, vols, code, level, size, L, outside_volume)
    return _book_from_state(top, vols)


@dataclass(frozen=True, eq=False)
class BookSimulation:
    """The book run on its own (no market maker) for ``duration`` time units.

    ``times``, ``asks``, ``spreads``, ``bid_volumes``, ``ask_volumes`` are the book at the
    grid times 0, Δ, 2Δ, … ≤ duration; ``event_counts[k]`` counts events of type
    ``EVENT_TYPES[k]``; ``spread_time[s − 1]`` is the time spent at spread s = 1…L+1 and
    ``spread_events[s − 1]`` the number of events that found the spread at s;
    ``mean_bid_volume[j − 1]`` / ``mean_ask_volume[j − 1]`` are the time-averaged volumes at
    distance j from the opposite best price.
    """

    duration: float
    n_events: int
    event_counts: np.ndarray
    spread_time: np.ndarray
    spread_events: np.ndarray
    mean_bid_volume: np.ndarray
    mean_ask_volume: np.ndarray
    times: np.ndarray
    asks: np.ndarray
    spreads: np.ndarray
    bid_volumes: np.ndarray
    ask_volumes: np.ndarray
    start_book: Book
    end_book: Book

    def __repr__(self):
        return (f"BookSimulation(duration={self.duration:g}, n_events={self.n_events}, "
                f"records={self.times.size})")

    @property
    def bids(self) -> np.ndarray:
        """Best bid at the grid times."""
        return self.asks - self.spreads

    @property
    def events_per_unit_time(self) -> float:
        """Number of events / duration."""
        return self.n_events / self.duration

    @property
    def event_mix(self) -> pd.Series:
        """Fraction of the events of each type."""
        return pd.Series(self.event_counts / max(self.n_events, 1), index=list(EVENT_TYPES),
                         name="fraction of events")

    @property
    def spread_distribution(self) -> pd.Series:
        """Fraction of the time spent at each spread 1…L+1 (time-weighted)."""
        return pd.Series(self.spread_time / self.duration,
                         index=pd.RangeIndex(1, self.spread_time.size + 1, name="spread"),
                         name="fraction of time")

    @property
    def spread_distribution_by_event(self) -> pd.Series:
        """Fraction of the events that found the book at each spread 1…L+1 (event-weighted:
        states with more volume, hence more cancellations, weigh more)."""
        return pd.Series(self.spread_events / max(self.n_events, 1),
                         index=pd.RangeIndex(1, self.spread_events.size + 1, name="spread"),
                         name="fraction of events")

    def volume_profile(self) -> pd.DataFrame:
        """Time-averaged bid and ask volume by distance j from the opposite best price."""
        return pd.DataFrame({"bid": self.mean_bid_volume, "ask": self.mean_ask_volume},
                            index=pd.RangeIndex(1, self.mean_bid_volume.size + 1, name="distance"))

    def path_frame(self) -> pd.DataFrame:
        """Best bid, best ask and spread at the grid times."""
        return pd.DataFrame({"t": self.times, "bid": self.bids, "ask": self.asks,
                             "spread": self.spreads})

    def book_at(self, k: int) -> Book:
        """The book at grid time ``times[k]``."""
        return Book(int(self.asks[k]), int(self.spreads[k]), tuple(int(v) for v in self.bid_volumes[k]),
                    tuple(int(v) for v in self.ask_volumes[k]))


def simulate_book(duration: float = 100.0, params: LOBParams | None = None, seed=None,
                  start_book: Book | None = None, record_every: float = 1.0) -> BookSimulation:
    """Run the book without a market maker for ``duration`` time units.

    It starts from ``start_book`` or, by default, from the chain's long-run behaviour (the
    simple book run for ``params.burn_in``). The book is recorded every ``record_every``
    time units; counts, spread times and mean volumes cover the whole run.
    """
    params = _check_params(params)
    duration = check_real("duration", duration, low=0.0, low_open=True)
    record_every = check_real("record_every", record_every, low=0.0, low_open=True)
    n_grid = int(np.floor(duration / record_every + 1e-9)) + 1
    if n_grid > 10_000_000:
        raise ValueError(f"record_every must give at most 10,000,000 records, got {n_grid}")
    rng = make_rng(seed)
    m = params._model()
    L = params.num_levels
    top, vols, _ = _background(params, start_book, rng)
    start = _book_from_state(top, vols)
    grid = np.arange(n_grid) * record_every
    counts = np.zeros(6, dtype=np.int64)
    spread_time = np.zeros(L + 2)
    spread_events = np.zeros(L + 2, dtype=np.int64)
    bid_time = np.zeros(L + 1)
    ask_time = np.zeros(L + 1)
    rec_top = np.zeros((n_grid, 2), dtype=np.int64)
    rec_bid = np.zeros((n_grid, L), dtype=np.int64)
    rec_ask = np.zeros((n_grid, L), dtype=np.int64)
    mm, cum, fills = _scratch(vols)
    with _pcg64.stream(rng) as g:
        n = _run_book(g, m, top, vols, mm, cum, fills, duration, grid, counts, spread_time,
                      spread_events, bid_time, ask_time, rec_top, rec_bid, rec_ask)
    return BookSimulation(duration, int(n), counts, spread_time[1:], spread_events[1:],
                          bid_time[1:] / duration,
                          ask_time[1:] / duration, grid, rec_top[:, 0], rec_top[:, 1], rec_bid,
                          rec_ask, start, _book_from_state(top, vols))


# --------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConstantStrategy:
    """Always quote at depths (bid_depth, ask_depth) from the opposite best prices."""

    bid_depth: int
    ask_depth: int

    def __post_init__(self):
        object.__setattr__(self, "bid_depth", check_int("bid_depth", self.bid_depth, low=1))
        object.__setattr__(self, "ask_depth", check_int("ask_depth", self.ask_depth, low=1))

    @property
    def label(self) -> str:
        """The strategy's name in tables and legends."""
        if self.bid_depth == self.ask_depth:
            return f"constant (depth {self.bid_depth})"
        return f"constant (bid depth {self.bid_depth}, ask depth {self.ask_depth})"

    def depth_table(self, params: LOBParams) -> np.ndarray:
        """The depths (d_b, d_a) by (time bucket, inventory bucket + c)."""
        for name in ("bid_depth", "ask_depth"):
            if getattr(self, name) > params.max_quote_depth:
                raise ValueError(f"{name} must be ≤ max_quote_depth = {params.max_quote_depth}, "
                                 f"got {getattr(self, name)}")
        table = np.empty((params.num_time_buckets, params.num_inventory_bucket_values, 2), dtype=np.int64)
        table[..., 0] = self.bid_depth
        table[..., 1] = self.ask_depth
        return table


@dataclass(frozen=True)
class RandomStrategy:
    """Quote depths drawn uniformly from {1…D}² at every step (bid first, then ask)."""

    @property
    def label(self) -> str:
        """The strategy's name in tables and legends."""
        return "random"

    def depth_table(self, params: LOBParams) -> None:
        """None: the depths are drawn while the episode runs."""
        return None


@dataclass(frozen=True, eq=False)
class GreedyStrategy:
    """Quote the depths of a table over (time bucket, inventory bucket), e.g. a learnt
    Q table's greedy actions. ``depths[tb, ib + c] = (d_b, d_a)``."""

    depths: np.ndarray = field(repr=False)
    label: str = "greedy"

    def __post_init__(self):
        depths = np.array(self.depths, dtype=np.int64)
        if depths.ndim != 3 or depths.shape[2] != 2 or depths.size == 0:
            raise ValueError(f"depths must have shape (time buckets, inventory buckets, 2), got {depths.shape}")
        if depths.min() < 1:
            raise ValueError(f"depths must be ≥ 1, got {depths.min()}")
        depths.setflags(write=False)
        object.__setattr__(self, "depths", depths)

    @classmethod
    def from_q_table(cls, Q, label: str = "Q-learning (greedy)") -> GreedyStrategy:
        """The greedy depths of a Q table (time buckets × inventory buckets × D²)."""
        Q = np.asarray(Q, dtype=float)
        D = int(round(np.sqrt(Q.shape[-1]))) if Q.ndim == 3 else 0
        if Q.ndim != 3 or D * D != Q.shape[-1]:
            raise ValueError(f"Q must have shape (time buckets, inventory buckets, D²), got {Q.shape}")
        best = np.argmax(Q, axis=2)                 # lowest index among ties, as in training
        return cls(np.stack([best // D + 1, best % D + 1], axis=-1), label)

    def __eq__(self, other):
        if not isinstance(other, GreedyStrategy):
            return NotImplemented
        return self.label == other.label and np.array_equal(self.depths, other.depths)

    def __hash__(self):
        return hash((self.label, self.depths.shape, self.depths.tobytes()))

    def __repr__(self):
        nb, ni, _ = self.depths.shape
        return f"GreedyStrategy(label={self.label!r}, {nb} time buckets × {ni} inventory buckets)"

    def depth_table(self, params: LOBParams) -> np.ndarray:
        """The depths (d_b, d_a) by (time bucket, inventory bucket + c), checked against ``params``."""
        expected = (params.num_time_buckets, params.num_inventory_bucket_values, 2)
        if self.depths.shape != expected:
            raise ValueError(f"depths must have shape {expected} for these params, got {self.depths.shape}")
        if self.depths.max() > params.max_quote_depth:
            raise ValueError(f"depths must be ≤ max_quote_depth = {params.max_quote_depth}")
        return self.depths

    def to_frame(self) -> pd.DataFrame:
        """Bid and ask depth by (time bucket, inventory bucket)."""
        nb, ni, _ = self.depths.shape
        c = (ni - 1) // 2
        index = pd.MultiIndex.from_product([range(nb), range(-c, c + 1)],
                                           names=["time_bucket", "inventory_bucket"])
        return pd.DataFrame(self.depths.reshape(-1, 2), index=index, columns=["bid_depth", "ask_depth"])


def constant_strategy(bid_depth: int, ask_depth: int | None = None) -> ConstantStrategy:
    """Constant depths; ``ask_depth`` defaults to ``bid_depth``. Depth d means d ticks from
    the *opposite* best price (the thesis' "constant (d=1)" is depth 2 here)."""
    return ConstantStrategy(bid_depth, bid_depth if ask_depth is None else ask_depth)


def random_strategy() -> RandomStrategy:
    """Uniformly random depths every step."""
    return RandomStrategy()


def _strategy_arrays(strategy, params, name="strategy"):
    """(random depths?, depth table) of a strategy for the compiled episodes; a wrong type or
    a table that does not fit ``params`` raises ValueError naming ``name``."""
    if not isinstance(strategy, (ConstantStrategy, RandomStrategy, GreedyStrategy)):
        raise ValueError(f"{name} must be a ConstantStrategy, RandomStrategy or GreedyStrategy, "
                         f"got {type(strategy).__name__}")
    table = strategy.depth_table(params)
    if table is None:
        return True, np.ones((1, 1, 2), dtype=np.int64)
    return False, np.ascontiguousarray(table, dtype=np.int64)


# --------------------------------------------------------------------------------------
# Episodes and evaluation
# --------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Episode:
    """One episode, step by step (T rows).

    Row t: ``bid``, ``ask`` at the start of step t; the quotes posted (``bid_quote``,
    ``ask_quote`` prices, ``bid_depth`` = a − bid_quote, ``ask_depth`` = ask_quote − b, after
    any widening; 0 at t = T−1, where nothing is posted); the market maker's fills in the
    step (``bought``, ``sold``; at t = T−1 the liquidation); ``cash`` X, ``inventory`` Q and
    ``value`` V at the end of the step (time t + 1); ``reward`` r_t; ``n_events`` book events.
    """

    strategy: object
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
        return (f"Episode(strategy={self.strategy!r}, steps={self.t.size}, "
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
        """The steps as a DataFrame (quotes and depths are <NA> at t = T−1)."""
        frame = pd.DataFrame({"t": self.t, "bid": self.bid, "ask": self.ask, "spread": self.spread})
        for name in ("bid_depth", "ask_depth", "bid_quote", "ask_quote"):
            column = pd.array(getattr(self, name), dtype="Int64")
            column[-1] = pd.NA
            frame[name] = column
        for name in ("bought", "sold", "cash", "inventory", "value", "reward", "n_events"):
            frame[name] = getattr(self, name)
        return frame


def simulate_episode(strategy, params: LOBParams | None = None, seed=None,
                     start_book: Book | None = None) -> Episode:
    """One episode of the market maker following ``strategy``."""
    params = _check_params(params)
    random_depths, table = _strategy_arrays(strategy, params)
    rng = make_rng(seed)
    m = params._model()
    top, vols, _ = _background(params, start_book, rng)
    start = _book_from_state(top, vols)
    rec = np.zeros((params.T, _N_COLUMNS), dtype=np.int64)
    rewards = np.zeros(params.T)
    with _pcg64.stream(rng) as g:
        _episode(g, m, random_depths, table, top, vols, *_scratch(vols), rec, rewards)
    columns = {name: rec[:, k].copy() for k, name in enumerate(_EPISODE_COLUMNS)}
    return Episode(strategy, np.arange(params.T), reward=rewards, start_book=start,
                   end_book=_book_from_state(top, vols), **columns)


def evaluate_strategy(strategy, params: LOBParams | None = None, n_episodes: int = 300, seed=None,
                      start_book: Book | None = None) -> Estimate:
    """The total rewards of ``n_episodes`` independent episodes, as an :class:`Estimate`
    (mean, std, stderr, confidence interval; ``.samples`` holds the rewards)."""
    params = _check_params(params)
    n_episodes = check_int("n_episodes", n_episodes, low=2)
    random_depths, table = _strategy_arrays(strategy, params)
    rng = make_rng(seed)
    out = np.zeros(n_episodes)
    background = _background(params, start_book, rng)
    with _pcg64.stream(rng) as g:
        _evaluate(g, params._model(), random_depths, table, *background, *_work(params),
                  np.zeros((params.T, _N_COLUMNS), dtype=np.int64), np.zeros(params.T), out)
    return Estimate(out)


# --------------------------------------------------------------------------------------
# Q-learning
# --------------------------------------------------------------------------------------

def epsilon_schedule(n_train: int, epsilon_start: float = 1.0, epsilon_end: float = 0.05,
                     epsilon_cutoff: float = 0.5) -> np.ndarray:
    """ε_k for episodes k = 0…n_train−1: linear from ``epsilon_start`` to ``epsilon_end``
    over the first ``epsilon_cutoff`` · n_train episodes, then constant."""
    n_train = check_int("n_train", n_train, low=1)
    start = check_real("epsilon_start", epsilon_start, 0.0, 1.0)
    end = check_real("epsilon_end", epsilon_end, 0.0, 1.0)
    cutoff = check_real("epsilon_cutoff", epsilon_cutoff, 0.0, 1.0)
    k = np.arange(n_train)
    n_cut = cutoff * n_train
    if n_cut == 0:
        return np.full(n_train, end)
    return np.where(k < n_cut, start + (end - start) * k / n_cut, end)


def alpha_schedule(n_train: int, alpha_start: float = 0.5, alpha_end: float = 0.001) -> np.ndarray:
    """α_k = alpha_start · (alpha_end / alpha_start)^{k / (n_train − 1)}: exponential decay
    from ``alpha_start`` (first episode) to ``alpha_end`` (last episode)."""
    n_train = check_int("n_train", n_train, low=1)
    start = check_real("alpha_start", alpha_start, 0.0, 1.0, low_open=True)
    end = check_real("alpha_end", alpha_end, 0.0, 1.0, low_open=True)
    if n_train == 1:
        return np.array([start])
    return start * (end / start) ** (np.arange(n_train) / (n_train - 1))


@dataclass(frozen=True, eq=False)
class QLearningResult:
    """A trained Q table and its training history (one value per episode).

    ``q_table[tb, ib + c, (d_b − 1)·D + (d_a − 1)]``; ``episode_rewards[k]`` is episode k's
    total reward (while exploring); ``start_values[k]`` = max_a Q(s_0, a) after episode k,
    s_0 = (time bucket 0, inventory bucket 0).
    """

    params: LOBParams
    q_table: np.ndarray = field(repr=False)
    episode_rewards: np.ndarray = field(repr=False)
    start_values: np.ndarray = field(repr=False)
    epsilons: np.ndarray = field(repr=False)
    alphas: np.ndarray = field(repr=False)

    @property
    def n_train(self) -> int:
        """The number of training episodes."""
        return int(self.episode_rewards.size)

    @property
    def greedy_strategy(self) -> GreedyStrategy:
        """The learnt greedy strategy, usable by :func:`evaluate_strategy`."""
        return GreedyStrategy.from_q_table(self.q_table, "Q-learning (greedy)")

    def history_frame(self) -> pd.DataFrame:
        """Per training episode: reward, start-state value, ε and α."""
        return pd.DataFrame({"reward": self.episode_rewards, "start_value": self.start_values,
                             "epsilon": self.epsilons, "alpha": self.alphas},
                            index=pd.RangeIndex(self.n_train, name="episode"))

    def q_frame(self) -> pd.DataFrame:
        """Q values in long form: one row per (time bucket, inventory bucket, d_b, d_a)."""
        nb, ni, na = self.q_table.shape
        D = self.params.max_quote_depth
        c = self.params.num_inventory_buckets
        index = pd.MultiIndex.from_product(
            [range(nb), range(-c, c + 1), range(1, D + 1), range(1, D + 1)],
            names=["time_bucket", "inventory_bucket", "bid_depth", "ask_depth"])
        return pd.DataFrame({"q": self.q_table.reshape(-1)}, index=index)

    def greedy_frame(self) -> pd.DataFrame:
        """The greedy depths by (time bucket, inventory bucket)."""
        return self.greedy_strategy.to_frame()


def q_learning(params: LOBParams | None = None, n_train: int = 3000, epsilon_start: float = 1.0,
               epsilon_end: float = 0.05, epsilon_cutoff: float = 0.5, alpha_start: float = 0.5,
               alpha_end: float = 0.001, seed=None, start_book: Book | None = None) -> QLearningResult:
    """Tabular Q-learning of the depths (γ = 1), ε-greedy with :func:`epsilon_schedule`,
    step sizes :func:`alpha_schedule`, Q initialised to 0."""
    params = _check_params(params)
    epsilons = epsilon_schedule(n_train, epsilon_start, epsilon_end, epsilon_cutoff)
    alphas = alpha_schedule(n_train, alpha_start, alpha_end)
    rng = make_rng(seed)
    background = _background(params, start_book, rng)
    Q = np.zeros((params.num_time_buckets, params.num_inventory_bucket_values, params.num_actions))
    rewards = np.zeros(epsilons.size)
    start_values = np.zeros(epsilons.size)
    with _pcg64.stream(rng) as g:
        _q_learning(g, params._model(), Q, epsilons, alphas, *background, *_work(params), rewards,
                    start_values)
    return QLearningResult(params, Q, rewards, start_values, epsilons, alphas)


def __getattr__(name):
    # The seed's whole experiment lives in mmcourse.lob_experiment, which imports this module;
    # its names are served from here on first use.
    if name in ("ComparisonResult", "run_comparison", "default_benchmarks"):
        from mmcourse import lob_experiment
        return getattr(lob_experiment, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
