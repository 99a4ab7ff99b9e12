"""Tests of mmcourse.lob: the book's rules, the market maker, statistics of the chain, the
thesis' benchmark numbers, Q-learning, the comparison runner and its files.

Statistical tolerances are z standard errors with z = 3.29 (two-sided 0.1 %) unless stated;
seeds are fixed, so every test is deterministic.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from mmcourse import lob
from mmcourse.core.estimates import Estimate
from mmcourse.lob import Book, LOBParams, apply_event
from mmcourse.lob import reference as ref

Z = 3.29

# Small burn-ins keep the pure-Python reference quick where it runs.
FAST = LOBParams(burn_in=30.0, start_gap=5.0)


def batch_se(x, n_batches=30) -> float:
    """Standard error of the mean of a correlated series, by batch means."""
    batches = np.array_split(np.asarray(x, dtype=float), n_batches)
    means = np.array([b.mean() for b in batches])
    return means.std(ddof=1) / np.sqrt(n_batches)


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------

def test_default_params_are_the_seed_and_the_spec():
    p = LOBParams()
    assert (p.dt, p.T, p.num_time_buckets, p.kappa, p.num_levels, p.default_order_size,
            p.max_quote_depth) == (1.0, 100, 100, 3, 10, 5, 5)
    assert p.limit_rates == (0.13860, 0.17725, 0.22445, 0.14340, 0.05625)
    assert p.cancel_rates == (0.12975, 0.11055, 0.05360, 0.04925, 0.04225)
    assert (p.market_rate, p.limit_size_decay, p.market_size_decay) == (0.0467, 0.5667, 0.4955)
    assert (p.outside_volume, p.phi, p.max_inventory_bucket) == (1, 0.0, 3)
    assert p.num_actions == 25 and p.num_inventory_buckets == 7
    rates = p.rates_by_level()
    assert len(rates) == 10 and rates.loc[6:, "limit_rate"].eq(0).all()


@pytest.mark.parametrize("field, value", [
    ("dt", 0), ("T", 1), ("T", 2.5), ("num_time_buckets", 0), ("num_time_buckets", 101),
    ("kappa", 0), ("num_levels", 1), ("max_quote_depth", 0), ("max_quote_depth", 10),
    ("default_order_size", 0), ("market_rate", -0.1), ("limit_size_decay", 0.0),
    ("market_size_decay", -1), ("outside_volume", 0), ("phi", -0.01), ("burn_in", -1),
    ("start_gap", float("nan")), ("max_inventory_bucket", -1), ("start_price", "100"),
    ("limit_rates", (0.1, -0.2)), ("limit_rates", (0.0, 0.0)), ("limit_rates", 3),
    ("cancel_rates", (0.1, float("inf"))),
])
def test_bad_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        LOBParams(**{field: value})


def test_num_levels_must_cover_the_nonzero_rates():
    with pytest.raises(ValueError, match="num_levels"):
        LOBParams(num_levels=4, max_quote_depth=3)        # λ_5 > 0 lies beyond L = 4
    p = LOBParams(num_levels=5, max_quote_depth=4, limit_rates=(0.1, 0.2, 0, 0, 0, 0, 0))
    assert p.num_levels == 5


def test_params_reject_non_params():
    with pytest.raises(ValueError, match="params"):
        lob.simulate_episode(lob.constant_policy(2), params={"T": 10})


# --------------------------------------------------------------------------------------
# The book and its six events, on a book small enough to work out by hand
# --------------------------------------------------------------------------------------

# L = 5, ask 100, spread 2 (bid 98). Bid volumes at 99, 98, 97, 96, 95; ask volumes at
# 99, 100, 101, 102, 103 (99 is inside the spread on both sides).
BOOK = Book(100, 2, (0, 3, 1, 0, 2), (0, 2, 4, 1, 1))


def test_book_properties():
    assert (BOOK.bid, BOOK.mid, BOOK.num_levels) == (98, 99.0, 5)
    assert (BOOK.best_bid_volume, BOOK.best_ask_volume) == (3, 2)
    frame = BOOK.to_frame()
    assert list(frame.price) == [95, 96, 97, 98, 99, 99, 100, 101, 102, 103]
    assert frame.volume.sum() == sum(BOOK.bid_volumes) + sum(BOOK.ask_volumes)
    assert Book.simple(4, ask=50) == Book(50, 1, (1,) * 4, (1,) * 4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(ask=100, spread=0, bid_volumes=(1, 1), ask_volumes=(1, 1)), "spread"),
    (dict(ask=100, spread=4, bid_volumes=(0, 0), ask_volumes=(0, 0)), "spread"),
    (dict(ask=100, spread=2, bid_volumes=(1, 1), ask_volumes=(0, 1)), "bid_volumes"),
    (dict(ask=100, spread=1, bid_volumes=(0, 1), ask_volumes=(1, 1)), "bid_volumes"),
    (dict(ask=100, spread=1, bid_volumes=(1, -1), ask_volumes=(1, 1)), "bid_volumes"),
    (dict(ask=100, spread=1, bid_volumes=(1, 1), ask_volumes=(1, 1, 1)), "same length"),
    (dict(ask=100.5, spread=1, bid_volumes=(1, 1), ask_volumes=(1, 1)), "ask"),
])
def test_bad_books(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Book(**kwargs)


@pytest.mark.parametrize("event, level, size, expected", [
    # inside the spread: a new best bid at 99; the ask window (from the bid) moves up one
    # tick, 103 → distance 4 and the entering level 104 brings the outside unit
    ("limit_buy", 1, 2, Book(100, 1, (2, 3, 1, 0, 2), (2, 4, 1, 1, 1))),
    ("limit_buy", 3, 5, Book(100, 2, (0, 3, 6, 0, 2), (0, 2, 4, 1, 1))),
    # a new best ask at 99: the bid window (from the ask) moves down, 94 enters with 1
    ("limit_sell", 1, 1, Book(99, 1, (3, 1, 0, 2, 1), (1, 2, 4, 1, 1))),
    ("cancel_buy", 2, 1, Book(100, 2, (0, 2, 1, 0, 2), (0, 2, 4, 1, 1))),
    # the best bid empties: the bid falls to 97, the ask window moves away, 103 is forgotten
    ("cancel_buy", 2, 3, Book(100, 3, (0, 0, 1, 0, 2), (0, 0, 2, 4, 1))),
    ("cancel_sell", 3, 4, Book(100, 2, (0, 3, 1, 0, 2), (0, 2, 0, 1, 1))),
    ("market_sell", None, 3, Book(100, 3, (0, 0, 1, 0, 2), (0, 0, 2, 4, 1))),
    ("market_sell", None, 1, Book(100, 2, (0, 2, 1, 0, 2), (0, 2, 4, 1, 1))),
    # the best ask empties: the ask rises to 101, the bid window moves away, 95 is forgotten
    ("market_buy", None, 2, Book(101, 3, (0, 0, 3, 1, 0), (0, 0, 4, 1, 1))),
])
def test_each_event_by_hand(event, level, size, expected):
    assert apply_event(BOOK, event, level, size) == expected
    assert ref.apply_event(BOOK, event, level, size) == expected


def test_an_emptied_side_jumps_beyond_the_window():
    book = Book(100, 1, (1, 1, 1, 1, 1), (1, 0, 0, 0, 0))
    empty = apply_event(book, "market_buy", size=1)
    # the ask moves to the first level beyond the window, L + 1 = 6 ticks above the bid 99;
    # both windows now lie inside the spread
    assert empty == Book(105, 6, (0,) * 5, (0,) * 5)
    assert (empty.best_bid_volume, empty.best_ask_volume) == (0, 0)
    with pytest.raises(ValueError, match="no volume"):
        apply_event(empty, "market_sell")
    # a limit buy at 103 closes the spread to 2; the ask at 105 and the levels above enter
    # the window with their outside unit each
    assert apply_event(empty, "limit_buy", 2, 3) == Book(105, 2, (0, 3, 0, 0, 0), (0, 1, 1, 1, 1))
    assert apply_event(empty, "limit_buy", 2, 3, outside_volume=2) == \
        Book(105, 2, (0, 3, 0, 0, 0), (0, 2, 2, 2, 2))


@pytest.mark.parametrize("args, match", [
    (("limit_bid", 1, 1), "event"),
    (("limit_buy", None, 1), "level"),
    (("limit_buy", 6, 1), "level"),
    (("limit_buy", 1, 0), "size"),
    (("market_buy", 2, 1), "level"),
    (("market_buy", None, 3), "size"),
    (("cancel_sell", 1, 1), "size"),            # distance 1 is inside the spread: empty
])
def test_apply_event_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        apply_event(BOOK, *args)
    with pytest.raises(ValueError, match="book"):
        apply_event("book", "limit_buy", 1)


def test_apply_event_does_not_change_its_book():
    before = BOOK
    apply_event(BOOK, "market_buy", size=2)
    assert BOOK == before == Book(100, 2, (0, 3, 1, 0, 2), (0, 2, 4, 1, 1))


# --------------------------------------------------------------------------------------
# The chain without a market maker
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_run():
    return lob.simulate_book(60_000.0, seed=2024, record_every=50.0)


def test_event_counts_match_their_intensities(long_run):
    """N(t) − ∫R dt is a martingale: each type's count matches its time-integrated rate.

    Limit orders arrive at the constant rate 2Σλ; the cancellation and market-order
    intensities are integrated along the path from its time-averaged book. The variance of
    N − ∫R dt is E[∫R dt], so the tolerance is z·√(integrated intensity).
    """
    p = LOBParams()
    sim, T = long_run, long_run.duration
    theta = np.asarray(p.rates_by_level().cancel_rate)
    limit = 2 * sum(p.limit_rates) * T
    cancel_buy = T * theta @ sim.mean_bid_volume
    cancel_sell = T * theta @ sim.mean_ask_volume
    market = p.market_rate * T * (1 - sim.spread_distribution.iloc[-1])   # best in the window
    counts = sim.event_counts
    assert abs(counts[0] + counts[1] - limit) < Z * math.sqrt(limit)
    assert abs(counts[0] - counts[1]) < Z * math.sqrt(limit)
    assert abs(counts[2] - cancel_buy) < Z * math.sqrt(cancel_buy)
    assert abs(counts[3] - cancel_sell) < Z * math.sqrt(cancel_sell)
    assert abs(counts[4] - market) < Z * math.sqrt(market)
    assert abs(counts[5] - market) < Z * math.sqrt(market)


def test_about_4_8_events_per_unit_time():
    """The thesis counts about 480 events per episode of 100: 4.8 per unit time to two
    significant figures (± 0.05). Independent runs give our rate's standard error."""
    rates = [lob.simulate_book(2_000.0, seed=k).events_per_unit_time for k in range(30)]
    mean, se = np.mean(rates), np.std(rates, ddof=1) / np.sqrt(len(rates))
    assert abs(mean - 4.8) < 0.05 + Z * se
    # with the market maker quoting, an episode has about 480 events too
    n = [lob.simulate_episode(lob.constant_policy(2), seed=k).n_events.sum() for k in range(100)]
    assert abs(np.mean(n) - 480) < 5 + Z * np.std(n, ddof=1) / np.sqrt(len(n))


