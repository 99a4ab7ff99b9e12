"""The Chan & Shelton market maker, one plain Python step at a time.

Draws random numbers in the same order as :mod:`mmcourse.chan_shelton` (event, then
exploration, then tie-breaking), so the same seed gives the same days and the same Q table.
"""

from __future__ import annotations

import numpy as np

from mmcourse.chan_shelton.params import MarketParams
from mmcourse.chan_shelton.policies import Policy


def _event(rng, cum_probs):
    u = rng.random()
    for k, c in enumerate(cum_probs[:4]):
        if u < c:
            return k
    return 4


def _order(event, p_star, m):
    if event == 2:
        return 1
    if event == 3:
        return -1
    if event == 4:
        return (p_star > m) - (p_star < m)
    return 0


def _market(rng, cum_probs, p_star, m):
    """Steps 1-2 of the spec: the event moves the fundamental price p*, then brings an order
    (the informed trader compares the new p* with the market maker's price m before it moves)."""
    event = _event(rng, cum_probs)
    if event == 0:
        p_star += 1
    elif event == 1:
        p_star -= 1
    return p_star, _order(event, p_star, m)


def simulate_day(policy: Policy, params: MarketParams, rng, epsilon: float = 0.0) -> list[float]:
    """One day under ``policy`` (ε-exploration optional); returns the rewards r_0 … r_{T−1}."""
    cum_probs = list(np.cumsum(params.event_probabilities()))
    p_star = m = params.p0
    imbalance = 0
    rewards = []
    for t in range(params.T):
        p_star, order = _market(rng, cum_probs, p_star, m)
        if epsilon > 0 and rng.random() < epsilon:
            action = int(rng.integers(0, 3)) - 1
        else:
            action = policy(imbalance)
        m += action
        if action != 0:
            imbalance = 0
        imbalance += order
        rewards.append(order * (m - p_star))
    return rewards


def evaluate(policy: Policy, params: MarketParams, n_episodes: int, rng) -> list[float]:
    """Each day's mean reward, for ``n_episodes`` days."""
    return [sum(r) / params.T for r in (simulate_day(policy, params, rng) for _ in range(n_episodes))]


def sarsa(params: MarketParams, n_episodes: int, alpha: float, gamma: float, epsilon: float, rng,
          max_imbalance: int = 2, update_last: bool = True) -> list[list[float]]:
    """SARSA as in the slides; returns the Q table as a list of rows (imbalance −K…K)."""
    K = max_imbalance
    Q = [[0.0, 0.0, 0.0] for _ in range(2 * K + 1)]
    cum_probs = list(np.cumsum(params.event_probabilities()))

    def choose(row):
        if rng.random() < epsilon:
            return int(rng.integers(0, 3)) - 1
        best = max(row)
        ties = [k for k in range(3) if row[k] == best]
        pick = int(rng.integers(0, len(ties))) if len(ties) > 1 else 0
        return ties[pick] - 1

    for _ in range(n_episodes):
        p_star = m = params.p0
        imbalance = 0
        prev = None
        for t in range(params.T):
            p_star, order = _market(rng, cum_probs, p_star, m)
            s = min(max(imbalance, -K), K) + K
            a = choose(Q[s])
            m += a
            if a != 0:
                imbalance = 0
            imbalance += order
            r = order * (m - p_star)
            if prev is not None:
                ps, pa, pr = prev
                Q[ps][pa + 1] += alpha * (pr + gamma * Q[s][a + 1] - Q[ps][pa + 1])
            prev = (s, a, r)
        if update_last:
            ps, pa, pr = prev
            Q[ps][pa + 1] += alpha * (pr - Q[ps][pa + 1])
    return Q
