"""The Chan & Shelton market maker as a gymnasium environment, one step per call.

The environment steps through the same trading day as :func:`mmcourse.chan_shelton.simulate_episode`,
drawing the same random numbers in the same order: with the same seed and the same policy it
gives the same day, step by step. It exists so that any gymnasium agent can play the market
maker; the course's own evaluation and learning run the compiled loops, which are far faster.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from mmcourse.chan_shelton.params import ACTIONS, EVENT_NAMES, MarketParams

__all__ = ["ChanSheltonEnv"]


class ChanSheltonEnv(gymnasium.Env):
    """The Chan & Shelton (2001) market maker: one episode is one trading day of T steps.

    At each step t = 0 … T−1 the market maker sees the observation, chooses a price move
    Δ_t ∈ {−1, 0, +1}, and the step then runs as in
    :func:`~mmcourse.chan_shelton.simulate_episode`: one event happens (the fundamental price
    p* moves up or down, an uninformed trader buys or sells, or an informed trader arrives),
    the event's order o_t is placed against the market maker's previous price m_{t−1} (the
    informed trader buys if p*_t > m_{t−1}, sells if p*_t < m_{t−1}), the price moves to
    m_t = m_{t−1} + Δ_t, and the market maker earns r_t = o_t · (m_t − p*_t). A price move
    restarts the order imbalance: after the step it is o_t if Δ_t ≠ 0, else I_t + o_t.

    The episode ends (``terminated=True``) after T steps; ``truncated`` is always False. The
    rewards are per step, so an episode's total reward is T times the package's
    ``Episode.mean_reward``.

    Parameters
    ----------
    params : MarketParams or None
        The market; None for ``MarketParams()``, the slides' defaults (T = 150).

    Attributes
    ----------
    params : MarketParams
        The market simulated.
    action_space : gymnasium.spaces.Discrete
        ``Discrete(3)``: action k moves the price by Δ = k − 1, i.e. ``ACTIONS[k]``
        (0 lowers it, 1 keeps it, 2 raises it), the column order of the package's Q tables.
    observation_space : gymnasium.spaces.Box
        Two int64 numbers, ``[I_t, t]``. First the order imbalance I_t, the sum of the orders
        since the market maker's last price change, excluding this step's (in −T … T): the
        state of the course's policies and Q tables, ``policy(obs[0])``. Then the step t
        (0 … T; T in the observation that ends the episode), because the day ends after T
        steps, so what a state is worth depends on the steps left. The market maker does not
        see p*.

    Notes
    -----
    ``info`` (from ``reset`` and ``step``) holds ``fundamental_price`` (p*_t) and ``mm_price``
    (m_t) after the step; ``step``'s info also holds ``order`` (o_t), ``event`` (its name, from
    ``EVENT_NAMES``), ``event_code`` (0 … 4) and ``price_move`` (Δ_t).

    ``gymnasium.make("mmcourse/ChanShelton-v0", params=...)`` passes ``params`` on; the day
    ends by itself after T steps, so the registration sets no time limit.

    The environment draws one uniform number per step, for the event, from ``self.np_random``;
    ``reset(seed=s)`` seeds it as ``numpy.random.default_rng(s)`` does. An agent that follows
    a policy of I_t therefore sees the day that ``simulate_episode(policy, params, seed=s)``
    simulates.

    Raises
    ------
    ValueError
        If ``params`` is not a :class:`~mmcourse.chan_shelton.params.MarketParams`.

    Examples
    --------
    >>> from mmcourse import chan_shelton as cs
    >>> env = ChanSheltonEnv()
    >>> policy = cs.threshold_policy(2)
    >>> obs, info = env.reset(seed=1)
    >>> total, done = 0.0, False
    >>> while not done:
    ...     obs, reward, done, _, info = env.step(policy(obs[0]) + 1)
    ...     total += reward
    >>> total / env.params.T == cs.simulate_episode(policy, seed=1).mean_reward
    True
    """

    metadata = {"render_modes": []}

    def __init__(self, params: MarketParams | None = None):
        if params is None:
            params = MarketParams()
        if not isinstance(params, MarketParams):
            raise ValueError(f"params must be a MarketParams or None, got {type(params).__name__}")
        self.params = params
        T = params.T
        self.action_space = spaces.Discrete(len(ACTIONS))
        self.observation_space = spaces.Box(low=np.array([-T, 0]), high=np.array([T, T]),
                                            shape=(2,), dtype=np.int64)
        # plain floats: the event is drawn as the compiled loop draws it, from the same
        # cumulative probabilities
        self._cum_probs = [float(c) for c in np.cumsum(params.event_probabilities())[:4]]
        self._t = None              # None until reset, T once the day is over
        self._p_star = self._m = params.p0
        self._imbalance = 0

    def _observation(self) -> np.ndarray:
        return np.array([self._imbalance, self._t], dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a new trading day at p* = m = p0, with imbalance 0.

        Parameters
        ----------
        seed : int or None
            Reseeds ``self.np_random`` (as ``numpy.random.default_rng(seed)``); None continues
            its stream (or seeds it from fresh entropy on the first reset).
        options : dict or None
            Not used.

        Returns
        -------
        observation : numpy.ndarray
            ``[0, 0]``: imbalance 0 at step 0.
        info : dict
            ``fundamental_price`` and ``mm_price``, both p0.
        """
        super().reset(seed=seed)
        self._t = 0
        self._p_star = self._m = self.params.p0
        self._imbalance = 0
        return self._observation(), {"fundamental_price": self._p_star, "mm_price": self._m}

    def step(self, action):
        """One step of the day: the event, the order, the price move Δ = action − 1, the reward.

        Parameters
        ----------
        action : int
            0, 1 or 2 (an element of ``action_space``): the price move Δ = ``ACTIONS[action]``.

        Returns
        -------
        observation : numpy.ndarray
            ``[I_{t+1}, t + 1]``.
        reward : float
            r_t = o_t · (m_t − p*_t).
        terminated : bool
            True after the day's T-th step.
        truncated : bool
            Always False.
        info : dict
            ``fundamental_price`` p*_t, ``mm_price`` m_t, ``order`` o_t, ``event`` (its name),
            ``event_code`` and ``price_move`` Δ_t.

        Raises
        ------
        ValueError
            If ``action`` is not 0, 1 or 2.
        RuntimeError
            If the day has not been started with ``reset`` or is over.
        """
        # integers are checked here (Discrete.contains costs several microseconds); a 0-d
        # integer array, which Discrete(3) also contains, by gymnasium
        if isinstance(action, (int, np.integer)) and not isinstance(action, bool):
            valid = 0 <= action <= 2
        else:
            valid = isinstance(action, np.ndarray) and self.action_space.contains(action)
        if not valid:
            raise ValueError(f"action must be 0, 1 or 2 (a price move of -1, 0, +1), got {action!r}")
        if self._t is None or self._t >= self.params.T:
            raise RuntimeError("the trading day is over or has not started: call reset() first")
        # the event, drawn as the compiled loop draws it: one uniform number u, and the
        # event code is how many of the first four cumulative probabilities u reaches
        u = self.np_random.random()
        c = self._cum_probs
        event = (u >= c[0]) + (u >= c[1]) + (u >= c[2]) + (u >= c[3])
        if event == 0:
            self._p_star += 1
        elif event == 1:
            self._p_star -= 1
        p_star, m = self._p_star, self._m
        if event == 2:
            order = 1
        elif event == 3:
            order = -1
        elif event == 4:            # the informed trader compares p*_t with m_{t-1}
            order = (p_star > m) - (p_star < m)
        else:
            order = 0
        move = int(action) - 1
        m += move
        self._m = m
        if move != 0:
            self._imbalance = 0     # the new window starts at t, with this step's order
        self._imbalance += order
        self._t += 1
        reward = float(order * (m - p_star))
        info = {"fundamental_price": p_star, "mm_price": m, "order": order,
                "event": EVENT_NAMES[event], "event_code": event, "price_move": move}
        return self._observation(), reward, self._t == self.params.T, False, info
