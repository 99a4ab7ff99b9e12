"""The book on its own: :class:`Book`, one chosen event (:func:`apply_event`), and the book
run without a market maker (:func:`simulate_book`, which returns a :class:`BookSimulation`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmcourse.core import _pcg64
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int, check_real
from mmcourse.core.seeding import make_rng
from mmcourse.lob._kernels import (ASK, CANCEL_BUY, CANCEL_SELL, LIMIT_BUY, MARKET_BUY, MARKET_SELL,
                                   SPREAD, BookRecord, BookStats, Start, Work, _apply, _run_alone,
                                   _run_book)
from mmcourse.lob.params import EVENT_TYPES, LOBParams, _check_params

pd = lazy_pandas()

__all__ = ["Book", "apply_event", "BookSimulation", "simulate_book"]


@dataclass(frozen=True)
class Book:
    """One state of the book: best ask a, spread s, and volumes by distance j = 1…L.

    ``bid_volumes[j − 1]`` is the buy volume at a − j, ``ask_volumes[j − 1]`` the sell volume
    at b + j; levels inside the spread hold 0. ``spread = L + 1`` means both windows are empty
    (a side ran out and its price jumped to the first level beyond the window).

    Attributes
    ----------
    ask : int
        a, the best ask price, in ticks.
    spread : int
        s = a − b, 1 … L + 1.
    bid_volumes : tuple of int
        The buy volumes at a − 1, a − 2, …, a − L.
    ask_volumes : tuple of int
        The sell volumes at b + 1, b + 2, …, b + L.

    Raises
    ------
    ValueError
        If the two sides differ in length or L < 2, a volume is negative, the spread is not in
        1 … L + 1, a level inside the spread holds volume, or the best price holds none.
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
        """The simple book: spread 1 and ``volume`` units on every level, the burn-in's
        starting point.

        Parameters
        ----------
        num_levels : int
            L, the levels of each side, ≥ 2.
        ask : int
            The best ask a; the best bid is a − 1.
        volume : int
            The units on every level, ≥ 1.

        Returns
        -------
        Book

        Raises
        ------
        ValueError
            If ``num_levels`` < 2 or ``volume`` < 1.
        """
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
        """The mid price (a + b) / 2."""
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
        """The book as a table, one row per price in the window.

        Returns
        -------
        pandas.DataFrame
            Columns ``price``, ``side`` (``"bid"`` or ``"ask"``), ``distance`` j (from the
            opposite best price) and ``volume``; the bids from a − L up to a − 1, then the
            asks from b + 1 up to b + L.
        """
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
    return Work(np.zeros(2, dtype=np.int64), vols, *_scratch(vols))


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
        return Start(top, vols, params.start_gap)
    if not isinstance(start_book, Book):
        raise ValueError(f"start_book must be a Book or None, got {type(start_book).__name__}")
    if start_book.num_levels != params.num_levels:
        raise ValueError(f"start_book has {start_book.num_levels} levels, params.num_levels = "
                         f"{params.num_levels}")
    return Start(*start_book._state(), 0.0)


