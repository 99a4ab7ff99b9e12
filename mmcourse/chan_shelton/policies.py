"""Policies of the order imbalance: Δ = π(I), stored as a table over I = −K … K.

:func:`threshold_policy` builds the slides' π_h; :func:`greedy_policy` the greedy policy of a
Q table; :func:`q_table` labels a Q table's rows (imbalances) and columns (actions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmcourse.chan_shelton.params import ACTIONS
from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int

pd = lazy_pandas()  # pandas (~30 MB) loads on first use: evaluation alone never needs it

__all__ = ["Policy", "threshold_policy", "greedy_policy", "q_table"]


@dataclass(frozen=True)
class Policy:
    """A deterministic policy of the order imbalance, Δ = π(I), stored as a table.

    ``table[k]`` is the action at imbalance I = k − K for I = −K … K.  Beyond ±K the policy
    either uses the table's end (``outside="clip"``, as the slides' ``state()`` function
    clips the imbalance for a learnt Q table) or keeps the price (``outside="keep"``, as the
    threshold policy π_h does: it moves only when I = ±h exactly, which matters once
    exploration lets the imbalance pass ±h).

    Calling a policy gives its action: ``policy(I)`` is π(I). Two policies are equal when their
    tables and ``outside`` agree (the name does not count), so policies can be dictionary keys.

    Attributes
    ----------
    table : tuple of int
        The actions Δp ∈ {−1, 0, +1} at the imbalances −K … K; its length 2K + 1 is odd.
    name : str or None
        The name that ``repr`` shows, e.g. ``"π_2"``; not compared.
    outside : {"clip", "keep"}
        What the policy does beyond ±K: the action at the table's end, or keep the price (0).

    Raises
    ------
    ValueError
        If the table has an even length or an entry other than −1, 0, +1, or ``outside`` is
        neither ``"clip"`` nor ``"keep"``.
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
        """A policy from ``{imbalance: action}`` over a symmetric range −K … K.

        Parameters
        ----------
        actions : dict
            The action Δp ∈ {−1, 0, +1} at every imbalance −K … K, K the largest absolute
            imbalance among the keys.
        name : str or None
            The policy's name.
        outside : {"clip", "keep"}
            What the policy does beyond ±K (see :class:`Policy`).

        Returns
        -------
        Policy

        Raises
        ------
        ValueError
            If an imbalance between −K and K has no action, or an action is not −1, 0 or +1.
        """
        K = max(abs(int(s)) for s in actions)
        missing = [s for s in range(-K, K + 1) if s not in actions]
        if missing:
            raise ValueError(f"actions must give an action for every imbalance -{K}..{K}; missing {missing}")
        return cls(tuple(actions[s] for s in range(-K, K + 1)), name, outside)

    @property
    def K(self) -> int:
        """K: the table covers the imbalances −K … K."""
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
        """The table as a dictionary.

        Returns
        -------
        dict of int to int
            ``{imbalance: action}`` for the imbalances −K … K.
        """
        return {s: a for s, a in zip(self.states, self.table)}

    def as_array(self) -> np.ndarray:
        """The table padded with the action beyond −K and beyond +K, as the simulations read it.

        The simulations clip the imbalance to −(K+1) … K+1 and look its action up here.

        Returns
        -------
        numpy.ndarray
            2K + 3 int64 actions: the action at every I < −K, the table, the action at every
            I > K (the table's ends with ``outside="clip"``, 0 with ``outside="keep"``).
        """
        low, high = (0, 0) if self.outside == "keep" else (self.table[0], self.table[-1])
        return np.array((low,) + self.table + (high,), dtype=np.int64)

    def __repr__(self) -> str:
        body = ", ".join(f"{s}: {a:+d}" if a else f"{s}: 0" for s, a in self.as_dict().items())
        if self.outside == "keep":
            body += ", else 0"
        return f"{self.name}: {{{body}}}" if self.name else f"Policy({{{body}}})"


def threshold_policy(h: int) -> Policy:
    """The slides' threshold policy π_h: follow the order flow once the imbalance reaches ±h.

    π_h moves the price +1 when I = +h, −1 when I = −h, and keeps it otherwise (also beyond
    ±h, which only exploration can reach).

    Parameters
    ----------
    h : int
        The threshold, ≥ 1.

    Returns
    -------
    Policy
        Named ``"π_h"``, with K = h and ``outside="keep"``.

    Raises
    ------
    ValueError
        If ``h`` is not an integer ≥ 1.
    """
    h = check_int("h", h, low=1)
    return Policy((-1,) + (0,) * (2 * h - 1) + (+1,), name=f"π_{h}", outside="keep")


def _as_q_array(Q) -> np.ndarray:
    arr = np.asarray(Q.to_numpy() if isinstance(Q, pd.DataFrame) else Q, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] % 2 != 1:
        raise ValueError(f"Q must be a (2K+1) x 3 table (imbalances -K..K x actions -1, 0, +1), got shape {arr.shape}")
    return arr


def greedy_policy(Q, name: str | None = "greedy", tol: float = 1e-9) -> Policy:
    """The greedy policy of a Q table: π'(s) = argmax_a Q(s, a) at every imbalance s.

    Ties (values within ``tol``) go to keeping the price (0) when it is among the best,
    otherwise to the lowest action, as in the slides.  Exact ties are common: by the model's
    symmetry every action has the same expected immediate reward at I = 0.  Unvisited
    entries (NaN) never win; a state with no visited action keeps the price.

    Parameters
    ----------
    Q : pandas.DataFrame or array_like
        A (2K + 1) × 3 table: rows the imbalances −K … K, columns the actions −1, 0, +1
        (e.g. from :func:`q_table`).
    name : str or None
        The name of the policy returned.
    tol : float
        Values within ``tol`` of a row's largest value count as tied with it.

    Returns
    -------
    Policy
        With ``outside="clip"``: beyond ±K it takes the action at ±K.

    Raises
    ------
    ValueError
        If ``Q`` is not a (2K + 1) × 3 table.
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


def q_table(values) -> pd.DataFrame:
    """A labelled Q table: rows are the imbalances −K … K, columns the actions Δp = −1, 0, +1.

    Parameters
    ----------
    values : array_like or pandas.DataFrame
        A (2K + 1) × 3 table of numbers (Q values, standard errors, visit counts, …).

    Returns
    -------
    pandas.DataFrame
        The numbers as floats, with the index ``imbalance`` (−K … K) and the columns ``Δp``
        (−1, 0, +1).

    Raises
    ------
    ValueError
        If ``values`` is not a (2K + 1) × 3 table.
    """
    arr = _as_q_array(values)
    K = arr.shape[0] // 2
    index = pd.Index(range(-K, K + 1), name="imbalance")
    return pd.DataFrame(arr, index=index, columns=pd.Index(list(ACTIONS), name="Δp"))


def _check_policy(policy) -> Policy:
    if not isinstance(policy, Policy):
        raise ValueError(f"policy must be a Policy (e.g. threshold_policy(2)), got {type(policy).__name__}")
    return policy