def test_spread_mix_matches_the_thesis(long_run):
    """The thesis' 77/21/2.5 % (spread 1/2/3) are shares of *events* (the jump chain), not of
    time: states with more volume have more cancellations, so spread 1 weighs more per event.
    The thesis rounds its figures and uses its own bid and ask calibrations (ours average
    them), so we allow 2, 1.5 and 0.75 percentage points."""
    by_event = long_run.spread_distribution_by_event
    assert abs(by_event[1] - 0.77) < 0.02
    assert abs(by_event[2] - 0.21) < 0.015
    assert abs(by_event[3] - 0.025) < 0.0075
    by_time = long_run.spread_distribution
    assert by_time[1] < by_event[1] - 0.02           # the time shares differ, as explained
    assert by_time.sum() == pytest.approx(1.0)
    assert by_event.sum() == pytest.approx(1.0)


def test_book_simulation_records(long_run):
    sim = long_run
    assert len(sim.times) == 60_000 // 50 + 1 and sim.times[-1] == 60_000.0
    assert sim.event_mix.sum() == pytest.approx(1.0) and list(sim.event_mix.index) == list(lob.EVENT_TYPES)
    assert (sim.bids < sim.asks).all()
    assert sim.book_at(0) == sim.start_book
    assert sim.book_at(len(sim.times) - 1) == sim.end_book
    profile = sim.volume_profile()
    assert list(profile.columns) == ["bid", "ask"] and len(profile) == 10
    # by symmetry the two sides hold the same volume on average
    diff = (sim.bid_volumes - sim.ask_volumes).sum(axis=1)
    assert abs(diff.mean()) < Z * batch_se(diff)
    assert list(sim.path_frame().columns) == ["t", "bid", "ask", "spread"]