def apply_event(book: Book, event: str, level: int | None = None, size: int = 1,
                outside_volume: int = 1) -> Book:
    """The book after one chosen event (the book itself is not changed).

    ``event`` is one of :data:`~mmcourse.lob.params.EVENT_TYPES`. For limit orders and
    cancellations ``level`` is the distance i = 1…L from the opposite best price (a − i for
    buys, b + i for sells); market orders trade at the best price and take no level. ``size``
    units are added or removed; a cancellation or market order may not take more than the
    level holds (market orders never walk the book). Levels entering the window bring
    ``outside_volume`` units.

    Parameters
    ----------
    book : Book
        The book before the event.
    event : str
        ``"limit_buy"``, ``"limit_sell"``, ``"cancel_buy"``, ``"cancel_sell"``,
        ``"market_sell"`` or ``"market_buy"``.
    level : int or None
        The distance i = 1 … L of a limit order or cancellation; None for a market order.
    size : int
        The units added or removed, ≥ 1.
    outside_volume : int
        The units on every level beyond the window, ≥ 1.

    Returns
    -------
    Book
        The new book. A limit order inside the spread makes a new best price; a best price
        that empties moves to the next level with volume (or beyond the window); either way
        the other side's window, counted from it, moves too.

    Raises
    ------
    ValueError
        If ``book`` is not a Book, ``event`` is unknown, ``level`` is given for a market
        order or missing or not in 1 … L for the others, ``size`` < 1 or more than the level
        holds (for a cancellation or market order), or a market order finds no volume at
        the best price in the window.
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
    grid times 0, Δ, 2Δ, … ≤ duration (Δ = ``record_every`` of :func:`simulate_book`); the
    counts, spread times and mean volumes cover the whole run.

    Attributes
    ----------
    duration : float
        The length of the run, in units of time.
    n_events : int
        The number of book events in the run.
    event_counts : numpy.ndarray
        ``event_counts[k]`` counts events of type ``EVENT_TYPES[k]``.
    spread_time : numpy.ndarray
        ``spread_time[s − 1]`` is the time spent at spread s = 1…L+1.
    spread_events : numpy.ndarray
        ``spread_events[s − 1]`` is the number of events that found the spread at s.
    mean_bid_volume : numpy.ndarray
        ``mean_bid_volume[j − 1]`` is the time-averaged buy volume at distance j from the
        opposite best price (at a − j).
    mean_ask_volume : numpy.ndarray
        ``mean_ask_volume[j − 1]`` is the time-averaged sell volume at distance j (at b + j).
    times : numpy.ndarray
        The grid times.
    asks : numpy.ndarray
        The best ask a at the grid times.
    spreads : numpy.ndarray
        The spread s at the grid times.
    bid_volumes : numpy.ndarray
        The buy volumes by distance at the grid times, one row (of L) per grid time.
    ask_volumes : numpy.ndarray
        The sell volumes by distance at the grid times, one row (of L) per grid time.
    start_book : Book
        The book the run started from.
    end_book : Book
        The book at the end of the run.
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
        """The best bid b = a − s at the grid times."""
        return self.asks - self.spreads

    @property
    def events_per_unit_time(self) -> float:
        """The number of events per unit of time: n_events / duration."""
        return self.n_events / self.duration

    @property
    def event_mix(self) -> pd.Series:
        """The fraction of the events of each type, indexed by ``EVENT_TYPES``."""
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
        """The time-averaged bid and ask volume by distance j from the opposite best price.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``distance`` j = 1 … L; columns ``bid`` (the volume at a − j) and
            ``ask`` (at b + j).
        """
        return pd.DataFrame({"bid": self.mean_bid_volume, "ask": self.mean_ask_volume},
                            index=pd.RangeIndex(1, self.mean_bid_volume.size + 1, name="distance"))

    def path_frame(self) -> pd.DataFrame:
        """The best bid, best ask and spread at the grid times.

        Returns
        -------
        pandas.DataFrame
            One row per grid time; columns ``t``, ``bid``, ``ask`` and ``spread``.
        """
        return pd.DataFrame({"t": self.times, "bid": self.bids, "ask": self.asks,
                             "spread": self.spreads})

    def book_at(self, k: int) -> Book:
        """The book at grid time ``times[k]``.

        Parameters
        ----------
        k : int
            The index of the grid time.

        Returns
        -------
        Book
        """
        return Book(int(self.asks[k]), int(self.spreads[k]), tuple(int(v) for v in self.bid_volumes[k]),
                    tuple(int(v) for v in self.ask_volumes[k]))


def simulate_book(duration: float = 100.0, params: LOBParams | None = None, seed=None,
                  start_book: Book | None = None, record_every: float = 1.0) -> BookSimulation:
    """Run the book without a market maker for ``duration`` time units.

    It starts from ``start_book`` or, by default, from the chain's long-run behaviour (the
    simple book run for ``params.burn_in``). The book is recorded every ``record_every``
    time units; counts, spread times and mean volumes cover the whole run.

    Parameters
    ----------
    duration : float
        How long the book runs, in units of time, > 0.
    params : LOBParams or None
        The book's rates; None for ``LOBParams()``.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the burn-in and the run (see :func:`mmcourse.core.seeding.make_rng`).
    start_book : Book or None
        The book to start from, with ``params.num_levels`` levels; None for the simple book
        (best ask ``params.start_price``) run alone for ``params.burn_in``.
    record_every : float
        The spacing Δ of the grid times at which the book is recorded, > 0; at most
        10,000,000 records.

    Returns
    -------
    BookSimulation

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, or ``record_every`` gives more
        than 10,000,000 records.
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
        n = _run_book(g, m, Work(top, vols, mm, cum, fills), duration,
                      BookRecord(grid, rec_top, rec_bid, rec_ask),
                      BookStats(counts, spread_time, spread_events, bid_time, ask_time))
    return BookSimulation(duration, int(n), counts, spread_time[1:], spread_events[1:],
                          bid_time[1:] / duration,
                          ask_time[1:] / duration, grid, rec_top[:, 0], rec_top[:, 1], rec_bid,
                          rec_ask, start, _book_from_state(top, vols))
