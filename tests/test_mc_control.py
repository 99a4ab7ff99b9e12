"""Monte-Carlo control (`lob.mc_control`) against a readable plain-Python learner, and its
start value against Q-learning's maximisation bias.

The readable learner plays each episode with chapter 7's ``choose`` (ε-greedy, see
tests/test_book_q_learning.py) on a Q table that stays fixed during the episode, records
(s_t, a_t, r_t), and after the episode ``mc_update`` moves every visited pair towards its
return G_t = r_t + … + r_{T−1}, from the last decision back to the first. Driving the
plain-Python order book of :mod:`mmcourse.lob.reference` with the package's draws, it must
give the package's table, episode rewards and start values to the last bit.
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


def mc_update(Q, visits, last_reward, alpha):
    """Every-visit Monte-Carlo update with γ = 1 after an episode: ``visits`` lists
    (s_t, a_t, r_t) for the decisions t = 0 … T−2, ``last_reward`` is r_{T−1}."""
    G = last_reward
    for s, a, r in reversed(visits):
        G = G + r                                # G_t = r_t + G_{t+1}
        Q[s][a] += alpha * (G - Q[s][a])


# ---- the training loop around them -------------------------------------------------------

def readable_mc_control(p, n_episodes, seed):
    """choose + mc_update driving the plain-Python book; draws as the package does.
    Returns (Q, episode rewards, start values)."""
    rates, D, c = ref.Rates(p), p.max_quote_depth, p.max_inventory_bucket
    epsilons, alphas = lob.epsilon_schedule(n_episodes), lob.alpha_schedule(n_episodes)
    rng = np.random.default_rng(seed)
    Q = np.zeros((p.num_time_buckets, 2 * c + 1, D * D))
    rewards, start_values = [], []
    background, gap = ref.background(p, None, rng)
    for k in range(n_episodes):
        if k > 0:
            ref.run_book(background, ref.Quotes(), gap, rates, rng)
        book, quotes = background.copy(), ref.Quotes()
        x = q = v_prev = 0
        total = 0.0
        visits = []
        for t in range(p.T):
            fills = dict(buy=0, buy_cash=0, sell=0, sell_cash=0)
            if t < p.T - 1:
                s = (t * p.num_time_buckets // p.T, ref.inventory_bucket(q, p.kappa, c) + c)
                a = choose(rng, Q[s], epsilons[k])
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
                visits.append((s, a, r))
        mc_update(Q, visits, r, alphas[k])
        rewards.append(total)
        start_values.append(Q[0, c].max())
    return Q, np.array(rewards), np.array(start_values)


# ---- tests --------------------------------------------------------------------------------

def test_the_toy_update_is_every_visit_and_backwards():
    """Rewards 1, 2, 3 then r_{T−1} = 0: returns 6, 5, 3. The pair (s, 0) is visited at t = 0
    and t = 2: with α = 0.5 it moves to 1.5 (towards G_2 = 3), then to 3.75 (towards G_0 = 6)."""
    Q = np.zeros((2, 1, 2))
    mc_update(Q, [((0, 0), 0, 1.0), ((1, 0), 1, 2.0), ((0, 0), 0, 3.0)], 0.0, alpha=0.5)
    assert Q[0, 0, 0] == 3.75 and Q[1, 0, 1] == 2.5
    assert Q[0, 0, 1] == 0.0 and Q[1, 0, 0] == 0.0


# Short burn-ins and short episodes keep the plain-Python book quick; few time buckets make
# states recur within an episode, so every visit (and the order of the updates) matters. The
# second case has an inventory penalty and another bucket width, so every term is exercised
# (and the returns are not integers, so the order of the additions matters too).
@pytest.mark.parametrize("p, seed", [
    (lob.LOBParams(burn_in=30.0, start_gap=5.0, T=20, num_time_buckets=4), 3),
    (lob.LOBParams(burn_in=30.0, start_gap=5.0, T=25, num_time_buckets=5, phi=0.01, kappa=2,
                   max_inventory_bucket=2), 4),
], ids=["phi=0", "phi=0.01,kappa=2"])
def test_readable_mc_control_is_the_package(p, seed):
    n = 12
    Q, rewards, start_values = readable_mc_control(p, n_episodes=n, seed=seed)
    package = lob.mc_control(p, n_episodes=n, seed=seed)
    assert np.count_nonzero(Q) > 20                                     # the table learnt
    assert np.count_nonzero(rewards) > 0
    assert np.array_equal(Q, package.q_table)                           # bit for bit
    assert np.array_equal(rewards, package.episode_rewards)
    assert np.array_equal(start_values, package.start_values)
    assert package.method == "Monte-Carlo control"
    assert package.greedy_policy.label == "Monte-Carlo control (greedy)"
    assert package.q_table_a is None and package.weights is None
    assert package.n_episodes == n and package.history_frame().shape == (n, 4)


def test_the_same_seed_gives_the_same_result_and_another_seed_another():
    p = lob.LOBParams(burn_in=30.0, start_gap=5.0, T=20, num_time_buckets=4)
    one, again = (lob.mc_control(p, n_episodes=200, seed=7) for _ in range(2))
    other = lob.mc_control(p, n_episodes=200, seed=8)
    for name in ("q_table", "episode_rewards", "start_values"):
        assert np.array_equal(getattr(one, name), getattr(again, name)), name
        assert not np.array_equal(getattr(one, name), getattr(other, name)), name


def test_the_draws_are_q_learnings():
    """While only exploring (ε = 1 throughout) the table never chooses an action, so Monte-Carlo
    control and Q-learning play the same episodes from the same seed; once they exploit,
    different tables make them part."""
    p = lob.LOBParams(burn_in=30.0, start_gap=5.0, T=20, num_time_buckets=4)
    explore = dict(n_episodes=100, epsilon_start=1.0, epsilon_end=1.0, seed=5)
    assert np.array_equal(lob.mc_control(p, **explore).episode_rewards,
                          lob.q_learning(p, **explore).episode_rewards)
    assert not np.array_equal(lob.mc_control(p, n_episodes=300, seed=5).episode_rewards,
                              lob.q_learning(p, n_episodes=300, seed=5).episode_rewards)


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_episodes=0), "n_episodes"), (dict(epsilon_start=1.5), "epsilon_start"),
    (dict(epsilon_cutoff=-0.1), "epsilon_cutoff"), (dict(alpha_start=0.0), "alpha_start"),
    (dict(alpha_end=2.0), "alpha_end"), (dict(params="LOBParams()"), "params"),
    (dict(start_book="book"), "start_book"),
])
def test_arguments_are_checked(kwargs, name):
    args = dict(params=lob.LOBParams(burn_in=0.0, T=5, num_time_buckets=5), n_episodes=2, seed=1)
    with pytest.raises(ValueError, match=name):
        lob.mc_control(**{**args, **kwargs})


def test_mc_control_has_a_far_smaller_maximisation_bias_than_q_learning():
    """Each learner's start value minus its greedy policy's value on fresh test episodes.

    Q-learning bootstraps on max_a Q(s', a), so its learnt start value is well above what its
    greedy policy earns. Monte-Carlo control's targets are sampled returns, with no maximum in
    them; only the final max_a Q(s_0, a) over noisy estimates remains, and its bias is much
    smaller (measured: 0.04 ± 0.01 against Q-learning's 1.76 ± 0.16 here, so not zero: the
    test does not claim it is). Over R independent learners the mean bias has a standard
    error from the spread across learners; the difference holds beyond 3 standard errors.
    """
    p = lob.LOBParams(T=20, num_time_buckets=4, max_inventory_bucket=2, burn_in=200.0)
    R, n_train, n_test = 6, 3000, 2000
    bias = {}
    for learn in (lob.q_learning, lob.mc_control):
        gaps = []
        for i in range(R):
            result = learn(p, n_episodes=n_train, seed=[11, i])
            test = lob.evaluate_policy(result.greedy_policy, p, n_test, seed=[11, i, 1])
            gaps.append(result.start_values[-1] - test.mean)
        bias[learn.__name__] = lob.Estimate(gaps)
    q, mc = bias["q_learning"], bias["mc_control"]
    difference, stderr = q.mean - mc.mean, np.hypot(q.stderr, mc.stderr)
    assert difference > 3 * stderr, (q.mean, mc.mean, stderr)
    # and it is less than a tenth of Q-learning's, beyond 3 standard errors
    assert 10 * mc.mean + 3 * np.hypot(10 * mc.stderr, q.stderr) < q.mean, (q.mean, mc.mean)