def test_simulate_book_bad_arguments():
    with pytest.raises(ValueError, match="duration"):
        lob.simulate_book(0.0)
    with pytest.raises(ValueError, match="record_every"):
        lob.simulate_book(10.0, record_every=-1)
    with pytest.raises(ValueError, match="start_book"):
        lob.simulate_book(10.0, start_book=BOOK)                   # L = 5 ≠ 10
    with pytest.raises(ValueError, match="start_book"):
        lob.simulate_book(10.0, start_book="simple")


def test_burn_in_reaches_the_long_run_book(long_run):
    """Starting books (the simple book after the burn-in) have the long-run mean depth.

    The deep levels (6–10 ticks from the opposite best) move only when the window shifts;
    their mean is the slowest to settle, so we test the total volume of the window."""
    depths = np.array([sum(lob.simulate_book(0.5, seed=k).start_book.bid_volumes) for k in range(150)])
    snapshots = long_run.bid_volumes.sum(axis=1)                  # every 50 time units
    se = math.hypot(depths.std(ddof=1) / np.sqrt(depths.size), batch_se(snapshots))
    assert abs(depths.mean() - snapshots.mean()) < Z * se
    # a short burn-in has not forgotten the simple book's thin deep levels
    short = np.array([sum(lob.simulate_book(0.5, LOBParams(burn_in=50.0), seed=k).start_book.bid_volumes[5:])
                      for k in range(150)])
    assert short.mean() < long_run.mean_bid_volume[5:].sum() - Z * short.std(ddof=1) / np.sqrt(150)


