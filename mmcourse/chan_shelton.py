"""The Chan & Shelton (2001) market maker: the market model, policies, evaluation and learning.

One trading day has T steps and exactly one event per step: the fundamental price p* moves
up or down (probability λp each), an uninformed trader buys or sells (λu each), or an
informed trader arrives (λi) and buys if p*_t > m_{t-1}, sells if p*_t < m_{t-1}.  The market
maker observes the order imbalance I_t (the orders since its last price change, excluding
this step's), moves its price by Δ_t = π(I_t) ∈ {-1, 0, +1}, and earns
r_t = o_t · (m_t − p*_t) on this step's order o_t.  A policy's value v(π) is E[(1/T) Σ_t r_t].

The hot loops (episodes, Monte-Carlo evaluation, SARSA, the exact forward propagation) are
plain loops compiled with numba; each takes a seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from mmcourse._util import check_int, check_real, lazy_pandas, make_rng
from mmcourse.estimates import Estimate

pd = lazy_pandas()  # pandas (~30 MB) loads on first use: evaluation alone never needs it

__all__ = [
    "ACTIONS", "EVENT_NAMES", "MarketParams", "Policy", "threshold_policy", "greedy_policy",
    "Episode", "simulate_episode", "evaluate_policy", "exact_policy_value", "exact_values",
    "ExactValues", "ValueTable", "state_values", "state_action_values", "q_table",
    "policy_iteration", "PolicyIterationStep", "sarsa", "SarsaResult", "sarsa_learning_curves",
    "LearningCurves",
]

#: The market maker's actions Δp, in the column order of every Q table.
ACTIONS = (-1, 0, +1)

# Event codes, in the order of MarketParams.event_probabilities().
PRICE_UP, PRICE_DOWN, UNINFORMED_BUY, UNINFORMED_SELL, INFORMED = range(5)
#: Readable names of the event codes stored in :class:`Episode`.
EVENT_NAMES = ("price up", "price down", "uninformed buy", "uninformed sell", "informed")


# --------------------------------------------------------------------------------------
# Parameters and policies
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MarketParams:
    """The model's parameters; the defaults are the slides'.

    Exactly one event happens per step, so 2λp + 2λu + λi must equal 1.
    """

    lambda_p: float = 0.2
    lambda_u: float = 0.1
    lambda_i: float = 0.4
    T: int = 150
    p0: int = 200

    def __post_init__(self):
        for name in ("lambda_p", "lambda_u", "lambda_i"):
            object.__setattr__(self, name, check_real(name, getattr(self, name), 0.0, 1.0))
        total = 2 * self.lambda_p + 2 * self.lambda_u + self.lambda_i
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                "lambda_p, lambda_u, lambda_i must satisfy 2*lambda_p + 2*lambda_u + lambda_i = 1 "
                f"(one event per step), got {total!r}")
        object.__setattr__(self, "T", check_int("T", self.T, low=1))
        if isinstance(self.p0, float) and not self.p0.is_integer():
            raise ValueError(f"p0 must be an integer price, got {self.p0!r}")
        object.__setattr__(self, "p0", check_int("p0", self.p0))

    def event_probabilities(self) -> np.ndarray:
        """Probabilities of (price up, price down, uninformed buy, uninformed sell, informed)."""
        return np.array([self.lambda_p, self.lambda_p, self.lambda_u, self.lambda_u, self.lambda_i])


def _params(params) -> MarketParams:
    if params is None:
        return MarketParams()
    if not isinstance(params, MarketParams):
        raise ValueError(f"params must be a MarketParams, got {type(params).__name__}")
    return params


@dataclass(frozen=True)
class Policy:
    """A deterministic policy of the order imbalance, Δ = π(I), stored as a table.

    ``table[k]`` is the action at imbalance I = k − K for I = −K … K.  Beyond ±K the policy
    either uses the table's end (``outside="clip"``, as the slides' ``state()`` function
    clips the imbalance for a learnt Q table) or keeps the price (``outside="keep"``, as the
    threshold policy π_h does: it moves only when I = ±h exactly, which matters once
    exploration lets the imbalance pass ±h).
    """

    table: tuple[int, ...]
    name: str | None = field(default=None, compare=False)
    outside: str = "clip"

    def __post_init__(self):
        table = tuple(int(a) for a in self.table)
        if len(table) % 2 != 1:
            raise ValueError(f"table must have an odd length 2K+1 (imbalances -K..K), got {len(table)}")
        if any(a not in ACTIONS for a in table):
            raise ValueError(f"table entries must be actions in {{-1, 0, +1}}, got {table}")
        if self.outside not in ("clip", "keep"):
            raise ValueError(f"outside must be 'clip' or 'keep', got {self.outside!r}")
        object.__setattr__(self, "table", table)

    @classmethod
    def from_dict(cls, actions: dict, name: str | None = None, outside: str = "clip") -> "Policy":
        """A policy from ``{imbalance: action}`` over a symmetric range −K … K."""
        K = max(abs(int(s)) for s in actions)
        missing = [s for s in range(-K, K + 1) if s not in actions]
        if missing:
            raise ValueError(f"actions must give an action for every imbalance -{K}..{K}; missing {missing}")
        return cls(tuple(actions[s] for s in range(-K, K + 1)), name, outside)

    @property
    def K(self) -> int:
        """The table covers imbalances −K … K."""
        return len(self.table) // 2

    @property
    def states(self) -> range:
        """The imbalances −K … K, in the order of the table."""
        return range(-self.K, self.K + 1)

    def __call__(self, imbalance: int) -> int:
        if abs(imbalance) > self.K and self.outside == "keep":
            return 0
        return self.table[min(max(int(imbalance), -self.K), self.K) + self.K]

    def as_dict(self) -> dict[int, int]:
        """The table as ``{imbalance: action}``."""
        return {s: a for s, a in zip(self.states, self.table)}

    def as_array(self) -> np.ndarray:
        """The table padded with the action beyond −K and beyond +K, for the compiled code,
        which clips the imbalance to −(K+1) … K+1."""
        low, high = (0, 0) if self.outside == "keep" else (self.table[0], self.table[-1])
        return np.array((low,) + self.table + (high,), dtype=np.int64)

    def __repr__(self) -> str:
        body = ", ".join(f"{s}: {a:+d}" if a else f"{s}: 0" for s, a in self.as_dict().items())
        if self.outside == "keep":
            body += ", else 0"
        return f"{self.name}: {{{body}}}" if self.name else f"Policy({{{body}}})"


def threshold_policy(h: int) -> Policy:
    """The slides' π_h: move the price +1 when I = +h, −1 when I = −h, else keep it
    (also beyond ±h, which only exploration can reach)."""
    h = check_int("h", h, low=1)
    return Policy((-1,) + (0,) * (2 * h - 1) + (+1,), name=f"π_{h}", outside="keep")


def _as_q_array(Q) -> np.ndarray:
    arr = np.asarray(Q.to_numpy() if isinstance(Q, pd.DataFrame) else Q, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] % 2 != 1:
        raise ValueError(f"Q must be a (2K+1) x 3 table (imbalances -K..K x actions -1, 0, +1), got shape {arr.shape}")
    return arr


def greedy_policy(Q, name: str | None = "greedy", tol: float = 1e-9) -> Policy:
    """π'(s) = argmax_a Q(s, a).

    Ties (values within ``tol``) go to keeping the price (0) when it is among the best,
    otherwise to the lowest action, as in the slides.  Exact ties are common: by the model's
    symmetry every action has the same expected immediate reward at I = 0.  Unvisited
    entries (NaN) never win; a state with no visited action keeps the price.
    """
    arr = _as_q_array(Q)
    table = []
    for row in arr:
        if np.all(np.isnan(row)):
            table.append(0)
            continue
        best = np.nanmax(row)
        tied = [a for a, q in zip(ACTIONS, row) if not np.isnan(q) and q >= best - tol]
        table.append(0 if 0 in tied else tied[0])
    return Policy(tuple(table), name)


def q_table(values, states=None) -> pd.DataFrame:
    """A labelled Q table: rows are imbalances, columns the actions Δp = −1, 0, +1."""
    arr = _as_q_array(values)
    K = arr.shape[0] // 2
    index = pd.Index(list(states) if states is not None else range(-K, K + 1), name="imbalance")
    return pd.DataFrame(arr, index=index, columns=pd.Index(list(ACTIONS), name="Δp"))


# --------------------------------------------------------------------------------------
# The compiled model: one step, one episode
# --------------------------------------------------------------------------------------

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
def _episode(rng, cum_probs, T, p0, table, epsilon,
             fundamental, mm_price, imbalance, event, order, action, reward):
    """Simulate one day, filling the per-step output arrays. Returns the mean reward."""
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


@dataclass(frozen=True)
class Episode:
    """One simulated trading day: per-step arrays, index t = 0 … T−1."""

    fundamental_price: np.ndarray
    mm_price: np.ndarray
    imbalance: np.ndarray
    event: np.ndarray
    order: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    params: MarketParams
    policy: Policy

    @property
    def mean_reward(self) -> float:
        """(1/T) Σ_t r_t, one sample of v(π)."""
        return float(self.reward.mean())

    def to_frame(self) -> pd.DataFrame:
        """The day as a DataFrame, one row per step."""
        return pd.DataFrame({
            "event": pd.Categorical.from_codes(self.event, categories=list(EVENT_NAMES)),
            "fundamental_price": self.fundamental_price,
            "mm_price": self.mm_price,
            "imbalance": self.imbalance,
            "order": self.order,
            "action": self.action,
            "reward": self.reward,
        }, index=pd.RangeIndex(self.params.T, name="t"))


def _check_policy(policy) -> Policy:
    if not isinstance(policy, Policy):
        raise ValueError(f"policy must be a Policy (e.g. threshold_policy(2)), got {type(policy).__name__}")
    return policy


def _check_epsilon(epsilon) -> float:
    return check_real("epsilon", epsilon, 0.0, 1.0)


def simulate_episode(policy: Policy, params: MarketParams | None = None, seed=None,
                     epsilon: float = 0.0) -> Episode:
    """Simulate one trading day under ``policy`` (with ε-exploration if ``epsilon`` > 0)."""
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    rng = make_rng(seed)
    T = params.T
    ints = [np.zeros(T, dtype=np.int64) for _ in range(6)]
    reward = np.zeros(T)
    fundamental, mm_price, imbalance, event, order, action = ints
    _episode(rng, np.cumsum(params.event_probabilities()), T, params.p0, policy.as_array(), epsilon,
             fundamental, mm_price, imbalance, event, order, action, reward)
    return Episode(fundamental, mm_price, imbalance, event, order, action, reward, params, policy)


# --------------------------------------------------------------------------------------
# Monte-Carlo evaluation
# --------------------------------------------------------------------------------------

@njit(cache=True)
def _evaluate(rng, cum_probs, T, p0, table, epsilon, n_episodes):
    out = np.empty(n_episodes)
    buf_i = np.empty((6, T), dtype=np.int64)
    buf_r = np.empty(T)
    for k in range(n_episodes):
        out[k] = _episode(rng, cum_probs, T, p0, table, epsilon,
                          buf_i[0], buf_i[1], buf_i[2], buf_i[3], buf_i[4], buf_i[5], buf_r)
    return out


def evaluate_policy(policy: Policy, params: MarketParams | None = None, n_episodes: int = 1000,
                    seed=None, epsilon: float = 0.0) -> Estimate:
    """Monte-Carlo estimate of v(π) = E[(1/T) Σ_t r_t] from ``n_episodes`` independent days.

    Only each day's mean reward is kept, so memory does not grow with T.
    """
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    n_episodes = check_int("n_episodes", n_episodes, low=2)
    samples = _evaluate(make_rng(seed), np.cumsum(params.event_probabilities()), params.T, params.p0,
                        policy.as_array(), epsilon, n_episodes)
    return Estimate(samples)


@njit(cache=True)
def _visit_sums(rng, cum_probs, T, p0, table, epsilon, n_episodes, K, gamma, by_action):
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
    buf_i = np.empty((6, T), dtype=np.int64)
    buf_r = np.empty(T)
    G = np.empty(T)
    for _ in range(n_episodes):
        _episode(rng, cum_probs, T, p0, table, epsilon,
                 buf_i[0], buf_i[1], buf_i[2], buf_i[3], buf_i[4], buf_i[5], buf_r)
        g = 0.0
        for t in range(T - 1, -1, -1):
            g = buf_r[t] + gamma * g
            G[t] = g
        ep_sum[:, :] = 0.0
        ep_cnt[:, :] = 0.0
        for t in range(T):
            s = min(max(buf_i[2, t], -K), K) + K
            a = buf_i[5, t] + 1 if by_action else 0
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


@dataclass(frozen=True)
class ValueTable:
    """Monte-Carlo values by state (rows: imbalance) and action (columns: Δp), with standard
    errors and visit counts.  Entries never visited are NaN."""

    values: pd.DataFrame
    stderr: pd.DataFrame
    visits: pd.DataFrame
    estimator: str



def _check_estimator(estimator):
    if estimator not in ("pooled", "episode_mean"):
        raise ValueError(f"estimator must be 'pooled' or 'episode_mean', got {estimator!r}")
    return estimator


def _mc_values(policy, params, n_episodes, seed, epsilon, states, gamma, estimator, by_action):
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    n = check_int("n_episodes", n_episodes, low=2)
    K = policy.K if states is None else check_int("states", states, low=0)
    gamma = check_real("gamma", gamma, 0.0, 1.0)
    _check_estimator(estimator)
    tot, cnt, syy, sxx, sxy, em_sum, em_sq, em_n = _visit_sums(
        make_rng(seed), np.cumsum(params.event_probabilities()), params.T, params.p0,
        policy.as_array(), epsilon, n, K, gamma, by_action)
    with np.errstate(invalid="ignore", divide="ignore"):
        if estimator == "pooled":
            values = tot / cnt
            # ratio estimator: Var(R̂) ≈ Σ_e (y_e − R x_e)² / (n (n−1) x̄²)
            resid = syy - 2 * values * sxy + values ** 2 * sxx
            stderr = np.sqrt(np.maximum(resid, 0.0) / (n * (n - 1))) / (cnt / n)
        else:
            values = em_sum / em_n
            var = (em_sq - em_n * values ** 2) / (em_n - 1)
            stderr = np.sqrt(np.maximum(var, 0.0) / em_n)
    values[cnt == 0] = np.nan
    stderr[cnt == 0] = np.nan
    return values, stderr, cnt.astype(np.int64)


def state_action_values(policy: Policy, params: MarketParams | None = None, n_episodes: int = 1000,
                        seed=None, epsilon: float = 0.0, states: int | None = None,
                        gamma: float = 0.0, estimator: str = "pooled") -> ValueTable:
    """Monte-Carlo estimate of Q_π(s, a): the mean (discounted) return after taking action a
    in imbalance state s, over ``n_episodes`` days under π with ε-exploration.

    States are imbalances clipped to −K … K (``states`` = K, default the policy's K).
    With ``gamma`` = 0 (the slides) the return is the immediate reward r_t.

    ``estimator="pooled"`` (every-visit Monte Carlo): total return / total visits over all
    days, the estimator to teach.  ``estimator="episode_mean"``: the slides' mean over days of
    each day's mean, skipping days that never visit (s, a); it weights a visit in a day with
    few visits more than one in a day with many.
    """
    values, stderr, visits = _mc_values(policy, params, n_episodes, seed, epsilon, states,
                                        gamma, estimator, True)
    return ValueTable(q_table(values), q_table(stderr), q_table(visits).astype(np.int64), estimator)


def state_values(policy: Policy, params: MarketParams | None = None, n_episodes: int = 1000,
                 seed=None, epsilon: float = 0.0, states: int | None = None,
                 gamma: float = 0.0, estimator: str = "pooled") -> pd.DataFrame:
    """Monte-Carlo estimate of v_π(s), the mean (discounted) return from imbalance state s.

    Returns a DataFrame indexed by state with columns ``value``, ``stderr`` and ``visits``.
    See :func:`state_action_values` for ``states``, ``gamma`` and ``estimator``.
    """
    values, stderr, visits = _mc_values(policy, params, n_episodes, seed, epsilon, states,
                                        gamma, estimator, False)
    K = values.shape[0] // 2
    return pd.DataFrame({"value": values[:, 0], "stderr": stderr[:, 0], "visits": visits[:, 0]},
                        index=pd.Index(range(-K, K + 1), name="imbalance"))


# --------------------------------------------------------------------------------------
# Exact values by forward propagation of the (p* − m, I) distribution
# --------------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class ExactValues:
    """Exact expectations under a policy (with optional ε-exploration), γ = 0.

    ``value`` is v(π) = E[(1/T) Σ_t r_t]; ``step_rewards`` is E[r_t] for each t;
    ``q`` is E[r_t | s_t = s, a_t = a] pooled over the day (the limit of the pooled
    Monte-Carlo estimator); ``state_values`` pools over actions; ``visits`` is the expected
    number of visits per day.
    """

    value: float
    step_rewards: np.ndarray = field(repr=False)
    q: pd.DataFrame = field(repr=False)
    state_values: pd.Series = field(repr=False)
    visits: pd.DataFrame = field(repr=False)


def exact_values(policy: Policy, params: MarketParams | None = None, epsilon: float = 0.0,
                 states: int | None = None) -> ExactValues:
    """Exact v(π), E[r_t], and pooled state and state-action values, by forward propagation
    of the distribution of (p* − m, I) through the T steps of a day (no sampling)."""
    policy, params, epsilon = _check_policy(policy), _params(params), _check_epsilon(epsilon)
    K = policy.K if states is None else check_int("states", states, low=0)
    step_reward, rmass, visits = _exact(params.event_probabilities(), params.T, policy.as_array(),
                                        epsilon, K)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(visits > 0, rmass / visits, np.nan)
        sv = np.where(visits.sum(1) > 0, rmass.sum(1) / visits.sum(1), np.nan)
    return ExactValues(float(step_reward.sum() / params.T), step_reward, q_table(q),
                       pd.Series(sv, index=pd.Index(range(-K, K + 1), name="imbalance"), name="value"),
                       q_table(visits))


def exact_policy_value(policy: Policy, params: MarketParams | None = None, epsilon: float = 0.0) -> float:
    """The exact v(π) = E[(1/T) Σ_t r_t] of a policy of the imbalance (see :func:`exact_values`)."""
    return exact_values(policy, params, epsilon).value


# --------------------------------------------------------------------------------------
# Policy iteration
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolicyIterationStep:
    """One round of policy iteration: the policy evaluated, its Q table (with exploration),
    and the exact value of the policy itself (without exploration)."""

    policy: Policy
    q: pd.DataFrame = field(repr=False)
    value: float


def policy_iteration(policy: Policy, params: MarketParams | None = None, epsilon: float = 0.1,
                     states: int = 2, evaluation: str = "exact", n_episodes: int = 10_000,
                     seed=None, max_iterations: int = 20, gamma: float = 0.0) -> list[PolicyIterationStep]:
    """Alternate evaluation of Q_π (with ε-exploration so every action is tried) and greedy
    improvement π'(s) = argmax_a Q_π(s, a) until the policy no longer changes.

    ``evaluation="exact"`` uses :func:`exact_values`; ``"monte_carlo"`` uses
    :func:`state_action_values` with ``n_episodes`` days per round and returns discounted by
    ``gamma`` (the exact evaluation is for γ = 0, the slides' immediate reward).  Returns the sequence of
    steps; the last one's policy is stable (or ``max_iterations`` was reached).
    """
    policy, params = _check_policy(policy), _params(params)
    epsilon = check_real("epsilon", epsilon, 0.0, 1.0, low_open=True)
    states = check_int("states", states, low=0)
    max_iterations = check_int("max_iterations", max_iterations, low=1)
    if evaluation not in ("exact", "monte_carlo"):
        raise ValueError(f"evaluation must be 'exact' or 'monte_carlo', got {evaluation!r}")
    gamma = check_real("gamma", gamma, 0.0, 1.0)
    if evaluation == "exact" and gamma != 0.0:
        raise ValueError("gamma must be 0 with evaluation='exact' (use evaluation='monte_carlo' for returns)")
    rng = make_rng(seed)
    steps = []
    for k in range(max_iterations):
        if evaluation == "exact":
            q = exact_values(policy, params, epsilon, states).q
        else:
            q = state_action_values(policy, params, n_episodes, rng, epsilon, states, gamma).values
        steps.append(PolicyIterationStep(policy, q, exact_policy_value(policy, params)))
        improved = greedy_policy(q, name=f"π^({k + 1})")
        if improved == policy:
            break
        policy = improved
    return steps


# --------------------------------------------------------------------------------------
# SARSA: on-policy TD control
# --------------------------------------------------------------------------------------

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
def _sarsa(rng, cum_probs, T, p0, Q, n_episodes, alpha, gamma, epsilon, update_last,
           mean_reward, q_history, final_day):
    """SARSA over ``n_episodes`` days, updating Q (states −K…K x actions) in place:
    Q(s_{t−1}, a_{t−1}) += α [r_{t−1} + γ Q(s_t, a_t) − Q(s_{t−1}, a_{t−1})]."""
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


@dataclass(frozen=True)
class SarsaResult:
    """What SARSA learnt: the Q table, its greedy policy, and the learning history."""

    q: pd.DataFrame
    policy: Policy
    history: pd.DataFrame = field(repr=False)
    q_history: np.ndarray = field(repr=False)
    final_day: pd.DataFrame = field(repr=False)
    params: MarketParams

    def greedy_value_curve(self, every: int = 50) -> pd.DataFrame:
        """The exact value v of the greedy policy of Q after every ``every``-th episode."""
        every = check_int("every", every, low=1)
        if self.q_history.shape[0] == 0:
            raise ValueError("this result kept no Q history (record_q=False)")
        cache: dict[Policy, float] = {}
        rows = []
        for ep in range(every - 1, self.q_history.shape[0], every):
            pol = greedy_policy(self.q_history[ep])
            if pol not in cache:
                cache[pol] = exact_policy_value(pol, self.params)
            rows.append((ep + 1, repr(pol).split(": ", 1)[1], cache[pol]))
        return pd.DataFrame(rows, columns=["episode", "greedy policy", "exact value"]).set_index("episode")


def sarsa(params: MarketParams | None = None, n_episodes: int = 5000, alpha: float = 0.01,
          gamma: float = 0.0, epsilon: float = 0.1, seed=None, states: int = 2,
          update_last: bool = True, record_q: bool = True, Q=None) -> SarsaResult:
    """On-policy TD control as in the slides: ε-greedy actions from Q over the imbalance
    clipped to −K…K (``states`` = K = 2), Q initialised to 0 (or to ``Q``), one update per step.

    ``update_last=False`` reproduces the slides' code, which never uses the last transition
    of a day; the default also updates it, with target r_{T−1} (the day has ended).
    ``history`` holds each day's mean reward; ``q_history`` the Q table after each day
    (15 numbers per day; pass ``record_q=False`` to skip it for very long runs).
    """
    params = _params(params)
    n_episodes = check_int("n_episodes", n_episodes, low=1)
    alpha = check_real("alpha", alpha, 0.0, 1.0, low_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0)
    epsilon = _check_epsilon(epsilon)
    K = check_int("states", states, low=0)
    if Q is None:
        Qa = np.zeros((2 * K + 1, 3))
    else:
        Qa = _as_q_array(Q).copy()
        if Qa.shape[0] != 2 * K + 1:
            raise ValueError(f"Q must have {2 * K + 1} rows for states={K}, got {Qa.shape[0]}")
    mean_reward = np.empty(n_episodes)
    q_history = np.empty((n_episodes if record_q else 0, 2 * K + 1, 3))
    final_day = np.zeros((5, params.T))
    _sarsa(make_rng(seed), np.cumsum(params.event_probabilities()), params.T, params.p0, Qa,
           n_episodes, alpha, gamma, epsilon, bool(update_last), mean_reward, q_history, final_day)
    history = pd.DataFrame({"mean_reward": mean_reward},
                           index=pd.RangeIndex(1, n_episodes + 1, name="episode"))
    day = pd.DataFrame(final_day.T, columns=["fundamental_price", "mm_price", "imbalance", "action", "reward"],
                       index=pd.RangeIndex(params.T, name="t"))
    day = day.astype({"fundamental_price": np.int64, "mm_price": np.int64, "imbalance": np.int64,
                      "action": np.int64})
    return SarsaResult(q_table(Qa), greedy_policy(Qa, name="SARSA greedy"), history, q_history, day, params)


@dataclass(frozen=True)
class LearningCurves:
    """Per-episode mean rewards of independently seeded SARSA learners (rows: learners)."""

    rewards: np.ndarray = field(repr=False)
    final_policies: list[Policy] = field(repr=False)

    def band(self, level: float = 0.95, block: int = 1) -> pd.DataFrame:
        """Mean over learners of the mean reward per step, with a normal confidence band for
        that mean; with ``block`` > 1 each learner's days are first averaged over
        consecutive blocks of that many days (indexed by each block's last day)."""
        from statistics import NormalDist
        z = NormalDist().inv_cdf(0.5 + check_real("level", level, 0, 1, True, True) / 2)
        n_learners, n_days = self.rewards.shape
        block = check_int("block", block, 1, n_days)
        n_blocks = n_days // block
        r = self.rewards[:, :n_blocks * block].reshape(n_learners, n_blocks, block).mean(axis=2)
        mean = r.mean(axis=0)
        se = r.std(axis=0, ddof=1) / np.sqrt(n_learners)
        return pd.DataFrame({"mean": mean, "lower": mean - z * se, "upper": mean + z * se},
                            index=pd.Index(np.arange(1, n_blocks + 1) * block, name="episode"))


def sarsa_learning_curves(n_learners: int = 100, params: MarketParams | None = None,
                          n_episodes: int = 5000, alpha: float = 0.01, gamma: float = 0.0,
                          epsilon: float = 0.1, seed=None, states: int = 2,
                          update_last: bool = True) -> LearningCurves:
    """Run ``n_learners`` independent SARSA learners, each with its own seed spawned from
    ``seed``, and keep each one's per-episode mean reward and final greedy policy."""
    params = _params(params)
    n_learners = check_int("n_learners", n_learners, low=2)
    n_episodes = check_int("n_episodes", n_episodes, low=1)
    root = seed.integers(2**63) if isinstance(seed, np.random.Generator) else seed
    seeds = np.random.SeedSequence(root).spawn(n_learners)

    def learn(ss):
        return sarsa(params, n_episodes, alpha, gamma, epsilon, np.random.default_rng(ss), states,
                     update_last, record_q=False)

    # the compiled loop releases the GIL, so two threads use both cores; each learner has its
    # own generator, so the numbers do not depend on the number of threads
    sarsa(params, 1, alpha, gamma, epsilon, 0, states, update_last, record_q=False)  # compile once
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(learn, seeds))
    rewards = np.stack([r.history["mean_reward"].to_numpy() for r in results])
    policies = [r.policy for r in results]
    return LearningCurves(rewards, policies)
