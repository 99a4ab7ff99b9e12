"""The order book's rates and the market maker's setting (:class:`LOBParams`), and the names of
the book's six event types (``EVENT_TYPES``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from mmcourse.core import _pcg64
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int, check_real

pd = lazy_pandas()

__all__ = ["LOBParams", "EVENT_TYPES"]

#: The six event types, in the order of their codes 0…5.
EVENT_TYPES = ("limit_buy", "limit_sell", "cancel_buy", "cancel_sell", "market_sell", "market_buy")


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
    """The book's rates and the market maker's setting.

    The defaults are the course's model: the rates are the averages of the thesis' separate
    bid and ask calibrations, the same on both sides. The rules that use these numbers are
    set out in :mod:`mmcourse.lob`.

    ``limit_rates`` are λ_1, λ_2, … and ``cancel_rates`` θ_1, θ_2, … (zero beyond the tuple),
    ``market_rate`` is μ; the limit (market) order size is geometric with
    P(k) ∝ exp(−k · ``limit_size_decay``) (``market_size_decay``). ``num_levels`` = L,
    ``max_quote_depth`` = D, ``default_order_size`` = the market maker's order size,
    ``max_inventory_bucket`` = the clip of the inventory bucket on each side, ``phi`` = φ.
    ``start_price`` is the best ask of :meth:`Book.simple <mmcourse.lob.book.Book.simple>`;
    ``burn_in`` is how long the book runs alone from it before the first episode,
    ``start_gap`` how long it runs alone between two episodes' starting books (unused when a
    book is given).

    Attributes
    ----------
    dt : float
        The length of a step, in units of time, > 0.
    T : int
        Steps per episode, ≥ 2: the market maker quotes at t = 0 … T−2 and liquidates its
        inventory at t = T−1.
    num_time_buckets : int
        The number of time buckets, 1 … T: step t is in bucket ⌊t · num_time_buckets / T⌋.
    kappa : int
        κ ≥ 1: inventory Q is in bucket ⌈Q/κ⌉ (Q > 0) or ⌊Q/κ⌋ (Q < 0).
    num_levels : int
        L ≥ 2, the levels of each side of the window.
    default_order_size : int
        The units the market maker quotes on each side at each step, ≥ 1.
    max_quote_depth : int
        D, 1 … L − 1: the market maker's depths d_b, d_a are in 1 … D.
    limit_rates : tuple of float
        λ_1, λ_2, …: the rate of limit buys at a − i and of limit sells at b + i; all ≥ 0, at
        least one > 0, none > 0 beyond distance L.
    cancel_rates : tuple of float
        θ_1, θ_2, …: each unit of the other traders at a − i or b + i is cancelled at rate θ_i;
        all ≥ 0, none > 0 beyond distance L.
    market_rate : float
        μ ≥ 0, the rate of market sells and of market buys.
    limit_size_decay : float
        > 0: a limit order's size k has P(k) ∝ exp(−k · limit_size_decay), redrawn until k ≤ L.
    market_size_decay : float
        > 0: a market order's size k has P(k) ∝ exp(−k · market_size_decay), redrawn until it
        is no larger than the volume at the best price.
    outside_volume : int
        The units on every price level beyond the window, ≥ 1.
    phi : float
        φ ≥ 0, the inventory penalty of the reward r_t = V_t − V_{t−1} − φ Q_t².
    max_inventory_bucket : int
        c ≥ 0: inventory buckets are clipped to −c … c.
    start_price : int
        The best ask of the simple book that the burn-in starts from.
    burn_in : float
        ≥ 0: how long, in units of time, the book runs alone before the first episode.
    start_gap : float
        ≥ 0: how long the book runs alone between two episodes' starting books.

    Raises
    ------
    ValueError
        If a value is of the wrong type or out of range, or a rate is nonzero at a distance
        beyond ``num_levels``.
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
    max_inventory_bucket: int = 3
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
        put("max_inventory_bucket", check_int("max_inventory_bucket", self.max_inventory_bucket, low=0))
        put("start_price", check_int("start_price", self.start_price))
        put("burn_in", check_real("burn_in", self.burn_in, low=0.0))
        put("start_gap", check_real("start_gap", self.start_gap, low=0.0))

    @property
    def num_actions(self) -> int:
        """D², the number of depth pairs (d_b, d_a)."""
        return self.max_quote_depth ** 2

    @property
    def num_inventory_buckets(self) -> int:
        """2 · max_inventory_bucket + 1, the inventory buckets −c…c."""
        return 2 * self.max_inventory_bucket + 1

    def rates_by_level(self) -> pd.DataFrame:
        """The limit and cancellation rates λ_i and θ_i for i = 1…L (zeros beyond the given rates).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``distance`` i = 1 … L; columns ``limit_rate`` and ``cancel_rate``.
        """
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
                      self.max_quote_depth, self.kappa, self.max_inventory_bucket,
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
