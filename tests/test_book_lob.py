"""Facts that chapters 5 and 6 (the limit order book, a market maker in the book) rely on.

The chapters show readable Python first and then use the package; the first tests check that
the readable versions, copied here from the chapters, do exactly what the package does. The
other tests check the long-run statistics the chapters describe. Their reference values come
from long runs of the package with seeds these tests do not use:

- the book: 300 independent runs of 5,000 units of time (seeds 10,000 to 10,299), each
  after the default burn-in; the standard errors are those of the mean over the runs;
- the rewards: 300,000 episodes per policy (100,000 with ``seed=777`` and 200,000 with
  ``seed=4242``, pooled by inverse variance) for constant depths 1 to 3 and random depths,
  100,000 (``seed=777``) for depths 4 and 5.

A test compares a short run with a reference value within ``Z`` combined standard errors
(the short run's and the reference's), Z = 3.29 (two-sided 0.1 %). Seeds are fixed, so every
test is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmcourse import lob
from mmcourse.lob import reference

Z = 3.29

PARAMS = lob.LOBParams()
EXAMPLE = lob.Book(ask=102, spread=2,
                   bid_volumes=(0, 3, 5, 6, 4, 2, 1, 1, 1, 2),
                   ask_volumes=(0, 2, 4, 7, 5, 3, 2, 1, 1, 1))


# --------------------------------------------------------------------------------------
# The readable Python of the chapters, copied verbatim
# --------------------------------------------------------------------------------------

def event_rates(book, lam, theta, mu):
    """The rate of every possible next event, keyed by (event, level)."""
    levels = range(1, len(lam) + 1)
    bid, ask = book.bid_volumes, book.ask_volumes
    rates = {("limit_buy", i): lam[i - 1] for i in levels}
    rates |= {("limit_sell", i): lam[i - 1] for i in levels}
    rates |= {("cancel_buy", i): theta[i - 1] * bid[i - 1] for i in levels}
    rates |= {("cancel_sell", i): theta[i - 1] * ask[i - 1] for i in levels}
    rates["market_sell", None] = mu if book.best_bid_volume > 0 else 0.0
    rates["market_buy", None] = mu if book.best_ask_volume > 0 else 0.0
    return rates


def next_event(rates, rng):
    """Wait ~ Exp(R); then event e with probability rate_e / R."""
    R = sum(rates.values())
    wait = rng.exponential(1 / R)
    u = rng.random() * R
    for event, rate in rates.items():
        if u < rate:
            return wait, event
        u -= rate
    return wait, event


def order_size(event, book, params, rng):
    if event.startswith("cancel"):
        return 1
    if event.startswith("limit"):
        decay, most = params.limit_size_decay, params.num_levels
    else:
        decay = params.market_size_decay
        most = (book.best_bid_volume if event == "market_sell"
                else book.best_ask_volume)
    k = rng.geometric(1 - np.exp(-decay))     # P(k) ∝ exp(-decay·k)
    while k > most:
        k = rng.geometric(1 - np.exp(-decay))
    return k


def run_chain(book, duration, params, seed):
    rng = np.random.default_rng(seed)
    lam, theta = params.rates_by_level().to_numpy().T
    t, log = 0.0, []
    while True:
        rates = event_rates(book, lam, theta, params.market_rate)
        wait, (event, level) = next_event(rates, rng)
        t += wait
        if t >= duration:
            columns = ["time", "event", "size", "bid", "ask"]
            return book, pd.DataFrame(log, columns=columns)
        size = order_size(event, book, params, rng)
        book = lob.apply_event(book, event, level, size)
        log.append((t, event, size, book.bid, book.ask))


def quote_prices(book, d_b, d_a):
    """The market maker's buy and sell prices for depths (d_b, d_a)."""
    s = book.spread
    if s >= d_b + d_a:                       # widen: never meet or cross
        grow = (s - d_b - d_a + 2) // 2      # ceil((s - d_b - d_a + 1)/2)
        d_b, d_a = d_b + grow, d_a + grow
    return book.ask - d_b, book.bid + d_a


