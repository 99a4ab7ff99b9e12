"""The compiled loops of the order-book model, all in one file.

numba caches each compiled function on disk, keyed on the file that defines it; a function
inlined from another file would not be recompiled when that file changes. So every kernel
of this model, and every constant they read, lives here (the random numbers come from
:mod:`mmcourse.core._pcg64`, which changes rarely; ``make`` clears numba's cache whenever
any file of the package changes). The Python functions in the other modules check their
arguments, allocate every array, and call these.

The book is held as ``top`` = [a, s] and ``vols`` (2 × (L + 1)); the market maker's resting
orders as ``mm``, the partial sums of the cancellation rates as ``cum``, its fills as
``fills``; ``m`` is the parameters as :class:`~mmcourse.lob.params._Model`.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from mmcourse.core import _pcg64


# The compiled entry points take their arrays grouped in these named tuples (numba passes a
# tuple of arrays at no cost: it is unpacked once, at the top of the loop).


class Work(NamedTuple):
    """The book and the market maker, as the compiled loops hold them."""
    top: np.ndarray      # [best ask a, spread s]
    vols: np.ndarray     # 2 × (L + 1): vols[0, j] buy volume at a − j, vols[1, j] sell volume at b + j
    mm: np.ndarray       # the market maker's resting orders: bid price, bid left, ask price, ask left
    cum: np.ndarray      # partial sums of the cancellation rates of each side
    fills: np.ndarray    # this step's fills: bought, Σ price × bought, sold, Σ price × sold


class Start(NamedTuple):
    """The background book the episodes start from, and how long it runs alone between two."""
    top: np.ndarray
    vols: np.ndarray
    gap: float


class Depths(NamedTuple):
    """A policy for the compiled loops: uniformly random depths, or a table of (d_b, d_a) by
    (time bucket, inventory bucket + c)."""
    random: bool
    table: np.ndarray


class Schedule(NamedTuple):
    """ε and α of each training episode."""
    epsilons: np.ndarray
    alphas: np.ndarray


class History(NamedTuple):
    """Per training episode: its total reward, and max_a Q(s_0, a) after it."""
    episode_rewards: np.ndarray
    start_values: np.ndarray


class DoubleQ(NamedTuple):
    """Double Q-learning's two tables, and their sum (what the learner acts greedily on)."""
    a: np.ndarray
    b: np.ndarray
    total: np.ndarray


class Trajectory(NamedTuple):
    """One episode's decisions t = 0…T−2, kept for Monte-Carlo control's updates after it."""
    tb: np.ndarray       # time bucket
    ib: np.ndarray       # inventory bucket + c
    actions: np.ndarray
    rewards: np.ndarray


class TileCoding(NamedTuple):
    """Tile-coded Q: the weights (n_tilings × (time_tiles + 1) × (inventory_tiles + 1) × D²),
    q(s, ·) of one state as work space (1 × 1 × D², shaped like a Q table's row), each
    tiling's time tile by step (T × n_tilings) and inventory tile by clipped inventory + R
    ((2R + 1) × n_tilings), and the clip R of the inventory."""
    weights: np.ndarray
    values: np.ndarray
    time_tile: np.ndarray
    inventory_tile: np.ndarray
    limit: int


class BookRecord(NamedTuple):
    """The book at the grid times: [a, s], bid and ask volumes by distance."""
    grid: np.ndarray
    top: np.ndarray
    bid: np.ndarray
    ask: np.ndarray


class BookStats(NamedTuple):
    """Counts of events by type, time and events by spread, time-integrated volumes."""
    counts: np.ndarray
    spread_time: np.ndarray
    spread_events: np.ndarray
    bid_time: np.ndarray
    ask_time: np.ndarray


# Event codes, in the order of EVENT_TYPES (mmcourse.lob.params).
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


# Compiled book: the window shifts and the ways the volume changes
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


# Compiled chain: rates, one event, a stretch of time
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
def _run_book(rng, m, w, duration, record, stats):
    """The book alone (no orders in ``w.mm``) for ``duration``, counting events by type and
    by the spread just before them, the time spent at each spread, the time-integrated
    volumes (``stats``), and the book at the times in ``record.grid``."""
    top, vols, mm, cum, fills = w
    grid, rec_top, rec_bid, rec_ask = record
    counts, spread_time, spread_events, bid_time, ask_time = stats
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


# Compiled market maker: one step, liquidation, valuation, episodes, Q-learning


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
def _episode(rng, m, depths, w, rec, rewards):
    """One episode from the current book under a depth table (or uniformly random depths);
    fills ``rec`` (T × columns) and ``rewards`` (T) and returns the total reward."""
    random_depths, table = depths
    top, vols, mm, cum, fills = w
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
def _evaluate(rng, m, depths, start, w, rec, rewards, out):
    """Total rewards of len(out) episodes (``w``, ``rec`` and ``rewards`` are work space)."""
    bg_top, bg_vols, gap = start
    top, vols, mm, cum, fills = w
    for k in range(out.size):
        _next_start(rng, m, k, bg_top, bg_vols, gap, top, vols, mm, cum, fills)
        out[k] = _episode(rng, m, depths, w, rec, rewards)


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
def _q_learning(rng, m, Q, schedule, start, w, history):
    """Tabular Q-learning (γ = 1) over len(schedule.epsilons) episodes, updating Q in place
    and filling ``history`` (``w`` is work space)."""
    epsilons, alphas = schedule
    bg_top, bg_vols, gap = start
    top, vols, mm, cum, fills = w
    episode_rewards, start_values = history
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


