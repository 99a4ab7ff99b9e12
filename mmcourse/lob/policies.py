"""The market maker's policies: where to quote, as a function of the time and the inventory.

A policy gives the depths (d_b, d_a) ∈ {1…D}², measured from the *opposite* best prices, by
(time bucket, inventory bucket): the market maker bids at a − d_b and asks at b + d_a. The
thesis calls these "strategies".

Every policy has a ``label`` (its name in tables and legends) and a method
``depth_table(params)``, which gives its depths for the setting ``params``; the simulation,
evaluation and experiment functions accept any of the three policies here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int
from mmcourse.lob._kernels import Depths
from mmcourse.lob.params import LOBParams

pd = lazy_pandas()

__all__ = ["ConstantPolicy", "RandomPolicy", "GreedyPolicy", "constant_policy", "random_policy"]


@dataclass(frozen=True)
class ConstantPolicy:
    """Always quote at depths (bid_depth, ask_depth) from the opposite best prices.

    Attributes
    ----------
    bid_depth : int
        d_b ≥ 1: the bid is at a − d_b.
    ask_depth : int
        d_a ≥ 1: the ask is at b + d_a.

    Raises
    ------
    ValueError
        If a depth is not an integer ≥ 1.
    """

    bid_depth: int
    ask_depth: int

    def __post_init__(self):
        object.__setattr__(self, "bid_depth", check_int("bid_depth", self.bid_depth, low=1))
        object.__setattr__(self, "ask_depth", check_int("ask_depth", self.ask_depth, low=1))

    @property
    def label(self) -> str:
        """The policy's name in tables and legends."""
        if self.bid_depth == self.ask_depth:
            return f"constant (depth {self.bid_depth})"
        return f"constant (bid depth {self.bid_depth}, ask depth {self.ask_depth})"

    def depth_table(self, params: LOBParams) -> np.ndarray:
        """The depths (d_b, d_a) by (time bucket, inventory bucket + c): the same everywhere.

        Parameters
        ----------
        params : LOBParams
            The setting: its time and inventory buckets and ``max_quote_depth``.

        Returns
        -------
        numpy.ndarray
            Shape (num_time_buckets, num_inventory_buckets, 2), int64.

        Raises
        ------
        ValueError
            If a depth exceeds ``params.max_quote_depth``.
        """
        for name in ("bid_depth", "ask_depth"):
            if getattr(self, name) > params.max_quote_depth:
                raise ValueError(f"{name} must be ≤ max_quote_depth = {params.max_quote_depth}, "
                                 f"got {getattr(self, name)}")
        table = np.empty((params.num_time_buckets, params.num_inventory_buckets, 2), dtype=np.int64)
        table[..., 0] = self.bid_depth
        table[..., 1] = self.ask_depth
        return table


@dataclass(frozen=True)
class RandomPolicy:
    """Quote depths drawn uniformly from {1…D}² at every step (bid first, then ask)."""

    @property
    def label(self) -> str:
        """The policy's name in tables and legends."""
        return "random"

    def depth_table(self, params: LOBParams) -> None:
        """None: the depths are drawn while the episode runs.

        Parameters
        ----------
        params : LOBParams
            The setting (not used).

        Returns
        -------
        None
        """
        return None