def liquidation_value(book, q, outside=1):
    """H: cash from selling q > 0 units into the book (minus the cost of
    buying -q units for q < 0), best price first."""
    volumes = book.bid_volumes if q > 0 else book.ask_volumes
    cash, left, j = 0, abs(q), book.spread    # j: distance of best price
    while left > 0:
        here = volumes[j - 1] if j <= book.num_levels else outside
        take = min(left, here)
        cash += take * (book.ask - j if q > 0 else book.bid + j)
        left, j = left - take, j + 1
    return cash if q > 0 else -cash


# --------------------------------------------------------------------------------------
# The readable Python does what the package does
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_the_readable_chain_draws_the_same_events_as_the_package(seed):
    """Same seed, same start: the same events, hence the same end book, as the compiled
    chain and as the plain-Python reference."""
    end, log = run_chain(EXAMPLE, 40, PARAMS, seed)
    sim = lob.simulate_book(40, seed=seed, start_book=EXAMPLE)
    ref = reference.simulate_book(40, PARAMS, np.random.default_rng(seed), start_book=EXAMPLE)
    assert len(log) > 100                                  # about 4 events per unit time
    assert sim.n_events == len(log)
    assert sim.end_book == end == ref["end_book"]
    counts = log.event.value_counts().reindex(list(lob.EVENT_TYPES), fill_value=0)
    assert list(counts) == list(sim.event_counts) == list(ref["counts"])


def test_the_readable_liquidation_value_equals_the_reference():
    """Walking the book, best price first, 1 unit per tick beyond the window."""
    books = [lob.simulate_book(10, seed=s).end_book for s in range(5)] + [EXAMPLE]
    for book in books:
        for q in range(-40, 41):                           # ±40 walks beyond the window
            assert liquidation_value(book, q) == reference.RefBook(book).liquidation_value(q, 1), (book, q)


def test_the_readable_quote_rule_equals_the_episodes():
    """The quotes of an episode's first step are those of the readable rule, widening
    included (a spread of 2 or 3 ticks makes depths (1, 1) and (1, 2) widen)."""
    books = [lob.simulate_book(10, seed=s).end_book for s in range(10)]
    books += [EXAMPLE, lob.apply_event(EXAMPLE, "market_buy", size=2)]     # spreads 2 and 3
    widened = 0
    for book in books:
        for d_b, d_a in [(1, 1), (1, 2), (2, 3), (1, 5), (3, 1)]:
            episode = lob.simulate_episode(lob.constant_policy(d_b, d_a), seed=0, start_book=book)
            assert quote_prices(book, d_b, d_a) == (episode.bid_quote[0], episode.ask_quote[0])
            widened += book.spread >= d_b + d_a
    assert widened >= 3


# --------------------------------------------------------------------------------------
# The chain's long-run statistics (chapter 5, §5.4)
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs():
    """20 independent books of 5,000 units of time, as in §5.4, with other seeds."""
    return [lob.simulate_book(5_000, seed=500 + k, record_every=5_000) for k in range(20)]


def close(sample: pd.Series | pd.DataFrame, value, value_se):
    """The mean of independent runs lies within Z combined standard errors of a reference."""
    return np.abs(sample.mean() - value) < Z * np.hypot(sample.sem(), value_se)


def test_events_per_unit_time_and_their_mix(runs):
    """About 4.77 events per unit time; two thirds cancellations, 2 % market orders."""
    rate = pd.Series([r.events_per_unit_time for r in runs])
    mix = pd.DataFrame([r.event_mix for r in runs])
    assert close(rate, 4.7658, 0.0038)
    assert close(mix.filter(like="cancel").sum(axis=1), 0.66990, 0.00014)
    assert close(mix.filter(like="market").sum(axis=1), 0.01955, 0.00005)


def test_spread_shares_by_time_and_by_event(runs):
    """The time- and event-weighted spread distributions differ; the thesis' figures
    (77/21/2.5/0.1 %) are close to the event shares, not to the time shares."""
    by_time = pd.DataFrame([r.spread_distribution for r in runs]).loc[:, :4]
    by_event = pd.DataFrame([r.spread_distribution_by_event for r in runs]).loc[:, :4]
    assert close(by_time, [0.71742, 0.24276, 0.03797, 0.00178],
                 [0.00078, 0.00073, 0.00029, 0.00005]).all()
    assert close(by_event, [0.75929, 0.21353, 0.02614, 0.00102],
                 [0.00072, 0.00068, 0.00020, 0.00003]).all()
    # the difference at a 1-tick spread is many standard errors
    gap = pd.Series(by_event[1].to_numpy() - by_time[1].to_numpy())      # run by run
    assert gap.mean() > 0.03 and gap.mean() > 10 * gap.sem()
    thesis = np.array([0.77, 0.21, 0.025, 0.001])
    gap_e = np.abs(by_event.mean().to_numpy() - thesis)
    gap_t = np.abs(by_time.mean().to_numpy() - thesis)
    assert gap_e.sum() < gap_t.sum() / 2