# --------------------------------------------------------------------------------------
# Policies and episodes
# --------------------------------------------------------------------------------------

def test_strategies_are_values():
    assert lob.constant_policy(2) == lob.ConstantPolicy(2, 2)
    assert lob.constant_policy(2, 3) != lob.constant_policy(2)
    assert lob.random_policy() == lob.RandomPolicy()
    assert repr(lob.constant_policy(2)) == "ConstantPolicy(bid_depth=2, ask_depth=2)"
    assert lob.constant_policy(2).label == "constant (depth 2)"
    assert lob.constant_policy(1, 3).label == "constant (bid depth 1, ask depth 3)"
    assert lob.random_policy().label == "random"
    assert len({lob.constant_policy(1), lob.constant_policy(1), lob.random_policy()}) == 2
    with pytest.raises(ValueError, match="bid_depth"):
        lob.constant_policy(0)
    with pytest.raises(ValueError, match="ask_depth"):
        lob.constant_policy(1, 2.5)
    with pytest.raises(ValueError, match="max_quote_depth"):
        lob.simulate_episode(lob.constant_policy(6))
    with pytest.raises(ValueError, match="policy"):
        lob.simulate_episode((2, 2))


def test_greedy_strategy_from_a_q_table():
    Q = np.zeros((100, 7, 25))
    Q[3, 4, 7] = 1.0                       # action 7 = (d_b, d_a) = (2, 3)
    g = lob.GreedyPolicy.from_q_table(Q)
    assert tuple(g.depths[3, 4]) == (2, 3)
    assert tuple(g.depths[0, 0]) == (1, 1)                      # ties: the lowest index
    assert g == lob.GreedyPolicy.from_q_table(Q) and hash(g) == hash(lob.GreedyPolicy.from_q_table(Q))
    assert g != lob.GreedyPolicy.from_q_table(np.zeros((100, 7, 25)))
    assert "100 time buckets" in repr(g)
    assert g.to_frame().loc[(3, 1)].tolist() == [2, 3]         # inventory bucket 4 − 3 = 1
    assert lob.evaluate_policy(g, n_episodes=5, seed=1).n == 5
    with pytest.raises(ValueError, match="shape"):
        lob.evaluate_policy(lob.GreedyPolicy(np.ones((10, 7, 2))), n_episodes=5)
    with pytest.raises(ValueError, match="depths"):
        lob.GreedyPolicy(np.zeros((100, 7, 2)))
    with pytest.raises(ValueError, match="Q"):
        lob.GreedyPolicy.from_q_table(np.zeros((100, 7, 24)))


def test_episode_frame():
    ep = lob.simulate_episode(lob.constant_policy(2), seed=3)
    frame = ep.to_frame()
    assert len(frame) == 100 and list(frame.t) == list(range(100))
    assert {"bid", "ask", "spread", "bid_depth", "ask_depth", "bought", "sold", "cash", "inventory",
            "value", "reward", "n_events"} <= set(frame.columns)
    assert frame[["bid_depth", "ask_depth", "bid_quote", "ask_quote"]].iloc[-1].isna().all()
    assert frame.bid_depth.iloc[:-1].notna().all()
    assert ep.start_book.ask == ep.ask[0] and ep.start_book.bid == ep.bid[0]


def test_episode_accounting():
    """Fills happen at the quotes; the value is cash plus liquidation value; the last step
    liquidates everything and brings reward 0; the total reward is the final cash."""
    for seed in range(20):
        ep = lob.simulate_episode(lob.random_policy(), seed=seed)
        inner = slice(0, 99)
        assert (ep.bought[inner] <= 5).all() and (ep.sold[inner] <= 5).all()
        cash_change = np.diff(ep.cash, prepend=0)
        assert (cash_change[inner] == ep.sold[inner] * ep.ask_quote[inner]
                - ep.bought[inner] * ep.bid_quote[inner]).all()
        assert (ep.inventory == np.cumsum(ep.bought - ep.sold)).all()
        assert ep.inventory[-1] == 0 and ep.reward[-1] == 0
        assert ep.value[-1] == ep.cash[-1] == ep.total_reward == ep.final_cash
        assert (np.diff(ep.value, prepend=0) == ep.reward).all()
        assert (ep.bid_quote[inner] < ep.ask_quote[inner]).all()          # never crossed or locked
        assert (ep.bid_quote[inner] <= ep.ask[inner] - 1).all() and (ep.ask_quote[inner] >= ep.bid[inner] + 1).all()


