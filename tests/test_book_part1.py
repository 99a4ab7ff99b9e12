"""Checks behind Part I of the book (chapters 1-4), too long to run inside the chapters.

Each test states a fact that a chapter relies on: that the chapter's readable Python and the
package's compiled code agree bit for bit, or that a Monte-Carlo number estimates what the
chapter says it does (|estimate - truth| < 4 standard errors, a false alarm about once in
16,000 comparisons). The chapters' readable functions are copied here unchanged; the tests
import only the package, never a chapter.
"""

import itertools

import numpy as np
import pandas as pd

from mmcourse import chan_shelton as cs

Z = 4.0


# ================================================================ chapter 1, the market model
# §1.3 "One day in plain Python": the chapter's readable loop, copied unchanged.

LAMBDA_P, LAMBDA_U, LAMBDA_I = 0.2, 0.1, 0.4
T, P0 = 150, 200


def threshold_policy(imbalance, h=2):
    if imbalance == +h:
        return +1
    if imbalance == -h:
        return -1
    return 0


def draw_event(u, cum, p_star, m):
    """The new fundamental price and this step's order."""
    if u < cum[0]:
        return p_star + 1, 0                  # price up
    if u < cum[1]:
        return p_star - 1, 0                  # price down
    if u < cum[2]:
        return p_star, +1                     # uninformed buy
    if u < cum[3]:
        return p_star, -1                     # uninformed sell
    return p_star, int(np.sign(p_star - m))   # informed, sees m_{t-1}


def simulate_day(policy, seed, lp=LAMBDA_P, lu=LAMBDA_U, li=LAMBDA_I,
                 T=T, p0=P0):
    rng = np.random.default_rng(seed)
    cum = np.cumsum([lp, lp, lu, lu, li])
    p_star, m, I = p0, p0, 0
    rows = []
    for t in range(T):
        u = rng.random()
        p_star, o = draw_event(u, cum, p_star, m)   # steps 1-2
        a = policy(I)                               # steps 3-4
        m += a
        rows.append((p_star, m, I, o, a, o * (m - p_star)))  # step 5
        I = o if a != 0 else I + o      # a move restarts the window
    cols = ["fundamental_price", "mm_price", "imbalance",
            "order", "action", "reward"]
    return pd.DataFrame(rows, columns=cols).rename_axis("t")


# §1.4 "The same day with the package": same seed, same day, for every threshold.
def test_ch1_readable_day_equals_the_package_day():
    cols = ["fundamental_price", "mm_price", "imbalance", "order", "action", "reward"]
    for h in (1, 2, 3):
        for seed in range(5):
            a = simulate_day(lambda I: threshold_policy(I, h), seed=seed)[cols].to_numpy(float)
            b = cs.simulate_episode(cs.threshold_policy(h), seed=seed).to_frame()[cols].to_numpy(float)
            assert np.array_equal(a, b), (h, seed)


# ================================================================ chapter 2, Monte-Carlo evaluation
# §2.4 "The value of states": the slides' state values read the imbalances of one earlier day
# (seed 34), so each entry estimates the mean of E[r_t] over that day's steps in the "state",
# which the exact step rewards give; and each is close to v(π).
def test_ch2_stale_state_values_estimate_the_mean_reward_of_fixed_steps():
    one_day = cs.simulate_episode(cs.threshold_policy(2), seed=34).to_frame()
    # the slides' global `order_imbalances`, left over from that one day
    stale_imbalance = one_day.imbalance.to_numpy()

    def slides_state_values(policy, n_days=1000):
        """The slides' expected_reward_by_state, bug included; a row per day."""
        days = (cs.simulate_episode(policy, seed=k) for k in range(n_days))
        return pd.DataFrame([
            {s: d.reward[stale_imbalance == s].mean() for s in policy.states}
            for d in days])

    for h in (1, 2):
        pi = cs.threshold_policy(h)
        buggy = slides_state_values(pi)
        step_rewards = cs.exact_values(pi).step_rewards
        for s in pi.states:
            target = step_rewards[stale_imbalance == s].mean()
            assert abs(buggy[s].mean() - target) < Z * buggy[s].sem(), (h, s)
            assert abs(buggy[s].mean() - cs.exact_policy_value(pi)) < 0.05, (h, s)


# §2.6 "Exploration": beyond the threshold a threshold policy keeps the price (outside="keep")
# and a learnt policy applies its table's end rows (outside="clip"); without exploration the
# imbalance never passes ±h, so the two readings are the same policy.
def test_ch2_keep_and_clip_readings_agree_without_exploration():
    for h in (1, 2, 3):
        pi = cs.threshold_policy(h)
        clipped = cs.Policy(pi.table, outside="clip")
        assert abs(cs.exact_policy_value(clipped) - cs.exact_policy_value(pi)) < 1e-12, h
    # with exploration the imbalance passes ±h and the readings differ
    pi2 = cs.threshold_policy(2)
    clipped2 = cs.Policy(pi2.table, outside="clip")
    assert abs(cs.exact_policy_value(clipped2, epsilon=0.1)
               - cs.exact_policy_value(pi2, epsilon=0.1)) > 1e-3


