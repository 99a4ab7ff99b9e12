"""The compiled loops of the Chan & Shelton model, all in one file.

numba caches each compiled function on disk, keyed on the file that defines it; a function
inlined from another file would not be recompiled when that file changes. So every kernel
of this model, and every constant they read, lives here. The Python functions in the other
modules check their arguments and call these with plain arrays; each takes a seeded
``numpy.random.Generator``.
"""

from typing import NamedTuple

import numpy as np
from numba import njit


# The compiled loops take their arguments grouped in these named tuples (numba passes a tuple
# of arrays at no cost).


class Market(NamedTuple):
    """The market as the compiled loops read it."""
    cum_probs: np.ndarray   # cumulative probabilities of the five events, in code order
    T: int                  # steps per day
    p0: int                 # the opening price of the fundamental and of the market maker


class Day(NamedTuple):
    """One day, step by step (arrays of length T), filled by :func:`_episode`."""
    fundamental: np.ndarray
    mm_price: np.ndarray
    imbalance: np.ndarray
    event: np.ndarray
    order: np.ndarray
    action: np.ndarray
    reward: np.ndarray


class SarsaSettings(NamedTuple):
    """SARSA's step size, discount, exploration, and whether the day's last step is learnt from."""
    alpha: float
    gamma: float
    epsilon: float
    update_last: bool


class SarsaRecord(NamedTuple):
    """What SARSA records: each day's mean reward, Q after each day (or nothing: 0 rows),
    and the last day step by step (p*, m, I, Δ, r)."""
    mean_reward: np.ndarray
    q_history: np.ndarray
    final_day: np.ndarray


def _day_buffers(T):
    """Work space for one day."""
    ints = np.empty((6, T), dtype=np.int64)
    return Day(ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], np.empty(T))


# Event codes, in the order of MarketParams.event_probabilities().
PRICE_UP, PRICE_DOWN, UNINFORMED_BUY, UNINFORMED_SELL, INFORMED = range(5)


# What each event does, by event code: the fundamental's move and the uninformed order.
PRICE_MOVE = np.array([+1, -1, 0, 0, 0])
UNINFORMED_ORDER = np.array([0, 0, +1, -1, 0])


@njit(cache=True, inline="always")
def _draw_event(rng, cum_probs):
    """The event code: the number of cumulative probabilities that u ~ U(0, 1) reaches."""
    u = rng.random()
    return (u >= cum_probs[0]) + (u >= cum_probs[1]) + (u >= cum_probs[2]) + (u >= cum_probs[3])


@njit(cache=True, inline="always")
def _order(event, fundamental, mm_price):
    """The order o_t ∈ {−1, 0, +1} of this step's event (the informed trader sees m_{t−1})."""
    if event == INFORMED:
        return (fundamental > mm_price) - (fundamental < mm_price)
    return UNINFORMED_ORDER[event]


@njit(cache=True, inline="always")
def _policy_action(rng, table, imbalance, epsilon):
    """π(I) from a padded policy table (see Policy.as_array), or with probability ε a uniform
    random action."""
    if epsilon > 0.0 and rng.random() < epsilon:
        return rng.integers(0, 3) - 1
    K = table.shape[0] // 2
    s = min(max(imbalance, -K), K) + K
    return table[s]


@njit(cache=True)
def _episode(rng, market, table, epsilon, day):
    """Simulate one day, filling the per-step arrays of ``day``. Returns the mean reward."""
    cum_probs, T, p0 = market
    fundamental, mm_price, imbalance, event, order, action, reward = day
    p_star = p0
    m = p0
    window = 0          # the order imbalance I_t: orders since the last price change
    total = 0.0
    for t in range(T):
        e = _draw_event(rng, cum_probs)
        p_star += PRICE_MOVE[e]
        o = _order(e, p_star, m)
        a = _policy_action(rng, table, window, epsilon)
        imbalance[t] = window
        m += a
        if a != 0:
            window = 0      # the new window starts at t, with this step's order
        window += o
        r = o * (m - p_star)
        fundamental[t] = p_star
        mm_price[t] = m
        event[t] = e
        order[t] = o
        action[t] = a
        reward[t] = r
        total += r
    return total / T


