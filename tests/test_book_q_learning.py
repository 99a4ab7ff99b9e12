"""The readable Q-learning of chapter 7 (book/07_q_learning_depths.md) against the package.

The chapter writes Q-learning as two small functions, ``choose`` (ε-greedy) and ``update``
(one step with γ = 1), and says that `lob.q_learning` runs exactly these at each decision of
every episode. Here they drive the plain-Python order book of :mod:`mmcourse.lob.reference`,
drawing random numbers in the package's order, and must give the package's Q table to the
last bit. The functions are copied from the chapter (tests do not import chapters).
"""

from __future__ import annotations

import numpy as np
import pytest

from mmcourse import lob
from mmcourse.lob import reference as ref


# ---- the chapter's readable Python, copied ---------------------------------------------

def choose(rng, q_row, epsilon):
    """ε-greedy: a uniform action with probability ε, else the greedy one."""
    if rng.random() < epsilon:
        return int(rng.random() * len(q_row))   # explore
    return int(np.argmax(q_row))                # exploit; ties: lowest index


def update(Q, s, a, r, s_next, alpha, last):
    """One Q-learning step with γ = 1; s = (time bucket, inventory bucket)."""
    target = r if last else r + Q[s_next].max()
    Q[s][a] += alpha * (target - Q[s][a])


# ---- the training loop around them -------------------------------------------------------

def readable_q_learning(p, n_episodes, seed):
    """choose + update driving the plain-Python book; draws as the package does."""
    rates, D, c = ref.Rates(p), p.max_quote_depth, p.max_inventory_bucket
    epsilons, alphas = lob.epsilon_schedule(n_episodes), lob.alpha_schedule(n_episodes)
    rng = np.random.default_rng(seed)
    Q = np.zeros((p.num_time_buckets, 2 * c + 1, D * D))
    background, gap = ref.background(p, None, rng)
    for k in range(n_episodes):
        if k > 0:
            ref.run_book(background, ref.Quotes(), gap, rates, rng)
        book, quotes = background.copy(), ref.Quotes()
        x = q = v_prev = 0
        s = (0, c)
        for t in range(p.T - 1):
            a = choose(rng, Q[s], epsilons[k])
            fills = dict(buy=0, buy_cash=0, sell=0, sell_cash=0)
            ref.market_maker_step(book, quotes, a // D + 1, a % D + 1, p, rates, rng, fills, None)
            x += fills["sell_cash"] - fills["buy_cash"]
            q += fills["buy"] - fills["sell"]
            v = x + book.liquidation_value(q, rates.outside)
            r, v_prev = float(v - v_prev) - p.phi * q * q, v
            s_next = ((t + 1) * p.num_time_buckets // p.T, ref.inventory_bucket(q, p.kappa, c) + c)
            update(Q, s, a, r, s_next, alphas[k], last=(t == p.T - 2))
            s = s_next
        ref.liquidate(book, q, rates.outside, dict(buy=0, buy_cash=0, sell=0, sell_cash=0), None)
        ref.run_book(book, quotes, p.dt, rates, rng)
    return Q


# ---- tests --------------------------------------------------------------------------------

def test_the_toy_update_and_tie_break():
    """The chapter's worked step: target −1 + 2 = 1, α = 0.5 moves 0 halfway; ties go low."""
    Q = np.zeros((3, 3, 4))
    Q[1, 1] = [0.5, 2.0, 1.0, 2.0]
    update(Q, s=(0, 1), a=3, r=-1.0, s_next=(1, 1), alpha=0.5, last=False)
    assert np.array_equal(Q[0, 1], [0, 0, 0, 0.5]) and np.count_nonzero(Q[0]) == 1
    assert choose(np.random.default_rng(0), Q[1, 1], epsilon=0.0) == 1
    update(Q, s=(0, 1), a=3, r=-1.0, s_next=(1, 1), alpha=0.5, last=True)   # target r alone
    assert Q[0, 1, 3] == -0.25


# Short burn-ins keep the plain-Python book quick; the second case has an inventory penalty
# and a different bucket width, so every term of the reward and of the state is exercised.
@pytest.mark.parametrize("p, seed", [
    (lob.LOBParams(burn_in=30.0, start_gap=5.0), 3),
    (lob.LOBParams(burn_in=30.0, start_gap=5.0, phi=0.01, kappa=2), 4),
], ids=["phi=0", "phi=0.01,kappa=2"])
def test_readable_q_learning_is_the_package(p, seed):
    mine = readable_q_learning(p, n_episodes=3, seed=seed)
    package = lob.q_learning(p, n_episodes=3, seed=seed).q_table
    assert np.count_nonzero(mine) > 30           # three episodes touch many entries
    assert np.array_equal(mine, package)         # bit for bit


def test_a_different_seed_gives_a_different_table():
    """The equality above is not vacuous: the table depends on the seed."""
    p = lob.LOBParams(burn_in=30.0, start_gap=5.0)
    assert not np.array_equal(readable_q_learning(p, n_episodes=3, seed=3),
                              lob.q_learning(p, n_episodes=3, seed=5).q_table)
