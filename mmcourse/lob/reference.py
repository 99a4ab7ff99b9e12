"""The Markov-chain limit order book and its market maker, one plain Python event at a time.

The same rules as :mod:`mmcourse.lob`, written as the algorithm reads: Python ints and lists,
the rates recomputed at every event, no compilation. Random numbers are drawn in the same order
with the same ``numpy.random.Generator`` methods (waiting time, then the event, then its
size; a policy's or ε-greedy's draws at the start of a step), so the same seed gives the
same book, the same episodes and the same Q table as the compiled code.
"""

from __future__ import annotations

import math

import numpy as np

from mmcourse.lob.book import Book
from mmcourse.lob.params import EVENT_TYPES, LOBParams
from mmcourse.lob.policies import RandomPolicy

LIMIT_BUY, LIMIT_SELL, CANCEL_BUY, CANCEL_SELL, MARKET_SELL, MARKET_BUY = range(6)


class Rates:
    """λ_i, θ_i (index i = 1…L; index 0 unused), μ and the size parameters of ``params``."""

    def __init__(self, params: LOBParams):
        L = params.num_levels
        self.lam = [0.0] * (L + 1)
        self.theta = [0.0] * (L + 1)
        for i, rate in enumerate(params.limit_rates[:L]):
            self.lam[i + 1] = float(rate)
        for i, rate in enumerate(params.cancel_rates[:L]):
            self.theta[i + 1] = float(rate)
        self.n_lam = max(i for i in range(L + 1) if i == 0 or self.lam[i] > 0)
        self.n_theta = max(i for i in range(L + 1) if i == 0 or self.theta[i] > 0)
        self.lam_total = 0.0
        for i in range(1, self.n_lam + 1):
            self.lam_total += self.lam[i]
        self.mu = params.market_rate
        self.p_limit = 1.0 - math.exp(-params.limit_size_decay)
        self.p_market = 1.0 - math.exp(-params.market_size_decay)
        self.outside = params.outside_volume


class RefBook:
    """Best ask, spread, and volumes by distance from the opposite best price (lists with an
    unused index 0: ``bid[j]`` at ask − j, ``ask[j]`` at bid + j)."""

    def __init__(self, book: Book):
        self.a = book.ask
        self.s = book.spread
        self.bid = [0] + list(book.bid_volumes)
        self.ask = [0] + list(book.ask_volumes)
        self.L = book.num_levels

    def copy(self) -> RefBook:
        return RefBook(self.value())

    def value(self) -> Book:
        return Book(self.a, self.s, tuple(self.bid[1:]), tuple(self.ask[1:]))

    @property
    def b(self) -> int:
        return self.a - self.s

    def best_bid_volume(self) -> int:
        return self.bid[self.s] if self.s <= self.L else 0

    def best_ask_volume(self) -> int:
        return self.ask[self.s] if self.s <= self.L else 0

    # the window moves with the opposite best price
    def _closer(self, vol, ticks, outside):
        for j in range(1, self.L + 1):
            vol[j] = vol[j + ticks] if j + ticks <= self.L else outside

    def _away(self, vol, ticks):
        for j in range(self.L, 0, -1):
            vol[j] = vol[j - ticks] if j > ticks else 0

    def add_bid(self, j, v, outside):
        if j < self.s:                   # inside the spread: a new best bid
            self._closer(self.ask, self.s - j, outside)
            self.s = j
        self.bid[j] += v

    def add_ask(self, j, v, outside):
        if j < self.s:                   # inside the spread: a new best ask
            self._closer(self.bid, self.s - j, outside)
            self.a -= self.s - j
            self.s = j
        self.ask[j] += v

    def remove_bid(self, j, v):
        self.bid[j] -= v
        if j == self.s and self.bid[j] == 0:     # the bid falls to the next volume
            k = self.s + 1
            while k <= self.L and self.bid[k] == 0:
                k += 1
            self._away(self.ask, k - self.s)
            self.s = k

    def remove_ask(self, j, v):
        self.ask[j] -= v
        if j == self.s and self.ask[j] == 0:     # the ask rises to the next volume
            k = self.s + 1
            while k <= self.L and self.ask[k] == 0:
                k += 1
            self._away(self.bid, k - self.s)
            self.a += k - self.s
            self.s = k

    def apply(self, event, j, size, outside):
        if event == LIMIT_BUY:
            self.add_bid(j, size, outside)
        elif event == LIMIT_SELL:
            self.add_ask(j, size, outside)
        elif event in (CANCEL_BUY, MARKET_SELL):
            self.remove_bid(j, size)
        else:
            self.remove_ask(j, size)

    def liquidation_value(self, q, outside) -> int:
        """What selling q > 0 (buying −q) by walking the book would bring (cost, negated)."""
        cash, left, j = 0, abs(q), self.s
        while left > 0:
            available = (self.bid[j] if q > 0 else self.ask[j]) if j <= self.L else outside
            take = min(left, available)
            cash += take * (self.a - j if q > 0 else self.b + j)
            left -= take
            j += 1
        return cash if q > 0 else -cash