@_kernel
def _double_q_learning(rng, m, tables, schedule, start, w, history):
    """Double Q-learning (γ = 1) over len(schedule.epsilons) episodes, updating both tables
    in place and filling ``history`` with the double estimate of the start state's value
    (``w`` is work space). The draws are those of :func:`_q_learning`, plus one uniform after
    each step that picks the table to update."""
    QA, QB, S = tables
    epsilons, alphas = schedule
    bg_top, bg_vols, gap = start
    top, vols, mm, cum, fills = w
    episode_rewards, start_values = history
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
            else:                                    # greedy on Q^A + Q^B
                action = _greedy_action(S, tb, ib)
            _clear(fills)
            _market_maker_step(rng, m, top, vols, mm, cum, action // D + 1, action % D + 1, fills)
            x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
            v_prev = v
            total += r
            tb_next, tb_left = _next_bucket(tb, tb_left, m)
            ib_next = _inventory_bucket(q, m.kappa, m.n_inv) + m.n_inv
            if _pcg64.random(rng) < 0.5:             # update A, valued by B, or the reverse
                upd, other = QA, QB
            else:
                upd, other = QB, QA
            target = r
            if t + 1 < m.T - 1:                      # else the liquidation step brings 0
                target += other[tb_next, ib_next, _greedy_action(upd, tb_next, ib_next)]
            upd[tb, ib, action] += alpha * (target - upd[tb, ib, action])
            # the sum is rewritten from the two tables, not accumulated: it stays Q^A + Q^B
            # to the last bit
            S[tb, ib, action] = QA[tb, ib, action] + QB[tb, ib, action]
            tb = tb_next
            ib = ib_next
        _clear(fills)                                # t = T−1: liquidate, one more step
        _liquidate(m, top, vols, q, fills)
        _run_alone(rng, m, top, vols, mm, cum, m.dt, fills)                # no orders rest
        x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
        total += r
        episode_rewards[k] = total
        start_values[k] = 0.5 * (QB[0, m.n_inv, _greedy_action(QA, 0, m.n_inv)]
                                 + QA[0, m.n_inv, _greedy_action(QB, 0, m.n_inv)])


@_kernel
def _mc_control(rng, m, Q, schedule, start, w, history, path):
    """Every-visit Monte-Carlo control (γ = 1) over len(schedule.epsilons) episodes: each
    episode ε-greedy on Q with the draws of :func:`_q_learning`, recorded in ``path``; after
    it, Q(s_t, a_t) += α (G_t − Q(s_t, a_t)) for t = T−2 down to 0, G_t = r_t + G_{t+1} and
    G_{T−1} = r_{T−1} (0 by construction). Fills ``history`` (``w`` is work space)."""
    epsilons, alphas = schedule
    bg_top, bg_vols, gap = start
    top, vols, mm, cum, fills = w
    episode_rewards, start_values = history
    tbs, ibs, actions, rewards = path
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
            tbs[t] = tb
            ibs[t] = ib
            actions[t] = action
            rewards[t] = r
            tb, tb_left = _next_bucket(tb, tb_left, m)
            ib = _inventory_bucket(q, m.kappa, m.n_inv) + m.n_inv
        _clear(fills)                                # t = T−1: liquidate, one more step
        _liquidate(m, top, vols, q, fills)
        _run_alone(rng, m, top, vols, mm, cum, m.dt, fills)                # no orders rest
        x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
        total += r
        g = r                                        # the return, accumulated backwards
        for t in range(m.T - 2, -1, -1):
            g += rewards[t]
            tb = tbs[t]
            ib = ibs[t]
            a = actions[t]
            Q[tb, ib, a] += alpha * (g - Q[tb, ib, a])
        episode_rewards[k] = total
        start_values[k] = _row_max(Q, 0, m.n_inv)


@_inline
def _tile(tiles, i, t, q):
    """Tiling i's active tile (time tile, inventory tile) at step t and inventory q (clipped
    to ±R): two look-ups in the tables the Python side computed."""
    R = tiles.limit
    return tiles.time_tile[t, i], tiles.inventory_tile[min(max(q, -R), R) + R, i]


@_inline
def _tile_value(tiles, n, t, q, a):
    """q(t, Q, a): the active tiles' weights of action a, added tiling by tiling from 0."""
    value = 0.0
    for i in range(n):
        ix, iy = _tile(tiles, i, t, q)
        value += tiles.weights[i, ix, iy, a]
    return value


@_inline
def _tile_values(tiles, n, t, q):
    """q(t, Q, a) for every action a into ``tiles.values[0, 0]``, each added as in
    :func:`_tile_value` (so each equals it to the last bit)."""
    weights, out = tiles.weights, tiles.values
    A = weights.shape[3]
    for a in range(A):
        out[0, 0, a] = 0.0
    for i in range(n):
        ix, iy = _tile(tiles, i, t, q)
        for a in range(A):
            out[0, 0, a] += weights[i, ix, iy, a]


@_kernel
def _tile_q_learning(rng, m, tiles, schedule, start, w, history):
    """Semi-gradient Q-learning (γ = 1) of tile-coded weights over len(schedule.epsilons)
    episodes, with the draws of :func:`_q_learning`; greedy on q at the exact (t, Q). Updates
    ``tiles.weights`` in place and fills ``history`` (``w`` is work space)."""
    epsilons, alphas = schedule
    bg_top, bg_vols, gap = start
    top, vols, mm, cum, fills = w
    episode_rewards, start_values = history
    weights, values = tiles.weights, tiles.values
    n = weights.shape[0]
    D = m.max_depth
    T = m.T
    for k in range(epsilons.size):
        eps = epsilons[k]
        step = alphas[k] / n
        _next_start(rng, m, k, bg_top, bg_vols, gap, top, vols, mm, cum, fills)
        _refresh(m, vols, cum)
        x = 0
        q = 0
        v_prev = 0
        total = 0.0
        # ``values`` holds q(s_t, ·) at each decision: computed in full for s_{t+1} (for the
        # target) before the update, then its one entry the update changed recomputed, which
        # gives the full recomputation's numbers at a fraction of its cost
        _tile_values(tiles, n, 0, 0)
        for t in range(T - 1):                       # decisions at t = 0…T−2
            if _pcg64.random(rng) < eps:
                action = _uniform_int(rng, D * D)
            else:
                action = _greedy_action(values, 0, 0)
            value = values[0, 0, action]             # q(s_t, a_t)
            q_now = q
            _clear(fills)
            _market_maker_step(rng, m, top, vols, mm, cum, action // D + 1, action % D + 1, fills)
            x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
            v_prev = v
            total += r
            target = r
            last = t + 1 == T - 1                    # the liquidation step that follows brings 0
            if not last:
                _tile_values(tiles, n, t + 1, q)
                target += _row_max(values, 0, 0)
            delta = target - value
            for i in range(n):
                ix, iy = _tile(tiles, i, t, q_now)
                weights[i, ix, iy, action] += step * delta
            if not last:
                values[0, 0, action] = _tile_value(tiles, n, t + 1, q, action)
        _clear(fills)                                # t = T−1: liquidate, one more step
        _liquidate(m, top, vols, q, fills)
        _run_alone(rng, m, top, vols, mm, cum, m.dt, fills)                # no orders rest
        x, q, v, r = _settle(m, top, vols, fills, x, q, v_prev)
        total += r
        episode_rewards[k] = total
        _tile_values(tiles, n, 0, 0)
        start_values[k] = _row_max(values, 0, 0)


@_kernel
def _tile_q_table(m, tiles, steps, inventories, Q):
    """Q[tb, ib, a] = q(steps[tb], inventories[ib], a): tile-coded q on a table's grid."""
    n = tiles.weights.shape[0]
    for tb in range(Q.shape[0]):
        for ib in range(Q.shape[1]):
            _tile_values(tiles, n, steps[tb], inventories[ib])
            for a in range(Q.shape[2]):
                Q[tb, ib, a] = tiles.values[0, 0, a]


# --------------------------------------------------------------------------------------
# One decision at a time, for the gymnasium environment (mmcourse.envs)
# --------------------------------------------------------------------------------------

@_kernel
def _env_start(m, w):
    """Prepare an episode's first decision from the book in ``w`` (the cancellation sums)."""
    top, vols, mm, cum, fills = w
    _refresh(m, vols, cum)


@_kernel
def _env_step(rng, m, w, d_b, d_a, account):
    """One decision t < T − 1 of an episode: quote (d_b, d_a), let the book run for dt, book
    the fills. ``account`` = [X, Q, V] is updated. Returns (r_t, number of book events)."""
    top, vols, mm, cum, fills = w
    _clear(fills)
    n = _market_maker_step(rng, m, top, vols, mm, cum, d_b, d_a, fills)
    x, q, v, r = _settle(m, top, vols, fills, account[0], account[1], account[2])
    account[0] = x
    account[1] = q
    account[2] = v
    return r, n


@_kernel
def _env_last_step(rng, m, w, account):
    """The last step t = T − 1: liquidate the inventory, let the book run for dt with no
    orders. ``account`` is updated. Returns (r_{T−1}, number of book events)."""
    top, vols, mm, cum, fills = w
    _clear(fills)
    _liquidate(m, top, vols, account[1], fills)
    n = _run_alone(rng, m, top, vols, mm, cum, m.dt, fills)
    x, q, v, r = _settle(m, top, vols, fills, account[0], account[1], account[2])
    account[0] = x
    account[1] = q
    account[2] = v
    return r, n