# Monte-Carlo evaluation


@njit(cache=True)
def _evaluate(rng, market, table, epsilon, n_episodes, day):
    """The mean reward of each of ``n_episodes`` days (``day`` is work space)."""
    out = np.empty(n_episodes)
    for k in range(n_episodes):
        out[k] = _episode(rng, market, table, epsilon, day)
    return out


@njit(cache=True)
def _visit_sums(rng, market, table, epsilon, n_episodes, K, gamma, by_action, day):
    """Per (state, action) — or per state in column 0 if not ``by_action`` — pooled sums of
    the return, visit counts, and the per-episode moments needed for the standard errors of
    the pooled and the episode-mean estimators."""
    S = 2 * K + 1
    tot = np.zeros((S, 3))       # Σ returns
    cnt = np.zeros((S, 3))       # Σ visits
    syy = np.zeros((S, 3))       # Σ_episodes (episode sum)²
    sxx = np.zeros((S, 3))       # Σ_episodes (episode visits)²
    sxy = np.zeros((S, 3))
    em_sum = np.zeros((S, 3))    # Σ_episodes episode mean (where visited)
    em_sq = np.zeros((S, 3))
    em_n = np.zeros((S, 3))      # number of episodes visiting
    ep_sum = np.zeros((S, 3))
    ep_cnt = np.zeros((S, 3))
    T = market.T
    buf_r = day.reward
    G = np.empty(T)
    for _ in range(n_episodes):
        _episode(rng, market, table, epsilon, day)
        g = 0.0
        for t in range(T - 1, -1, -1):
            g = buf_r[t] + gamma * g
            G[t] = g
        ep_sum[:, :] = 0.0
        ep_cnt[:, :] = 0.0
        for t in range(T):
            s = min(max(day.imbalance[t], -K), K) + K
            a = day.action[t] + 1 if by_action else 0
            ep_sum[s, a] += G[t]
            ep_cnt[s, a] += 1.0
        for s in range(S):
            for a in range(3):
                c = ep_cnt[s, a]
                y = ep_sum[s, a]
                tot[s, a] += y
                cnt[s, a] += c
                syy[s, a] += y * y
                sxx[s, a] += c * c
                sxy[s, a] += y * c
                if c > 0:
                    em_sum[s, a] += y / c
                    em_sq[s, a] += (y / c) ** 2
                    em_n[s, a] += 1.0
    return tot, cnt, syy, sxx, sxy, em_sum, em_sq, em_n


# Exact values by forward propagation of the (p* − m, I) distribution