class Quotes:
    """The market maker's resting orders: prices and what is left of them."""

    def __init__(self):
        self.bid_price = self.bid_left = self.ask_price = self.ask_left = 0


def apply_event(book: Book, event: str, level=None, size: int = 1, outside_volume: int = 1) -> Book:
    """The book after one event (no checks: see :func:`mmcourse.lob.apply_event`)."""
    ref = RefBook(book)
    code = EVENT_TYPES.index(event)
    ref.apply(code, ref.s if level is None else level, size, outside_volume)
    return ref.value()


def run_book(book: RefBook, quotes: Quotes, duration: float, rates: Rates, rng, fills=None,
             log=None, stats=None) -> int:
    """Run the book for ``duration`` with the quotes resting in it; returns the event count.

    ``fills`` (dict) accumulates the market maker's fills, ``log`` (list) gets one
    (side, price, volume) per fill, ``stats`` (dict) counts events and spreads.
    """
    L = book.L
    tau = 0.0
    n = 0
    while True:
        # the market maker's own volume cannot be cancelled by the other traders
        jb = book.a - quotes.bid_price if quotes.bid_left > 0 else -1
        ja = quotes.ask_price - book.b if quotes.ask_left > 0 else -1
        other_bid = [book.bid[i] - (quotes.bid_left if i == jb else 0) for i in range(L + 1)]
        other_ask = [book.ask[i] - (quotes.ask_left if i == ja else 0) for i in range(L + 1)]
        cancel_buy = cancel_sell = 0.0
        for i in range(1, rates.n_theta + 1):
            cancel_buy += rates.theta[i] * other_bid[i]
            cancel_sell += rates.theta[i] * other_ask[i]
        market_sell = rates.mu if book.best_bid_volume() > 0 else 0.0
        market_buy = rates.mu if book.best_ask_volume() > 0 else 0.0
        type_rates = [rates.lam_total, rates.lam_total, cancel_buy, cancel_sell, market_sell, market_buy]
        R = type_rates[0] + type_rates[1] + type_rates[2] + type_rates[3] + type_rates[4] + type_rates[5]

        tau += rng.exponential(1.0 / R)
        if tau >= duration:
            return n
        u = rng.random() * R
        event = None
        for k in range(6):
            if u < type_rates[k]:
                event = k
                break
            u -= type_rates[k]
        if event is None:                # rounding: the last type with a positive rate
            event = max(k for k in range(6) if type_rates[k] > 0)
            u = type_rates[event]
        if event in (LIMIT_BUY, LIMIT_SELL):
            j, acc = rates.n_lam, 0.0
            for i in range(1, rates.n_lam + 1):
                acc += rates.lam[i]
                if u < acc:
                    j = i
                    break
        elif event in (CANCEL_BUY, CANCEL_SELL):
            other = other_bid if event == CANCEL_BUY else other_ask
            j, acc, last = None, 0.0, 1
            for i in range(1, rates.n_theta + 1):
                rate = rates.theta[i] * other[i]
                acc += rate
                if rate > 0:
                    last = i
                if u < acc:
                    j = i
                    break
            j = last if j is None else j
        else:
            j = book.s

        if stats is not None:
            stats["counts"][event] += 1
            stats["spread_events"][book.s] += 1

        if event in (LIMIT_BUY, LIMIT_SELL):
            size = rng.geometric(rates.p_limit)
            while size > L:              # truncated at L
                size = rng.geometric(rates.p_limit)
        elif event in (CANCEL_BUY, CANCEL_SELL):
            size = 1
        else:                            # market orders never walk the book
            available = book.bid[j] if event == MARKET_SELL else book.ask[j]
            size = rng.geometric(rates.p_market)
            while size > available:
                size = rng.geometric(rates.p_market)
            if event == MARKET_SELL and quotes.bid_left > 0 and quotes.bid_price == book.b:
                fill = min(size, quotes.bid_left)            # the market maker is first
                quotes.bid_left -= fill
                _record(fills, log, "buy", book.b, fill)
            if event == MARKET_BUY and quotes.ask_left > 0 and quotes.ask_price == book.a:
                fill = min(size, quotes.ask_left)
                quotes.ask_left -= fill
                _record(fills, log, "sell", book.a, fill)
        book.apply(event, j, size, rates.outside)
        # a resting order pushed out of the window is forgotten with its level
        if quotes.bid_left > 0 and book.a - quotes.bid_price > L:
            quotes.bid_left = 0
        if quotes.ask_left > 0 and quotes.ask_price - book.b > L:
            quotes.ask_left = 0
        n += 1