def test_depths_are_widened_only_when_the_quotes_would_cross_or_lock():
    for seed in range(10):
        ep = lob.simulate_episode(lob.constant_policy(1), seed=seed)
        s = ep.spread[:-1]
        grow = np.where(s >= 2, (s - 2 + 2) // 2, 0)          # ⌈(s − 2 + 1)/2⌉ when s ≥ d_b + d_a
        assert (ep.bid_depth[:-1] == 1 + grow).all() and (ep.ask_depth[:-1] == 1 + grow).all()
        ep = lob.simulate_episode(lob.constant_policy(3, 4), seed=seed)
        narrow = ep.spread[:-1] < 7
        assert (ep.bid_depth[:-1][narrow] == 3).all() and (ep.ask_depth[:-1][narrow] == 4).all()


def test_inventory_penalty():
    p = LOBParams(phi=0.01)
    ep = lob.simulate_episode(lob.constant_policy(1), p, seed=4)
    assert ep.total_reward == pytest.approx(ep.final_cash - 0.01 * (ep.inventory ** 2).sum())
    assert ep.final_cash == lob.simulate_episode(lob.constant_policy(1), seed=4).final_cash


def test_a_fixed_start_book():
    book = lob.simulate_book(1.0, seed=5).end_book
    ep = lob.simulate_episode(lob.constant_policy(2), seed=1, start_book=book)
    assert ep.start_book == book
    rewards = lob.evaluate_policy(lob.constant_policy(2), n_episodes=3, seed=1, start_book=book).samples
    assert rewards[0] == ep.total_reward


def test_same_seed_same_numbers_different_seed_different_numbers():
    s = lob.random_policy()
    a, b = lob.simulate_episode(s, seed=7), lob.simulate_episode(s, seed=7)
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("bid", "ask", "cash", "reward", "n_events"))
    assert not np.array_equal(a.n_events, lob.simulate_episode(s, seed=8).n_events)
    assert np.array_equal(lob.evaluate_policy(s, n_episodes=20, seed=1).samples,
                          lob.evaluate_policy(s, n_episodes=20, seed=1).samples)
    assert not np.array_equal(lob.evaluate_policy(s, n_episodes=20, seed=1).samples,
                              lob.evaluate_policy(s, n_episodes=20, seed=2).samples)
    # an int, a SeedSequence and a Generator made from them give the same numbers
    seq = lob.evaluate_policy(s, n_episodes=20, seed=np.random.SeedSequence(1)).samples
    gen = lob.evaluate_policy(s, n_episodes=20, seed=np.random.default_rng(1)).samples
    assert np.array_equal(seq, gen) and np.array_equal(seq, lob.evaluate_policy(s, n_episodes=20, seed=1).samples)
    assert lob.simulate_book(50.0, seed=3).end_book == lob.simulate_book(50.0, seed=3).end_book


def test_evaluate_bad_arguments():
    with pytest.raises(ValueError, match="n_episodes"):
        lob.evaluate_policy(lob.random_policy(), n_episodes=1)


# --------------------------------------------------------------------------------------
# The compiled code against the pure-Python reference: identical numbers from one seed
# --------------------------------------------------------------------------------------

EPISODE_FIELDS = ("bid", "ask", "bid_depth", "ask_depth", "bid_quote", "ask_quote", "bought", "sold",
                  "cash", "inventory", "value", "n_events", "reward")


@pytest.mark.parametrize("policy", [lob.constant_policy(2), lob.constant_policy(1, 4), lob.random_policy()])
def test_episodes_equal_the_reference(policy):
    for seed in range(4):
        ep = lob.simulate_episode(policy, FAST, seed=seed)
        out = ref.simulate_episode(policy, FAST, np.random.default_rng(seed))
        for k in EPISODE_FIELDS:
            assert np.array_equal(getattr(ep, k), out[k]), k
        assert ep.start_book == out["start_book"] and ep.end_book == out["end_book"]


def test_evaluation_and_book_equal_the_reference():
    p = LOBParams(burn_in=30.0, start_gap=5.0, phi=0.002, num_time_buckets=10, T=40)
    assert np.array_equal(lob.evaluate_policy(lob.random_policy(), p, 12, seed=3).samples,
                          ref.evaluate_policy(lob.random_policy(), p, 12, np.random.default_rng(3)))
    sim = lob.simulate_book(300.0, FAST, seed=9)
    out = ref.simulate_book(300.0, FAST, np.random.default_rng(9))
    assert sim.n_events == out["n_events"] and list(sim.event_counts) == out["counts"]
    assert list(sim.spread_events) == out["spread_events"] and sim.end_book == out["end_book"]


def test_q_learning_equals_the_reference():
    p = LOBParams(burn_in=30.0, start_gap=5.0, num_time_buckets=25)
    res = lob.q_learning(p, n_episodes=25, epsilon_cutoff=0.4, alpha_start=0.9, seed=4)
    Q, rewards, start_values = ref.q_learning(p, res.epsilons, res.alphas, np.random.default_rng(4))
    assert np.array_equal(res.q_table, Q)
    assert np.array_equal(res.episode_rewards, rewards) and np.array_equal(res.start_values, start_values)