@njit(cache=True, nogil=True)
def _exact(probs, T, table, epsilon, K):
    """Propagate P(d = p* − m, I) through the T steps of a day.

    |d| grows by at most 2 and |I| by at most 1 per step, so a (4T+5) x (2T+3) grid holds
    every reachable state and no truncation is needed; each step visits only the rectangle
    where the distribution is non-zero.  Returns the expected reward of each step, and per
    clipped state s ∈ −K…K and action the expected reward mass and visits.
    """
    D = 2 * T + 2
    M = T + 1
    P = np.zeros((2 * D + 1, 2 * M + 1))
    Pn = np.zeros_like(P)
    P[D, M] = 1.0
    d_lo, d_hi, i_lo, i_hi = D, D, M, M          # the rectangle holding P's mass
    step_reward = np.zeros(T)
    rmass = np.zeros((2 * K + 1, 3))
    visits = np.zeros((2 * K + 1, 3))
    KP = table.shape[0] // 2
    pa = np.zeros(3)
    for t in range(T):
        n_d_lo, n_d_hi, n_i_lo, n_i_hi = 2 * D, 0, 2 * M, 0
        for di in range(d_lo, d_hi + 1):
            d = di - D
            for ii in range(i_lo, i_hi + 1):
                p = P[di, ii]
                if p == 0.0:
                    continue
                P[di, ii] = 0.0                      # P becomes next step's empty Pn
                I = ii - M
                greedy = table[min(max(I, -KP), KP) + KP]
                for k in range(3):
                    pa[k] = epsilon / 3.0
                pa[greedy + 1] += 1.0 - epsilon
                s = min(max(I, -K), K) + K
                for k in range(3):
                    if pa[k] == 0.0:
                        continue
                    a = k - 1
                    for e in range(5):
                        w = p * pa[k] * probs[e]
                        if w == 0.0:
                            continue
                        dd = d + PRICE_MOVE[e]
                        # the informed trader compares p*_t with m_{t−1}: sign(dd)
                        o = _order(e, dd, 0)
                        dn = dd - a
                        r = -o * dn
                        In = o if a != 0 else I + o
                        Pn[dn + D, In + M] += w
                        n_d_lo, n_d_hi = min(n_d_lo, dn + D), max(n_d_hi, dn + D)
                        n_i_lo, n_i_hi = min(n_i_lo, In + M), max(n_i_hi, In + M)
                        step_reward[t] += w * r
                        rmass[s, k] += w * r
                        visits[s, k] += w
        P, Pn = Pn, P
        d_lo, d_hi, i_lo, i_hi = n_d_lo, n_d_hi, n_i_lo, n_i_hi
    return step_reward, rmass, visits


# SARSA: on-policy TD control


@njit(cache=True, inline="always")
def _epsilon_greedy(rng, Q, s, epsilon):
    """With probability ε a uniform random action, else a greedy one in state s (ties broken
    at random among the best actions)."""
    if rng.random() < epsilon:
        return rng.integers(0, 3) - 1
    best = max(Q[s, 0], Q[s, 1], Q[s, 2])
    n_best = (Q[s, 0] == best) + (Q[s, 1] == best) + (Q[s, 2] == best)
    pick = rng.integers(0, n_best) if n_best > 1 else 0
    for k in range(3):
        if Q[s, k] == best:
            if pick == 0:
                return k - 1
            pick -= 1
    return 0


@njit(cache=True, nogil=True)
def _sarsa(rng, market, Q, n_episodes, settings, record):
    """SARSA over ``n_episodes`` days, updating Q (states −K…K x actions) in place:
    Q(s_{t−1}, a_{t−1}) += α [r_{t−1} + γ Q(s_t, a_t) − Q(s_{t−1}, a_{t−1})]."""
    cum_probs, T, p0 = market
    alpha, gamma, epsilon, update_last = settings
    mean_reward, q_history, final_day = record
    K = Q.shape[0] // 2
    for ep in range(n_episodes):
        p_star = p0
        m = p0
        window = 0
        total = 0.0
        s_prev = 0
        a_prev = 0
        r_prev = 0.0
        for t in range(T):
            e = _draw_event(rng, cum_probs)
            p_star += PRICE_MOVE[e]
            o = _order(e, p_star, m)
            s = min(max(window, -K), K) + K
            a = _epsilon_greedy(rng, Q, s, epsilon)
            if ep == n_episodes - 1:
                final_day[0, t] = p_star
                final_day[2, t] = window
            m += a
            if a != 0:
                window = 0
            window += o
            r = o * (m - p_star)
            total += r
            if t > 0:
                Q[s_prev, a_prev + 1] += alpha * (r_prev + gamma * Q[s, a + 1] - Q[s_prev, a_prev + 1])
            s_prev, a_prev, r_prev = s, a, r
            if ep == n_episodes - 1:
                final_day[1, t] = m
                final_day[3, t] = a
                final_day[4, t] = r
        if update_last:
            # the day ends: the last transition's target is its reward alone
            Q[s_prev, a_prev + 1] += alpha * (r_prev - Q[s_prev, a_prev + 1])
        mean_reward[ep] = total / T
        if q_history.shape[0] > 0:
            q_history[ep] = Q