def _record(fills, log, side, price, volume):
    if fills is not None:
        fills[side] += volume
        fills[side + "_cash"] += price * volume
    if log is not None:
        log.append((side, price, volume))


def market_maker_step(book, quotes, d_b, d_a, params, rates, rng, fills, log) -> int:
    """Quote (widening if s ≥ d_b + d_a), run the book for dt, cancel the remainders."""
    L = book.L
    if book.s >= d_b + d_a:
        grow = math.ceil((book.s - d_b - d_a + 1) / 2)
        d_b += grow
        d_a += grow
    a, b = book.a, book.b                # prices read before either order goes in
    quotes.bid_price, quotes.bid_left = a - d_b, params.default_order_size
    quotes.ask_price, quotes.ask_left = b + d_a, params.default_order_size
    book.add_bid(d_b, params.default_order_size, rates.outside)
    book.add_ask(quotes.ask_price - book.b, params.default_order_size, rates.outside)
    n = run_book(book, quotes, params.dt, rates, rng, fills, log)
    if quotes.bid_left > 0:
        book.remove_bid(book.a - quotes.bid_price, quotes.bid_left)
        quotes.bid_left = 0
    if quotes.ask_left > 0:
        j = quotes.ask_price - book.b
        if j <= L:
            book.remove_ask(j, quotes.ask_left)
        quotes.ask_left = 0
    return n


def liquidate(book, q, outside, fills, log):
    """Sell (buy) q at the best price, then worse ones; beyond the window ``outside`` per tick."""
    L = book.L
    while q > 0 and book.s <= L:
        take = min(q, book.bid[book.s])
        _record(fills, log, "sell", book.b, take)
        q -= take
        book.remove_bid(book.s, take)
    while q < 0 and book.s <= L:
        take = min(-q, book.ask[book.s])
        _record(fills, log, "buy", book.a, take)
        q += take
        book.remove_ask(book.s, take)
    j = L + 1
    while q != 0:
        take = min(abs(q), outside)
        if q > 0:
            _record(fills, log, "sell", book.a - j, take)
            q -= take
        else:
            _record(fills, log, "buy", book.b + j, take)
            q += take
        j += 1


def inventory_bucket(q, kappa, n_inv) -> int:
    if q > 0:
        return min(math.ceil(q / kappa), n_inv)
    if q < 0:
        return max(math.floor(q / kappa), -n_inv)
    return 0


def background(params: LOBParams, start_book, rng):
    """The starting book (after the burn-in) and the gap between episodes' starting books."""
    if start_book is not None:
        return RefBook(start_book), 0.0
    book = RefBook(Book.simple(params.num_levels, params.start_price))
    if params.burn_in > 0:
        run_book(book, Quotes(), params.burn_in, Rates(params), rng)
    return book, params.start_gap


def simulate_book(duration, params: LOBParams, rng, start_book=None) -> dict:
    """The book alone: event count, counts by type and by spread, start and end book."""
    rates = Rates(params)
    book, _ = background(params, start_book, rng)
    start = book.value()
    stats = {"counts": [0] * 6, "spread_events": [0] * (params.num_levels + 2)}
    n = run_book(book, Quotes(), duration, rates, rng, stats=stats)
    return {"n_events": n, "counts": stats["counts"], "spread_events": stats["spread_events"][1:],
            "start_book": start, "end_book": book.value()}