# --------------------------------------------------------------------------------------
# The thesis' benchmark table (300 test episodes per policy)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy, thesis_mean, thesis_std", [
    (lob.constant_policy(2), 1.77, 8.81),      # the thesis' "constant (d=1)" quotes at depth 2
    (lob.random_policy(), -0.42, 7.72),
])
def test_benchmarks_agree_with_the_thesis(policy, thesis_mean, thesis_std):
    """Means agree within z combined standard errors (the thesis' s/√300 and ours)."""
    est = lob.evaluate_policy(policy, n_episodes=3000, seed=11)
    se = math.sqrt(thesis_std ** 2 / 300 + est.stderr ** 2)
    assert abs(est.mean - thesis_mean) < Z * se
    # the standard deviations too: se(s) ≈ s·√((kurtosis − 1)/(4n)), the thesis' n = 300
    x = est.samples
    kurtosis = np.mean((x - x.mean()) ** 4) / x.var() ** 2
    se_std = math.sqrt((kurtosis - 1) / 4) * math.sqrt(thesis_std ** 2 / 300 + est.std ** 2 / x.size)
    assert abs(est.std - thesis_std) < Z * se_std


def test_start_books_do_not_correlate_episodes():
    """Consecutive episodes start from the background book 10 time units apart: their
    rewards are uncorrelated (lag-1 correlation within z/√n of 0)."""
    x = lob.evaluate_policy(lob.constant_policy(1), n_episodes=3000, seed=12).samples
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < Z / np.sqrt(x.size)


# --------------------------------------------------------------------------------------
# Q-learning
# --------------------------------------------------------------------------------------

def test_epsilon_schedule():
    eps = lob.epsilon_schedule(3000, 1.0, 0.05, 0.5)
    assert eps.size == 3000 and eps[0] == 1.0 and eps[1499] > 0.05 and (eps[1500:] == 0.05).all()
    assert (np.diff(eps) <= 0).all()
    assert eps[750] == pytest.approx(1.0 - 0.95 * 750 / 1500)
    assert (lob.epsilon_schedule(10, 0.3, 0.1, 0.0) == 0.1).all()
    assert (lob.epsilon_schedule(10, 0.5, 0.5, 1.0) == 0.5).all()
    for kwargs in (dict(epsilon_start=1.5), dict(epsilon_end=-0.1), dict(epsilon_cutoff=2)):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            lob.epsilon_schedule(10, **kwargs)
    with pytest.raises(ValueError, match="n_episodes"):
        lob.epsilon_schedule(0)


def test_alpha_schedule():
    alpha = lob.alpha_schedule(3000, 0.5, 0.001)
    assert alpha[0] == 0.5 and alpha[-1] == pytest.approx(0.001) and (np.diff(alpha) < 0).all()
    ratios = alpha[1:] / alpha[:-1]
    assert np.allclose(ratios, ratios[0])                        # exponential: constant ratio
    assert list(lob.alpha_schedule(1, 0.5, 0.001)) == [0.5]
    with pytest.raises(ValueError, match="alpha_end"):
        lob.alpha_schedule(10, 0.5, 0.0)
    with pytest.raises(ValueError, match="alpha_start"):
        lob.alpha_schedule(10, 1.5)


@pytest.fixture(scope="module")
def trained():
    return lob.q_learning(n_episodes=3000, seed=5)


def test_q_learning_result(trained):
    res = trained
    assert res.q_table.shape == (100, 7, 25) and res.n_episodes == 3000
    assert res.episode_rewards.shape == res.start_values.shape == (3000,)
    assert res.start_values[-1] == res.q_table[0, 3].max()
    assert np.ptp(res.start_values) > 0
    history = res.history_frame()
    assert list(history.columns) == ["reward", "start_value", "epsilon", "alpha"] and len(history) == 3000
    q = res.q_frame()
    assert len(q) == 100 * 7 * 25 and q.loc[(0, 0, 1, 1), "q"] == res.q_table[0, 3, 0]
    greedy = res.greedy_frame()
    assert greedy.loc[(0, 0)].tolist() == [int(np.argmax(res.q_table[0, 3])) // 5 + 1,
                                           int(np.argmax(res.q_table[0, 3])) % 5 + 1]
    assert res.greedy_policy == res.greedy_policy


def test_q_learning_is_reproducible():
    a, b = lob.q_learning(n_episodes=50, seed=1), lob.q_learning(n_episodes=50, seed=1)
    assert np.array_equal(a.q_table, b.q_table) and np.array_equal(a.start_values, b.start_values)
    assert not np.array_equal(a.q_table, lob.q_learning(n_episodes=50, seed=2).q_table)