@dataclass(frozen=True, eq=False)
class GreedyPolicy:
    """Quote the depths of a table over (time bucket, inventory bucket), e.g. a learnt
    Q table's greedy actions. ``depths[tb, ib + c] = (d_b, d_a)``.

    Two greedy policies are equal when their labels and depths agree.

    Attributes
    ----------
    depths : numpy.ndarray
        Shape (time buckets, inventory buckets, 2), int64, read-only: ``depths[tb, ib + c]``
        = (d_b, d_a) in time bucket tb and inventory bucket ib ∈ −c … c.
    label : str
        The policy's name in tables and legends.

    Raises
    ------
    ValueError
        If ``depths`` is empty, not of that shape, or holds a depth < 1.
    """

    depths: np.ndarray = field(repr=False)
    label: str = "greedy"

    def __post_init__(self):
        depths = np.array(self.depths, dtype=np.int64)
        if depths.ndim != 3 or depths.shape[2] != 2 or depths.size == 0:
            raise ValueError(f"depths must have shape (time buckets, inventory buckets, 2), got {depths.shape}")
        if depths.min() < 1:
            raise ValueError(f"depths must be ≥ 1, got {depths.min()}")
        depths.setflags(write=False)
        object.__setattr__(self, "depths", depths)

    @classmethod
    def from_q_table(cls, Q, label: str = "Q-learning (greedy)") -> GreedyPolicy:
        """The greedy depths of a Q table (time buckets × inventory buckets × D²).

        In each state the policy quotes the depths of the action with the largest Q value;
        ties go to the lowest action index, as in training.

        Parameters
        ----------
        Q : array_like
            Shape (time buckets, inventory buckets, D²): ``Q[tb, ib + c, (d_b − 1)·D + (d_a − 1)]``.
        label : str
            The policy's name in tables and legends.

        Returns
        -------
        GreedyPolicy

        Raises
        ------
        ValueError
            If ``Q`` is not three-dimensional with a square number D² of actions.
        """
        Q = np.asarray(Q, dtype=float)
        D = int(round(np.sqrt(Q.shape[-1]))) if Q.ndim == 3 else 0
        if Q.ndim != 3 or D * D != Q.shape[-1]:
            raise ValueError(f"Q must have shape (time buckets, inventory buckets, D²), got {Q.shape}")
        if not np.isfinite(Q).all():                # argmax would pick a NaN
            raise ValueError("Q must hold finite values only")
        best = np.argmax(Q, axis=2)                 # lowest index among ties, as in training
        return cls(np.stack([best // D + 1, best % D + 1], axis=-1), label)

    def __eq__(self, other):
        if not isinstance(other, GreedyPolicy):
            return NotImplemented
        return self.label == other.label and np.array_equal(self.depths, other.depths)

    def __hash__(self):
        return hash((self.label, self.depths.shape, self.depths.tobytes()))

    def __repr__(self):
        nb, ni, _ = self.depths.shape
        return f"GreedyPolicy(label={self.label!r}, {nb} time buckets × {ni} inventory buckets)"

    def depth_table(self, params: LOBParams) -> np.ndarray:
        """The depths (d_b, d_a) by (time bucket, inventory bucket + c), checked against ``params``.

        Parameters
        ----------
        params : LOBParams
            The setting: its time and inventory buckets and ``max_quote_depth``.

        Returns
        -------
        numpy.ndarray
            ``depths``, of shape (num_time_buckets, num_inventory_buckets, 2).

        Raises
        ------
        ValueError
            If the table's shape does not fit ``params``, or a depth exceeds
            ``params.max_quote_depth``.
        """
        expected = (params.num_time_buckets, params.num_inventory_buckets, 2)
        if self.depths.shape != expected:
            raise ValueError(f"depths must have shape {expected} for these params, got {self.depths.shape}")
        if self.depths.max() > params.max_quote_depth:
            raise ValueError(f"depths must be ≤ max_quote_depth = {params.max_quote_depth}")
        return self.depths

    def to_frame(self) -> pd.DataFrame:
        """The bid and ask depth by (time bucket, inventory bucket).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``time_bucket`` and ``inventory_bucket`` (−c … c); columns
            ``bid_depth`` and ``ask_depth``.
        """
        nb, ni, _ = self.depths.shape
        c = (ni - 1) // 2
        index = pd.MultiIndex.from_product([range(nb), range(-c, c + 1)],
                                           names=["time_bucket", "inventory_bucket"])
        return pd.DataFrame(self.depths.reshape(-1, 2), index=index, columns=["bid_depth", "ask_depth"])


def constant_policy(bid_depth: int, ask_depth: int | None = None) -> ConstantPolicy:
    """A policy that quotes constant depths; ``ask_depth`` defaults to ``bid_depth``.

    Depth d means d ticks from the *opposite* best price (the thesis' "constant (d=1)" is
    depth 2 here).

    Parameters
    ----------
    bid_depth : int
        d_b ≥ 1: the bid is at a − d_b.
    ask_depth : int or None
        d_a ≥ 1: the ask is at b + d_a; None for ``bid_depth``.

    Returns
    -------
    ConstantPolicy

    Raises
    ------
    ValueError
        If a depth is not an integer ≥ 1.
    """
    return ConstantPolicy(bid_depth, bid_depth if ask_depth is None else ask_depth)


def random_policy() -> RandomPolicy:
    """A policy that quotes uniformly random depths every step.

    Returns
    -------
    RandomPolicy
    """
    return RandomPolicy()


def _policy_arrays(policy, params, name="policy"):
    """The policy as the compiled episodes read it (:class:`~mmcourse.lob._kernels.Depths`); a wrong type or
    a table that does not fit ``params`` raises ValueError naming ``name``."""
    # any policy with a depth table will do (RulePolicy of mmcourse.lob.search is another)
    if not (callable(getattr(policy, "depth_table", None)) and isinstance(getattr(policy, "label", None), str)):
        raise ValueError(f"{name} must be a ConstantPolicy, RandomPolicy, GreedyPolicy or RulePolicy, "
                         f"got {type(policy).__name__}")
    table = policy.depth_table(params)
    if table is None:
        return Depths(True, np.ones((1, 1, 2), dtype=np.int64))
    table = np.ascontiguousarray(table, dtype=np.int64)
    expected = (params.num_time_buckets, params.num_inventory_buckets, 2)
    if table.shape != expected or table.min() < 1 or table.max() > params.max_quote_depth:
        raise ValueError(f"{name} must give depths 1 … {params.max_quote_depth} in a table of shape "
                         f"{expected}, got shape {table.shape}")
    return Depths(False, table)
