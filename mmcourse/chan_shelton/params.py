"""The market's parameters and what the market maker can do.

One trading day has T steps and exactly one event per step: the fundamental price p* moves
up or down (probability λp each), an uninformed trader buys or sells (λu each), or an
informed trader arrives (λi). The market maker's actions are price moves Δp ∈ {−1, 0, +1}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmcourse.chan_shelton._kernels import (INFORMED, PRICE_DOWN, PRICE_UP, UNINFORMED_BUY,  # noqa: F401
                                             UNINFORMED_SELL, Market)
from mmcourse.core.checks import check_int, check_real

__all__ = ["ACTIONS", "EVENT_NAMES", "PRICE_UP", "PRICE_DOWN", "UNINFORMED_BUY", "UNINFORMED_SELL",
           "INFORMED", "MarketParams"]

#: The market maker's actions Δp, in the column order of every Q table.
ACTIONS = (-1, 0, +1)

#: Readable names of the event codes 0…4 stored in
#: :class:`~mmcourse.chan_shelton.simulation.Episode` (``EVENT_NAMES[PRICE_UP]`` is "price up").
EVENT_NAMES = ("price up", "price down", "uninformed buy", "uninformed sell", "informed")


@dataclass(frozen=True)
class MarketParams:
    """The parameters of the Chan & Shelton market; the defaults are the slides'.

    Exactly one event happens per step, so 2λp + 2λu + λi must equal 1.

    Attributes
    ----------
    lambda_p : float
        λp, the probability that the fundamental price p* moves up, and that it moves down.
    lambda_u : float
        λu, the probability of an uninformed buy, and of an uninformed sell.
    lambda_i : float
        λi, the probability that an informed trader arrives: it buys if p*_t > m_{t−1}, sells
        if p*_t < m_{t−1}, and does not trade if they are equal.
    T : int
        The number of steps in a trading day, ≥ 1.
    p0 : int
        The price at which both the fundamental p* and the market maker's price m start.

    Raises
    ------
    ValueError
        If a probability is outside [0, 1], 2λp + 2λu + λi differs from 1 by more than 1e-9,
        T < 1, or p0 is not an integer.
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
        """The probability of each event, in the order of the event codes.

        Returns
        -------
        numpy.ndarray
            (λp, λp, λu, λu, λi): the probabilities of price up, price down, uninformed buy,
            uninformed sell and informed, indexed by ``PRICE_UP`` … ``INFORMED``.
        """
        return np.array([self.lambda_p, self.lambda_p, self.lambda_u, self.lambda_u, self.lambda_i])

    def _market(self) -> Market:
        """The parameters as the compiled loops read them."""
        return Market(np.cumsum(self.event_probabilities()), self.T, self.p0)


def _params(params) -> MarketParams:
    if params is None:
        return MarketParams()
    if not isinstance(params, MarketParams):
        raise ValueError(f"params must be a MarketParams, got {type(params).__name__}")
    return params


def _check_epsilon(epsilon) -> float:
    return check_real("epsilon", epsilon, 0.0, 1.0)