def test_pure_exploration_plays_the_random_strategy():
    """With ε = 1 every depth pair is uniform, so the training episodes are episodes of the
    random policy: their mean reward agrees with its evaluation."""
    res = lob.q_learning(n_episodes=3000, epsilon_start=1.0, epsilon_end=1.0, seed=6)
    train = Estimate(res.episode_rewards)
    rand = lob.evaluate_policy(lob.random_policy(), n_episodes=3000, seed=7)
    assert abs(train.mean - rand.mean) < Z * math.hypot(train.stderr, rand.stderr)


def test_start_value_overestimates_the_greedy_strategy(trained):
    """Maximisation bias: max_a Q(s0, a) after training is far above what the greedy
    policy earns on fresh episodes (by more than z standard errors)."""
    greedy = lob.evaluate_policy(trained.greedy_policy, n_episodes=2000, seed=8)
    assert trained.start_values[-1] > greedy.mean + Z * greedy.stderr


def test_q_learning_bad_arguments():
    with pytest.raises(ValueError, match="n_episodes"):
        lob.q_learning(n_episodes=0)
    with pytest.raises(ValueError, match="epsilon_cutoff"):
        lob.q_learning(n_episodes=5, epsilon_cutoff=-0.5)


# --------------------------------------------------------------------------------------
# The whole comparison, saved and loaded
# --------------------------------------------------------------------------------------

SMALL = dict(n_episodes=40, n_test_episodes=10, n_runs=3, seed=21)


@pytest.fixture(scope="module")
def comparison():
    return lob.run_comparison(**SMALL)


def test_comparison_does_not_depend_on_the_workers(comparison):
    one = lob.run_comparison(**SMALL, n_workers=1)
    assert np.array_equal(one.run_test_rewards, comparison.run_test_rewards)
    assert np.array_equal(one.benchmark_rewards, comparison.benchmark_rewards)
    for a, b in zip(one.runs, comparison.runs):
        assert np.array_equal(a.q_table, b.q_table)
    assert not np.array_equal(lob.run_comparison(**{**SMALL, "seed": 22}).benchmark_rewards,
                              comparison.benchmark_rewards)


def test_comparison_summary(comparison):
    table = comparison.summary()
    labels = [f"constant (depth {d})" for d in range(1, 6)] + ["random"]
    assert list(table.index[:6]) == labels
    assert {"Q-learning (run 1)", "Q-learning (best run)", "Q-learning (all runs)"} <= set(table.index)
    assert table.loc["Q-learning (all runs)", "n"] == 30
    assert (table.ci_low <= table["mean"]).all() and (table["mean"] <= table.ci_high).all()
    assert table.loc["random", "mean"] == pytest.approx(comparison.benchmark_rewards[5].mean())
    assert len(comparison.runs) == 3 and comparison.runs[0].n_episodes == 40


def test_save_and_load(tmp_path, comparison):
    folder = tmp_path / "results"
    comparison.save(folder)
    loaded = lob.ComparisonResult.load(folder)
    pd.testing.assert_frame_equal(loaded.summary(), comparison.summary())
    assert np.array_equal(loaded.run_test_rewards, comparison.run_test_rewards)
    assert np.array_equal(loaded.benchmark_rewards, comparison.benchmark_rewards)
    for a, b in zip(loaded.runs, comparison.runs):
        for k in ("q_table", "episode_rewards", "start_values", "epsilons", "alphas"):
            assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert loaded.params == comparison.params and loaded.settings == comparison.settings
    assert loaded.benchmarks == comparison.benchmarks
    assert loaded.runs[0].greedy_policy == comparison.runs[0].greedy_policy
    # never overwritten unless asked
    with pytest.raises(FileExistsError, match="overwrite=True"):
        comparison.save(folder)
    other = lob.run_comparison(**{**SMALL, "seed": 23})
    other.save(folder, overwrite=True)
    assert np.array_equal(lob.ComparisonResult.load(folder).benchmark_rewards, other.benchmark_rewards)
    assert sorted(os.listdir(tmp_path)) == ["results"]           # no temporary folders left


def test_save_with_greedy_benchmark_and_params(tmp_path):
    p = LOBParams(T=20, num_time_buckets=5, phi=0.001, limit_rates=(0.2, 0.2, 0.1))
    greedy = lob.q_learning(p, n_episodes=10, seed=1).greedy_policy
    res = lob.run_comparison(p, n_episodes=10, n_test_episodes=5, n_runs=1, seed=2,
                             benchmarks=[greedy, lob.constant_policy(1, 2)])
    res.save(tmp_path / "r")
    loaded = lob.ComparisonResult.load(tmp_path / "r")
    assert loaded.params == p and loaded.benchmarks == (greedy, lob.constant_policy(1, 2))
    pd.testing.assert_frame_equal(loaded.summary(), res.summary())


