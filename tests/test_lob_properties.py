"""Property-based tests of mmcourse.lob (hypothesis): invariants of the book and of the
market maker's accounts over random books, events, parameters, strategies and seeds, in the
compiled code and in the pure-Python reference."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmcourse import lob
from mmcourse.lob import Book, LOBParams
from mmcourse.lob import reference as ref

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def books(draw):
    """A valid book: L levels, spread s ≤ L + 1, empty inside the spread, volume at the best."""
    L = draw(st.integers(2, 8))
    s = draw(st.integers(1, L + 1))

    def side():
        volumes = [0] * (s - 1) + [draw(st.integers(0, 6)) for _ in range(L - s + 1)]
        if s <= L:
            volumes[s - 1] = max(volumes[s - 1], 1)
        return tuple(volumes)

    return Book(draw(st.integers(20, 200)), s, side(), side())


@st.composite
def events(draw, book: Book):
    """An event that is valid on ``book``, as (event, level, size)."""
    options = ["limit_buy", "limit_sell"]
    if any(book.bid_volumes):
        options.append("cancel_buy")
    if any(book.ask_volumes):
        options.append("cancel_sell")
    if book.best_bid_volume:
        options.append("market_sell")
    if book.best_ask_volume:
        options.append("market_buy")
    event = draw(st.sampled_from(options))
    L = book.num_levels
    if event.startswith("limit"):
        return event, draw(st.integers(1, L)), draw(st.integers(1, L))
    if event.startswith("cancel"):
        volumes = book.bid_volumes if event == "cancel_buy" else book.ask_volumes
        level = draw(st.sampled_from([j + 1 for j in range(L) if volumes[j] > 0]))
        return event, level, draw(st.integers(1, volumes[level - 1]))
    available = book.best_bid_volume if event == "market_sell" else book.best_ask_volume
    return event, None, draw(st.integers(1, available))


@SETTINGS
@given(st.data(), books(), st.integers(1, 3))
def test_event_sequences_keep_the_book_valid(data, book, outside):
    """Each result is a valid Book (never crossed: b < a; volumes ≥ 0; nothing inside the
    spread; volume at the best price in the window), equal in the compiled code and the
    reference, and volume is conserved away from the window's edges."""
    for _ in range(12):
        event, level, size = data.draw(events(book))
        after = lob.apply_event(book, event, level, size, outside_volume=outside)
        assert after == ref.apply_event(book, event, level, size, outside)
        assert after.bid < after.ask
        if after.ask == book.ask and after.spread == book.spread:   # no window moved
            change = sum(after.bid_volumes) + sum(after.ask_volumes) - sum(book.bid_volumes) - sum(book.ask_volumes)
            assert change == (size if event.startswith("limit") else -size)
        book = after


@st.composite
def params(draw):
    L = draw(st.integers(6, 12))
    n = draw(st.integers(1, 5))
    scale = draw(st.floats(0.3, 3.0))
    T = draw(st.integers(3, 40))
    return LOBParams(
        T=T, num_time_buckets=draw(st.integers(1, T)), num_levels=L,
        max_quote_depth=draw(st.integers(1, 5)), default_order_size=draw(st.integers(1, 8)),
        kappa=draw(st.integers(1, 4)), max_inventory_bucket=draw(st.integers(0, 4)),
        limit_rates=tuple(scale * r for r in LOBParams().limit_rates[:n]),
        cancel_rates=LOBParams().cancel_rates[:draw(st.integers(1, 5))],
        market_rate=draw(st.sampled_from([0.0, 0.0467, 0.3])),
        outside_volume=draw(st.integers(1, 3)), phi=draw(st.sampled_from([0.0, 0.01])),
        # sizes: numpy draws geometric(p) by search for p ≥ 1/3 (the defaults), else by inversion
        limit_size_decay=draw(st.sampled_from([0.5667, 0.2, 1.5])),
        market_size_decay=draw(st.sampled_from([0.4955, 0.1, 2.0])),
        dt=draw(st.sampled_from([0.5, 1.0, 2.0])), burn_in=draw(st.sampled_from([0.0, 20.0])),
        start_gap=5.0)


@st.composite
def strategies(draw, D):
    kind = draw(st.sampled_from(["constant", "random"]))
    if kind == "random":
        return lob.random_policy()
    return lob.constant_policy(draw(st.integers(1, D)), draw(st.integers(1, D)))


@SETTINGS
@given(st.data(), params(), st.integers(0, 2**32 - 1))
def test_episodes_account_for_every_fill(data, p, seed):
    policy = data.draw(strategies(p.max_quote_depth))
    ep = lob.simulate_episode(policy, p, seed=seed)
    out = ref.simulate_episode(policy, p, np.random.default_rng(seed))
    for k in ("bid", "ask", "bought", "sold", "cash", "inventory", "value", "reward", "n_events"):
        assert np.array_equal(getattr(ep, k), out[k]), k
    assert ep.end_book == out["end_book"]
    # the reference's log of fills accounts for cash and inventory after every step
    for t in range(p.T):
        fills = [f for f in out["fills"] if f[0] <= t]
        cash = sum(price * vol for _, side, price, vol in fills if side == "sell") - \
            sum(price * vol for _, side, price, vol in fills if side == "buy")
        inventory = sum(vol for _, side, _, vol in fills if side == "buy") - \
            sum(vol for _, side, _, vol in fills if side == "sell")
        assert ep.cash[t] == cash and ep.inventory[t] == inventory
    # before the last step, fills are at the step's own quotes and at most the order size
    for t, side, price, vol in out["fills"]:
        if t < p.T - 1:
            assert price == (ep.bid_quote[t] if side == "buy" else ep.ask_quote[t])
    assert (ep.bought[:-1] <= p.default_order_size).all() and (ep.sold[:-1] <= p.default_order_size).all()
    # never crossed; flat at the end; total reward = final cash − φ Σ Q_t²
    assert (ep.bid < ep.ask).all() and (ep.bid_quote[:-1] < ep.ask_quote[:-1]).all()
    assert ep.inventory[-1] == 0 and ep.reward[-1] == 0
    assert np.isclose(ep.total_reward, ep.final_cash - p.phi * (ep.inventory.astype(float) ** 2).sum())
    # the same seed gives the same episode
    again = lob.simulate_episode(policy, p, seed=seed)
    assert np.array_equal(again.reward, ep.reward) and again.end_book == ep.end_book


@SETTINGS
@given(params(), st.integers(0, 2**32 - 1))
def test_the_book_alone_stays_valid(p, seed):
    """Snapshots every 0.05 time units (about one per event) are valid books."""
    sim = lob.simulate_book(30.0, p, seed=seed, record_every=0.05)
    for k in range(0, len(sim.times), 7):
        book = sim.book_at(k)                  # Book() checks the invariants
        assert book.bid < book.ask
    assert (sim.bid_volumes >= 0).all() and (sim.ask_volumes >= 0).all()
    out = ref.simulate_book(30.0, p, np.random.default_rng(seed))
    assert sim.n_events == out["n_events"] and sim.end_book == out["end_book"]
