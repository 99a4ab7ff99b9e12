"""Double Q-learning (`lob.double_q_learning`) against a readable plain-Python double
Q-learner, and against plain Q-learning's maximisation bias.

The readable learner is written like chapter 7's ``choose`` and ``update`` (see
tests/test_book_q_learning.py): ``choose`` is the chapter's ε-greedy on Q^A + Q^B, and
``double_update`` tosses a coin for the table to update and values the next state with the
other table at the updated table's greedy action. Driving the plain-Python order book of
:mod:`mmcourse.lob.reference` with the package's draws, it must give the package's tables,
episode rewards and start values to the last bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmcourse import lob
from mmcourse.lob import reference as ref


# ---- the readable Python ----------------------------------------------------------------

def choose(rng, q_row, epsilon):
    """ε-greedy: a uniform action with probability ε, else the greedy one."""
    if rng.random() < epsilon:
        return int(rng.random() * len(q_row))   # explore
    return int(np.argmax(q_row))                # exploit; ties: lowest index


def double_update(rng, QA, QB, s, a, r, s_next, alpha, last):
    """One double Q-learning step with γ = 1: a coin picks the table to update; the other
    table values the updated table's greedy action in s_next."""
    if rng.random() < 0.5:
        Q, other = QA, QB
    else:
        Q, other = QB, QA
    target = r if last else r + other[s_next][int(np.argmax(Q[s_next]))]
    Q[s][a] += alpha * (target - Q[s][a])


def double_estimate(QA, QB, s):
    """The double estimate of max_a Q(s, a): each table values the other's greedy action."""
    return (QB[s][int(np.argmax(QA[s]))] + QA[s][int(np.argmax(QB[s]))]) / 2


# ---- the training loop around them -------------------------------------------------------

def readable_double_q_learning(p, n_episodes, seed):
    """choose + double_update driving the plain-Python book; draws as the package does.
    Returns (Q^A, Q^B, episode rewards, start values)."""
    rates, D, c = ref.Rates(p), p.max_quote_depth, p.max_inventory_bucket
    epsilons, alphas = lob.epsilon_schedule(n_episodes), lob.alpha_schedule(n_episodes)
    rng = np.random.default_rng(seed)
    QA = np.zeros((p.num_time_buckets, 2 * c + 1, D * D))
    QB = np.zeros_like(QA)
    rewards, start_values = [], []
    background, gap = ref.background(p, None, rng)
    for k in range(n_episodes):
        if k > 0:
            ref.run_book(background, ref.Quotes(), gap, rates, rng)
        book, quotes = background.copy(), ref.Quotes()
        x = q = v_prev = 0
        total = 0.0
        s = (0, c)
        for t in range(p.T):
            fills = dict(buy=0, buy_cash=0, sell=0, sell_cash=0)
            if t < p.T - 1:
                a = choose(rng, QA[s] + QB[s], epsilons[k])
                ref.market_maker_step(book, quotes, a // D + 1, a % D + 1, p, rates, rng, fills,
                                      None)
            else:                                # liquidate, then one more step, no quotes
                ref.liquidate(book, q, rates.outside, fills, None)
                ref.run_book(book, quotes, p.dt, rates, rng)
            x += fills["sell_cash"] - fills["buy_cash"]
            q += fills["buy"] - fills["sell"]
            v = x + book.liquidation_value(q, rates.outside)
            r, v_prev = float(v - v_prev) - p.phi * q * q, v
            total += r
            if t < p.T - 1:
                s_next = ((t + 1) * p.num_time_buckets // p.T,
                          ref.inventory_bucket(q, p.kappa, c) + c)
                double_update(rng, QA, QB, s, a, r, s_next, alphas[k], last=(t == p.T - 2))
                s = s_next
        rewards.append(total)
        start_values.append(double_estimate(QA, QB, (0, c)))
    return QA, QB, np.array(rewards), np.array(start_values)


# ---- tests --------------------------------------------------------------------------------

def test_the_toy_double_update():
    """A worked step: the coin (seed 0's first draw, 0.637, is not < 0.5) updates B; B's
    greedy action in s_next is 0, and A's value of it (0), not max B (4), is the target's
    bootstrap: target 1 + 0, and α = 0.5 moves Q^B(s, 2) from 0 to 0.5."""
    QA, QB = np.zeros((2, 1, 3)), np.zeros((2, 1, 3))
    QA[1, 0] = [0.0, 5.0, 1.0]
    QB[1, 0] = [4.0, -2.0, 3.0]
    rng = np.random.default_rng(0)
    assert rng.random() >= 0.5                   # the draw the update will see
    double_update(np.random.default_rng(0), QA, QB, (0, 0), 2, 1.0, (1, 0), 0.5, last=False)
    assert QB[0, 0, 2] == 0.5 and np.count_nonzero(QB[0]) == 1
    assert not QA[0].any()
    assert double_estimate(QA, QB, (1, 0)) == (-2.0 + 0.0) / 2