def play_episode(book: RefBook, policy, params: LOBParams, rates: Rates, rng) -> dict:
    """One episode from ``book`` (changed in place); per-step lists and a log of the fills."""
    table = policy.depth_table(params)
    D = params.max_quote_depth
    quotes = Quotes()
    x = q = v_prev = 0
    out = {k: [] for k in ("bid", "ask", "bid_depth", "ask_depth", "bid_quote", "ask_quote",
                           "bought", "sold", "cash", "inventory", "value", "n_events", "reward")}
    log = []
    for t in range(params.T):
        out["bid"].append(book.b)
        out["ask"].append(book.a)
        fills = {"buy": 0, "buy_cash": 0, "sell": 0, "sell_cash": 0}
        step_log = []
        if t < params.T - 1:
            if isinstance(policy, RandomPolicy):
                d_b = int(rng.random() * D) + 1
                d_a = int(rng.random() * D) + 1
            else:
                tb = t * params.num_time_buckets // params.T
                ib = inventory_bucket(q, params.kappa, params.max_inventory_bucket)
                d_b, d_a = (int(d) for d in table[tb, ib + params.max_inventory_bucket])
            a, b = book.a, book.b
            n = market_maker_step(book, quotes, d_b, d_a, params, rates, rng, fills, step_log)
            out["bid_quote"].append(quotes.bid_price)
            out["ask_quote"].append(quotes.ask_price)
            out["bid_depth"].append(a - quotes.bid_price)
            out["ask_depth"].append(quotes.ask_price - b)
        else:                            # liquidate, then one more step with no quotes
            liquidate(book, q, rates.outside, fills, step_log)
            n = run_book(book, quotes, params.dt, rates, rng)
            for k in ("bid_quote", "ask_quote", "bid_depth", "ask_depth"):
                out[k].append(0)
        log += [(t, *fill) for fill in step_log]
        x += fills["sell_cash"] - fills["buy_cash"]
        q += fills["buy"] - fills["sell"]
        v = x + book.liquidation_value(q, rates.outside)
        out["reward"].append(float(v - v_prev) - params.phi * q * q)
        v_prev = v
        for k, value in (("bought", fills["buy"]), ("sold", fills["sell"]), ("cash", x),
                         ("inventory", q), ("value", v), ("n_events", n)):
            out[k].append(value)
    out["fills"] = log
    out["end_book"] = book.value()
    return out


def simulate_episode(policy, params: LOBParams, rng, start_book=None) -> dict:
    """One episode from the burnt-in (or given) book."""
    book, _ = background(params, start_book, rng)
    start = book.value()
    out = play_episode(book, policy, params, Rates(params), rng)
    out["start_book"] = start
    return out


def evaluate_policy(policy, params: LOBParams, n_episodes: int, rng, start_book=None) -> list:
    """Total rewards of n episodes, each from the background book run ``start_gap`` further."""
    rates = Rates(params)
    bg, gap = background(params, start_book, rng)
    totals = []
    for k in range(n_episodes):
        if k > 0 and gap > 0:
            run_book(bg, Quotes(), gap, rates, rng)
        totals.append(sum(play_episode(bg.copy(), policy, params, rates, rng)["reward"]))
    return totals


def q_learning(params: LOBParams, epsilons, alphas, rng, start_book=None):
    """Tabular Q-learning with the given schedules; returns (Q, episode rewards, start values)."""
    rates = Rates(params)
    D = params.max_quote_depth
    c = params.max_inventory_bucket
    Q = [[[0.0] * (D * D) for _ in range(2 * c + 1)] for _ in range(params.num_time_buckets)]
    bg, gap = background(params, start_book, rng)
    rewards, start_values = [], []
    for k, (eps, alpha) in enumerate(zip(epsilons, alphas)):
        eps, alpha = float(eps), float(alpha)
        if k > 0 and gap > 0:
            run_book(bg, Quotes(), gap, rates, rng)
        book, quotes = bg.copy(), Quotes()
        x = q = v_prev = 0
        total = 0.0
        tb, ib = 0, c
        for t in range(params.T - 1):
            if rng.random() < eps:
                action = int(rng.random() * (D * D))
            else:
                row = Q[tb][ib]
                action = row.index(max(row))          # the lowest index among ties
            fills = {"buy": 0, "buy_cash": 0, "sell": 0, "sell_cash": 0}
            market_maker_step(book, quotes, action // D + 1, action % D + 1, params, rates, rng, fills, None)
            x += fills["sell_cash"] - fills["buy_cash"]
            q += fills["buy"] - fills["sell"]
            v = x + book.liquidation_value(q, rates.outside)
            r = float(v - v_prev) - params.phi * q * q
            v_prev = v
            total += r
            tb_next = (t + 1) * params.num_time_buckets // params.T
            ib_next = inventory_bucket(q, params.kappa, c) + c
            target = r
            if t + 1 < params.T - 1:
                target += max(Q[tb_next][ib_next])
            Q[tb][ib][action] += alpha * (target - Q[tb][ib][action])
            tb, ib = tb_next, ib_next
        fills = {"buy": 0, "buy_cash": 0, "sell": 0, "sell_cash": 0}
        liquidate(book, q, rates.outside, fills, None)
        run_book(book, quotes, params.dt, rates, rng)
        x += fills["sell_cash"] - fills["buy_cash"]
        total += float(x - v_prev)
        rewards.append(total)
        start_values.append(max(Q[0][c]))
    return np.array(Q), np.array(rewards), np.array(start_values)