# ================================================================ chapter 3, policy iteration
# §3.4 "Is the improved policy the best one?": the chapter's reduction of the 243 tables,
# copied unchanged. A table, its canonical form and its mirror image have one value.

def behaviour(table):
    """The same policy, with the action at an unreachable state set to 0."""
    a = list(table)                 # a[k] is the action at imbalance k - 2
    if a[3] != 0:                   # moving at I = +1: I = +2 is never reached
        a[4] = 0
    if a[1] != 0:                   # moving at I = -1: I = -2 is never reached
        a[0] = 0
    return tuple(a)


def mirror(table):
    return tuple(-a for a in reversed(table))


def test_ch3_the_reduction_of_the_243_tables_keeps_their_values():
    tables = list(itertools.product(cs.ACTIONS, repeat=5))
    distinct = {behaviour(t) for t in tables}
    classes = sorted({min(t, mirror(t)) for t in distinct})
    assert (len(tables), len(distinct), len(classes)) == (243, 75, 40)
    for t in [(1, -1, 0, 1, -1), (0, 0, 0, 1, 1), (-1, 1, 0, 0, 1), (1, 0, -1, -1, -1)]:
        same = [cs.exact_policy_value(cs.Policy(x))
                for x in (t, behaviour(t), mirror(t))]
        assert np.ptp(same) < 1e-12, (t, same)


# ================================================================ chapter 4, TD learning and SARSA
# §4.3 "One SARSA day in plain Python": the chapter's readable SARSA, copied unchanged.

def epsilon_greedy(rng, q_row, epsilon):
    """Δ from a row of Q: random with probability ε, else greedy."""
    if rng.random() < epsilon:
        return int(rng.integers(0, 3)) - 1       # explore: -1, 0 or +1
    best = np.flatnonzero(q_row == q_row.max())   # the greedy columns
    k = best[rng.integers(0, len(best))] if len(best) > 1 else best[0]  # ties
    return int(k) - 1


def market_event(rng, cum_probs, p_star, m):
    """One step's event: the new fundamental price p*_t and the order o_t."""
    u = rng.random()
    if u < cum_probs[0]:                  # the fundamental price moves up ...
        return p_star + 1, 0
    if u < cum_probs[1]:                  # ... or down; no order this step
        return p_star - 1, 0
    if u < cum_probs[2]:                  # an uninformed buy
        return p_star, +1
    if u < cum_probs[3]:                  # an uninformed sell
        return p_star, -1
    return p_star, int(np.sign(p_star - m))   # informed: sees p*_t and m_{t-1}


def sarsa_day(Q, rng, params, alpha=0.01, gamma=0.0, epsilon=0.1,
              update_last=True):
    """Trade one day ε-greedily, updating Q (imbalance × Δ) in place."""
    cum_probs = np.cumsum(params.event_probabilities())
    K = Q.shape[0] // 2                   # rows: the imbalances -K ... K
    p_star = m = params.p0
    window = 0                            # orders since the last price change
    for t in range(params.T):
        p_star, o = market_event(rng, cum_probs, p_star, m)
        s = min(max(window, -K), K) + K   # the row of the clipped imbalance
        a = epsilon_greedy(rng, Q[s], epsilon)
        m += a
        if a != 0:
            window = 0                    # a price change restarts the window
        window += o
        r = o * (m - p_star)
        if t > 0:                         # SARSA update of the previous step
            target = r_prev + gamma * Q[s, a + 1]
            Q[s_prev, a_prev + 1] += alpha * (target - Q[s_prev, a_prev + 1])
        s_prev, a_prev, r_prev = s, a, r
    if update_last:                       # the day is over: target r alone
        Q[s_prev, a_prev + 1] += alpha * (r_prev - Q[s_prev, a_prev + 1])
    return Q


def readable_sarsa(n_days, seed, **kw):
    params = cs.MarketParams()
    rng, Q = np.random.default_rng(seed), np.zeros((5, 3))
    for _ in range(n_days):
        sarsa_day(Q, rng, params, **kw)
    return Q


# §4.3: the readable SARSA and the package's compiled cs.sarsa agree to the last bit, over
# seeds, numbers of days, both settings of update_last, and with γ > 0.
def test_ch4_readable_sarsa_equals_the_package():
    for seed in range(2):
        for n_days in (1, 3):
            for last in (True, False):
                ref = cs.sarsa(n_episodes=n_days, seed=seed, update_last=last).q
                mine = readable_sarsa(n_days, seed, update_last=last)
                assert np.array_equal(mine, ref.to_numpy()), (seed, n_days, last)
    ref = cs.sarsa(n_episodes=2, seed=5, gamma=0.9, alpha=0.1).q.to_numpy()
    assert np.array_equal(readable_sarsa(2, 5, gamma=0.9, alpha=0.1), ref)
    # the update of the last step is what update_last switches
    assert not np.array_equal(readable_sarsa(1, 0, update_last=True),
                              readable_sarsa(1, 0, update_last=False))
