"""The limit-order-book market maker as a gymnasium environment: ``mmcourse/LimitOrderBook-v0``.

One episode is one episode of :func:`mmcourse.lob.simulate_episode`: T steps of ``dt`` time
units. At each decision t = 0 … T − 2 the agent chooses the depths of its two quotes; the
book then runs for ``dt`` and the step's reward is booked. After the last decision the
market maker liquidates its inventory (step T − 1), and that step's reward is added to the
last decision's, so an episode's total reward is the package's total reward.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mmcourse.core import _pcg64
from mmcourse.lob._kernels import ASK, BID_PRICE, ASK_PRICE, SPREAD, Work, _env_last_step, _env_start, \
    _env_step, _next_start
from mmcourse.lob.book import Book, _background, _scratch
from mmcourse.lob.params import LOBParams, _check_params

__all__ = ["LimitOrderBookEnv"]


class LimitOrderBookEnv(gym.Env):
    """A market maker quoting a bid and an ask in the Markov-chain limit order book.

    Observation
        ``numpy.ndarray`` of three int64, named in :attr:`observation_names`: the decision
        step t (0 … T − 2; T − 1 in the final observation), the inventory Q (units; positive is long) and the spread s
        (ticks, 1 … L + 1) at the start of the step. The course's Q-learner sees the time
        bucket ⌊t · num_time_buckets / T⌋ and the inventory bucket of Q, both computable
        from these.
    Action
        ``Discrete(D²)``: index (d_b − 1) · D + (d_a − 1) for depths d_b, d_a ∈ {1 … D}
        measured from the *opposite* best prices, as in :func:`mmcourse.lob.q_learning`.
    Reward
        r_t = V_{t+1} − V_t − φ Q²: the change of the market maker's value (cash plus what
        liquidating its inventory would bring), minus the inventory penalty of
        ``params.phi``. The last decision's reward includes the liquidation step's.
    Episode
        T − 1 decisions; ``terminated`` is True after the last, ``truncated`` never.

    ``info`` holds the step's book and accounts: ``bid``, ``ask`` (at the start of the
    step), ``bid_quote``, ``ask_quote`` (the prices posted, after any widening), ``cash``,
    ``inventory``, ``value`` (after the step) and ``n_events``.

    Seeding works as in the package: ``reset(seed=s)`` draws a starting book after the
    burn-in from ``numpy.random.default_rng(s)`` (gymnasium's generator for an int seed is
    the same stream); each further ``reset()`` lets that background book run alone for
    ``params.start_gap`` first. So the episodes after ``reset(seed=s)`` are those of
    ``lob.evaluate_policy(policy, params, n, seed=s)`` and the first is
    ``lob.simulate_episode(policy, params, seed=s)``.

    Parameters
    ----------
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    start_book : Book or None
        A fixed book every episode starts from, instead of the background book.

    Raises
    ------
    ValueError
        If ``params`` is not a LOBParams or ``start_book`` does not fit it.
    """

    metadata = {"render_modes": []}
    #: What the three entries of an observation hold.
    observation_names = ("t", "inventory", "spread")

    def __init__(self, params: LOBParams | None = None, start_book: Book | None = None):
        self.params = _check_params(params)
        if start_book is not None:
            _background(self.params, start_book, None)      # checks that it fits
        self.start_book = start_book
        p = self.params
        D, T = p.max_quote_depth, p.T
        max_inventory = (T - 1) * p.default_order_size          # one fill per side per step
        self.action_space = spaces.Discrete(D * D)
        self.observation_space = spaces.Box(
            low=np.array([0, -max_inventory, 1], dtype=np.int64),
            high=np.array([T - 1, max_inventory, p.num_levels + 1], dtype=np.int64),
            dtype=np.int64)
        self._model = p._model()
        self._g = None
        self._start = None                     # the background book (top, vols, gap)
        self._work = None
        self._t = 0

    # -- gymnasium API ---------------------------------------------------------------------

    def reset(self, *, seed=None, options=None):
        """Start an episode; see the class docstring for how episodes follow one another.

        Returns
        -------
        observation : numpy.ndarray
            (t = 0, inventory 0, the spread of the starting book).
        info : dict
            The starting book's best ``bid`` and ``ask``.
        """
        if self._g is not None:                  # an episode left unfinished
            _pcg64.restore(self.np_random, self._g)
            self._g = None
        super().reset(seed=seed)
        p = self.params
        first = seed is not None or self._start is None
        if first:
            self._start = _background(p, self.start_book, self.np_random)
            vols = np.zeros_like(self._start.vols)
            self._work = Work(np.zeros(2, dtype=np.int64), vols, *_scratch(vols))
        w, start = self._work, self._start
        with _pcg64.stream(self.np_random) as g:
            _next_start(g, self._model, 0 if first else 1, start.top, start.vols, start.gap,
                        w.top, w.vols, w.mm, w.cum, w.fills)
        _env_start(self._model, w)
        # The episode draws from the generator's state held as an array (reading and writing
        # a Generator's state costs ~30 µs, several times a step's work); it is written back
        # to self.np_random when the episode ends or the next reset() begins.
        self._g = _pcg64.state(self.np_random)
        self._account = np.zeros(3, dtype=np.int64)          # X, Q, V
        self._t = 0
        return self._observation(), {"bid": int(w.top[ASK] - w.top[SPREAD]), "ask": int(w.top[ASK])}

    def step(self, action):
        """Quote the depths of ``action`` for one step.

        Returns
        -------
        observation, reward, terminated, truncated, info
            As gymnasium specifies; see the class docstring.
        """
        if self._g is None:
            raise RuntimeError("call reset() before step(), and again after an episode ends")
        if not (isinstance(action, (int, np.integer)) and 0 <= action < self.action_space.n):
            if not self.action_space.contains(action):   # e.g. a 0-d array
                raise ValueError(f"action must be an integer in 0 … {self.action_space.n - 1}, "
                                 f"got {action!r}")
        D = self.params.max_quote_depth
        w, m, account = self._work, self._model, self._account
        bid, ask = int(w.top[ASK] - w.top[SPREAD]), int(w.top[ASK])
        g = self._g
        reward, n = _env_step(g, m, w, int(action) // D + 1, int(action) % D + 1, account)
        quotes = int(w.mm[BID_PRICE]), int(w.mm[ASK_PRICE])
        self._t += 1
        terminated = self._t == self.params.T - 1
        if terminated:
            last, n_last = _env_last_step(g, m, w, account)
            reward += last
            n += n_last
            _pcg64.restore(self.np_random, g)
            self._g = None
        info = {"bid": bid, "ask": ask, "bid_quote": quotes[0], "ask_quote": quotes[1],
                "cash": int(account[0]), "inventory": int(account[1]), "value": int(account[2]),
                "n_events": int(n)}
        return self._observation(), float(reward), terminated, False, info

    def _observation(self) -> np.ndarray:
        return np.array([self._t, self._account[1], self._work.top[SPREAD]], dtype=np.int64)