def test_the_book_is_busier_at_narrower_spreads(runs):
    """Events per unit time, measured at each spread, fall with the spread: the levels with
    the fastest cancellations are empty when the spread is wide."""
    spread_time = sum(r.spread_time for r in runs)[:4]
    spread_events = sum(r.spread_events for r in runs)[:4]
    intensity = spread_events / spread_time
    # Poisson counts: the standard error of events / time is sqrt(events) / time
    se = np.sqrt(spread_events) / spread_time
    assert (np.diff(intensity) < -Z * np.hypot(se[1:], se[:-1])).all()


def test_the_volume_profile(runs):
    """Both sides hold the same volume on average; it peaks at distance 3."""
    profiles = [r.volume_profile() for r in runs]
    diff = pd.DataFrame([p.bid - p.ask for p in profiles])       # run by run, per distance
    assert (np.abs(diff.mean()) < Z * diff.sem()).all()
    volume = sum(profiles) / len(profiles)
    assert volume.bid.idxmax() == volume.ask.idxmax() == 3


# --------------------------------------------------------------------------------------
# What constant and random depths earn (chapter 6, §6.3)
# --------------------------------------------------------------------------------------

LONG_RUN = {                                   # mean total reward, its standard error
    lob.constant_policy(1): (1.7678, 0.0284),
    lob.constant_policy(2): (1.6931, 0.0147),
    lob.constant_policy(3): (0.4871, 0.0054),
    lob.constant_policy(4): (0.0380, 0.0023),
    lob.constant_policy(5): (0.0025, 0.0006),
    lob.random_policy(): (-0.6365, 0.0134),
}


@pytest.fixture(scope="module")
def benchmarks():
    """3,000 episodes per policy (10,000 for depths 4 and 5, which rarely trade), a seed
    other than the chapter's."""
    return {policy: lob.evaluate_policy(policy, n_episodes=10_000 if policy in
                                        (lob.constant_policy(4), lob.constant_policy(5)) else 3000,
                                        seed=2024)
            for policy in LONG_RUN}


@pytest.mark.parametrize("policy", list(LONG_RUN), ids=lambda p: p.label)
def test_mean_rewards_agree_with_the_long_run(benchmarks, policy):
    est, (mean, se) = benchmarks[policy], LONG_RUN[policy]
    assert abs(est.mean - mean) < Z * math.hypot(est.stderr, se)


def test_deeper_quotes_earn_less_and_random_depths_lose(benchmarks):
    """From depth 2 on, each deeper constant depth earns less (the expected gaps are at least
    4.5 standard errors of the difference with these sample sizes); random depths lose."""
    means = [benchmarks[lob.constant_policy(d)].mean for d in range(2, 6)]
    assert all(a > b for a, b in zip(means, means[1:]))
    stds = [benchmarks[lob.constant_policy(d)].std for d in range(1, 6)]
    assert all(a > b for a, b in zip(stds, stds[1:]))
    random = benchmarks[lob.random_policy()]
    assert random.mean + Z * random.stderr < 0


def test_the_thesis_std_fits_depth_2_not_depth_1(benchmarks):
    """The thesis' "constant (d=1)" reports a standard deviation of 8.81 over 300 episodes.
    Resampling 300 of our episodes gives the middle 95 % of such standard deviations: 8.81
    lies in depth 2's range and below depth 1's."""
    rng = np.random.default_rng(5)

    def std_of_300(samples, repeats=4000):
        stds = rng.choice(samples, (repeats, 300)).std(axis=1, ddof=1)
        return np.percentile(stds, [2.5, 97.5])

    lo1, _ = std_of_300(benchmarks[lob.constant_policy(1)].samples)
    lo2, hi2 = std_of_300(benchmarks[lob.constant_policy(2)].samples)
    assert lo2 <= 8.81 <= hi2
    assert 8.81 < lo1