# Short burn-ins and short episodes keep the plain-Python book quick; few time buckets make
# states recur, so both tables' greedy actions and the cross-valuation matter. The second
# case has an inventory penalty and another bucket width, so every term is exercised.
@pytest.mark.parametrize("p, seed", [
    (lob.LOBParams(burn_in=30.0, start_gap=5.0, T=20, num_time_buckets=4), 3),
    (lob.LOBParams(burn_in=30.0, start_gap=5.0, T=25, num_time_buckets=5, phi=0.01, kappa=2,
                   max_inventory_bucket=2), 4),
], ids=["phi=0", "phi=0.01,kappa=2"])
def test_readable_double_q_learning_is_the_package(p, seed):
    n = 12
    QA, QB, rewards, start_values = readable_double_q_learning(p, n_episodes=n, seed=seed)
    package = lob.double_q_learning(p, n_episodes=n, seed=seed)
    assert np.count_nonzero(QA) > 20 and np.count_nonzero(QB) > 20   # both tables learnt
    assert np.count_nonzero(start_values) > 0
    assert np.array_equal(QA, package.q_table_a)                        # bit for bit
    assert np.array_equal(QB, package.q_table_b)
    assert np.array_equal((QA + QB) / 2, package.q_table)
    assert np.array_equal(rewards, package.episode_rewards)
    assert np.array_equal(start_values, package.start_values)
    assert package.method == "Double Q-learning"
    assert package.greedy_policy.label == "Double Q-learning (greedy)"
    assert package.n_episodes == n and package.history_frame().shape == (n, 4)


def test_the_same_seed_gives_the_same_result_and_another_seed_another():
    p = lob.LOBParams(burn_in=30.0, start_gap=5.0, T=20, num_time_buckets=4)
    one, again = (lob.double_q_learning(p, n_episodes=200, seed=7) for _ in range(2))
    other = lob.double_q_learning(p, n_episodes=200, seed=8)
    for name in ("q_table", "q_table_a", "q_table_b", "episode_rewards", "start_values"):
        assert np.array_equal(getattr(one, name), getattr(again, name)), name
        assert not np.array_equal(getattr(one, name), getattr(other, name)), name
    # the coin's draws make it another learner than Q-learning from the same seed
    assert not np.array_equal(one.episode_rewards,
                              lob.q_learning(p, n_episodes=200, seed=7).episode_rewards)


def test_arguments_are_checked_as_in_q_learning():
    p = lob.LOBParams(burn_in=0.0, T=5, num_time_buckets=5)
    with pytest.raises(ValueError, match="n_episodes"):
        lob.double_q_learning(p, n_episodes=0, seed=1)
    plain = lob.q_learning(p, n_episodes=2, seed=1)
    assert plain.q_table_a is None and plain.q_table_b is None and plain.method == "Q-learning"
    assert plain.greedy_policy.label == "Q-learning (greedy)"


def test_double_q_learning_removes_the_maximisation_bias():
    """Each learner's start value minus its greedy policy's value on fresh test episodes.

    max_a Q(s_0, a) of noisy estimates is biased upward: Q-learning's learnt start value is
    above what its greedy policy earns. Double Q-learning values each table's greedy action
    with the other table, which removes that bias (here it even underestimates, as the
    double estimator may). Over R independent learners the mean bias has a standard error
    from the spread across learners, which includes each test estimate's own standard
    error; both statements hold beyond 3 standard errors (≈ 10 here).
    """
    p = lob.LOBParams(T=20, num_time_buckets=4, max_inventory_bucket=2, burn_in=200.0)
    R, n_train, n_test = 6, 3000, 2000
    bias = {}
    for learn in (lob.q_learning, lob.double_q_learning):
        gaps = []
        for i in range(R):
            result = learn(p, n_episodes=n_train, seed=[11, i])
            test = lob.evaluate_policy(result.greedy_policy, p, n_test, seed=[11, i, 1])
            gaps.append(result.start_values[-1] - test.mean)
        bias[learn.__name__] = lob.Estimate(gaps)
    q, dq = bias["q_learning"], bias["double_q_learning"]
    assert q.mean > 3 * q.stderr, (q.mean, q.stderr)                 # Q-learning overestimates
    difference, stderr = q.mean - dq.mean, np.hypot(q.stderr, dq.stderr)
    assert difference > 3 * stderr, (q.mean, dq.mean, stderr)        # … by more than double Q