def test_a_failed_save_leaves_nothing(tmp_path, comparison, monkeypatch):
    def broken(self, folder):
        (folder / "meta.json").write_text("{}")
        raise OSError("disk full")
    monkeypatch.setattr(lob.ComparisonResult, "_write", broken)
    with pytest.raises(OSError, match="disk full"):
        comparison.save(tmp_path / "results")
    assert os.listdir(tmp_path) == []
    # an existing folder survives a failed overwrite
    monkeypatch.undo()
    comparison.save(tmp_path / "results")
    monkeypatch.setattr(lob.ComparisonResult, "_write", broken)
    with pytest.raises(OSError):
        comparison.save(tmp_path / "results", overwrite=True)
    assert os.listdir(tmp_path) == ["results"]
    assert np.array_equal(lob.ComparisonResult.load(tmp_path / "results").benchmark_rewards,
                          comparison.benchmark_rewards)


def test_load_bad_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        lob.ComparisonResult.load(tmp_path / "missing")


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_runs=0), "n_runs"), (dict(n_test_episodes=1), "n_test_episodes"), (dict(n_workers=0), "n_workers"),
    (dict(benchmarks=["random"]), "benchmarks"), (dict(alpha_end=0), "alpha_end"),
    (dict(benchmarks=[lob.constant_policy(6)]), "max_quote_depth"),
])
def test_comparison_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lob.run_comparison(**{"n_episodes": 5, "n_test_episodes": 5, "n_runs": 1, **kwargs})


def test_default_benchmarks_need_a_positive_depth():
    assert [b.label for b in lob.default_benchmarks(2)] == ["constant (depth 1)", "constant (depth 2)", "random"]
    with pytest.raises(ValueError, match="max_quote_depth"):
        lob.default_benchmarks(0)


def test_a_greedy_policy_needs_a_finite_q_table():
    Q = np.zeros((2, 3, 4))
    Q[0, 0, 2] = 1.0
    assert lob.GreedyPolicy.from_q_table(Q).depths[0, 0].tolist() == [2, 1]
    Q[1, 1, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        lob.GreedyPolicy.from_q_table(Q)


def test_benchmarks_need_distinct_labels():
    twins = [lob.constant_policy(2), lob.constant_policy(2)]
    with pytest.raises(ValueError, match="distinct labels"):
        lob.run_comparison(n_episodes=5, n_test_episodes=5, n_runs=1, benchmarks=twins)


def test_run_comparison_takes_any_learner_and_names_it():
    r = lob.run_comparison(n_episodes=30, n_test_episodes=10, n_runs=2, seed=1,
                           learner=lob.double_q_learning, benchmarks=[lob.constant_policy(2)])
    assert r.method == "Double Q-learning" and all(run.method == "Double Q-learning" for run in r.runs)
    assert "Double Q-learning (all runs)" in r.summary().index
    plain = lob.run_comparison(n_episodes=30, n_test_episodes=10, n_runs=2, seed=1,
                               benchmarks=[lob.constant_policy(2)])
    assert plain.method == "Q-learning" and not np.array_equal(plain.run_test_rewards, r.run_test_rewards)
    # the benchmarks draw from the same children of the seed whatever the learner
    assert np.array_equal(plain.benchmark_rewards, r.benchmark_rewards)
    with pytest.raises(ValueError, match="learner"):
        lob.run_comparison(n_episodes=5, n_test_episodes=5, n_runs=1, learner="sarsa")


def test_evaluate_policies_gives_each_policy_its_own_child_seed():
    policies = [lob.constant_policy(2), lob.constant_policy(1, 3), lob.random_policy()]
    one = lob.evaluate_policies(policies, n_episodes=20, seed=5, n_workers=1)
    two = lob.evaluate_policies(policies, n_episodes=20, seed=5, n_workers=2)
    assert list(one) == [p.label for p in policies]
    assert all(np.array_equal(one[k].samples, two[k].samples) for k in one)
    children = np.random.SeedSequence(5).spawn(3)
    assert np.array_equal(one["random"].samples,
                          lob.evaluate_policy(lob.random_policy(), n_episodes=20,
                                              seed=np.random.default_rng(children[2])).samples)
    with pytest.raises(ValueError, match="distinct labels"):
        lob.evaluate_policies([lob.constant_policy(2)] * 2, n_episodes=5)


def test_a_policy_with_a_table_that_does_not_fit_is_refused():
    class Odd:
        label = "odd"

        def __init__(self, table):
            self.table = table

        def depth_table(self, params):
            return self.table

    p = lob.LOBParams()
    good = np.full((p.num_time_buckets, p.num_inventory_buckets, 2), 2)
    assert np.array_equal(lob.evaluate_policy(Odd(good), p, 5, seed=1).samples,
                          lob.evaluate_policy(lob.constant_policy(2), p, 5, seed=1).samples)
    for bad in (good[:3], good * 0, good + 9):
        with pytest.raises(ValueError, match="policy must give depths"):
            lob.evaluate_policy(Odd(bad), p, 5, seed=1)
    with pytest.raises(ValueError, match="policy must be"):
        lob.evaluate_policy((2, 2), p, 5)
