"""Policy search by the cross-entropy method over a small family of quote rules.

A :class:`RulePolicy` sets its depths by six real numbers: a base bid and ask depth, how far
each moves over the day, and how strongly both are skewed against the inventory.
:func:`cross_entropy_search` looks for good numbers by simulation alone: it samples rules
from a Gaussian, evaluates each on the same episodes, and moves the Gaussian towards the
best of them (Rubinstein's cross-entropy method). It learns no value function; its cost per
simulated episode is that of :func:`~mmcourse.lob.evaluation.evaluate_policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int, check_real
from mmcourse.core.parallel import run_parallel
from mmcourse.core.seeding import spawn_generators
from mmcourse.lob.evaluation import evaluate_policy
from mmcourse.lob.params import LOBParams, _check_params
from mmcourse.lob.policies import GreedyPolicy

pd = lazy_pandas()

__all__ = ["RulePolicy", "SearchResult", "cross_entropy_search", "RULE_PARAMETERS"]

#: The names of a :class:`RulePolicy`'s six parameters, in the order of its vectors.
RULE_PARAMETERS = ("bid_depth", "ask_depth", "bid_trend", "ask_trend", "inventory_skew", "skew_trend")


@dataclass(frozen=True)
class RulePolicy:
    """Depths that move linearly with the time of day and against the inventory, rounded and
    clipped to 1 … D.

    In time bucket tb and inventory bucket i ∈ −c … c (inventory ≈ i·κ), with
    u = tb / (num_time_buckets − 1) ∈ [0, 1] the time of day (u = 0 with a single bucket)
    and k(u) = inventory_skew + skew_trend · u the skew at that time::

        d_b = clip(round(bid_depth + bid_trend · u + k(u) · i), 1, D)
        d_a = clip(round(ask_depth + ask_trend · u − k(u) · i), 1, D)

    where round(x) = ⌊x + 1/2⌋ (halves round up). With a positive skew a long market maker
    (i > 0) bids further from the ask and asks closer to the bid, so it tends to sell; a
    short one does the opposite. With every slope zero and integer base depths the rule is
    the constant policy (bid_depth, ask_depth).

    Attributes
    ----------
    bid_depth, ask_depth : float
        The depths at the start of the day with a flat inventory (finite; any real, the
        depths are clipped).
    bid_trend, ask_trend : float
        How much each depth moves from the first time bucket to the last (finite).
    inventory_skew : float
        Ticks per inventory bucket by which the bid moves away and the ask moves in when
        long (and conversely when short), at the start of the day (finite).
    skew_trend : float
        How much the skew grows (or shrinks, if negative) by the last time bucket (finite).

    Raises
    ------
    ValueError
        If a parameter is not a finite number.
    """

    bid_depth: float
    ask_depth: float
    bid_trend: float = 0.0
    ask_trend: float = 0.0
    inventory_skew: float = 0.0
    skew_trend: float = 0.0

    def __post_init__(self):
        for name in RULE_PARAMETERS:
            object.__setattr__(self, name, check_real(name, getattr(self, name)))

    @classmethod
    def from_vector(cls, x) -> RulePolicy:
        """The rule with the parameters ``x``, in the order of :data:`RULE_PARAMETERS`.

        Parameters
        ----------
        x : array_like
            Six finite numbers.

        Returns
        -------
        RulePolicy

        Raises
        ------
        ValueError
            If ``x`` does not hold six numbers, or one is not finite.
        """
        x = np.asarray(x, dtype=float)
        if x.shape != (len(RULE_PARAMETERS),):
            raise ValueError(f"x must hold {len(RULE_PARAMETERS)} numbers {RULE_PARAMETERS}, got shape {x.shape}")
        return cls(*(float(v) for v in x))

    def to_vector(self) -> np.ndarray:
        """The parameters as an array, in the order of :data:`RULE_PARAMETERS`.

        Returns
        -------
        numpy.ndarray
            Shape (6,), float.
        """
        return np.array([getattr(self, name) for name in RULE_PARAMETERS])

    @property
    def label(self) -> str:
        """The policy's name in tables and legends."""
        text = f"rule (bid {self.bid_depth:.2f}, ask {self.ask_depth:.2f}"
        if self.bid_trend or self.ask_trend:
            text += f", trends {self.bid_trend:+.2f}/{self.ask_trend:+.2f}"
        if self.inventory_skew or self.skew_trend:
            text += f", skew {self.inventory_skew:.2f}"
            if self.skew_trend:
                text += f"{self.skew_trend:+.2f}·u"
        return text + ")"

    def depth_table(self, params: LOBParams) -> np.ndarray:
        """The depths (d_b, d_a) by (time bucket, inventory bucket + c).

        Parameters
        ----------
        params : LOBParams
            The setting: its time and inventory buckets and ``max_quote_depth``.

        Returns
        -------
        numpy.ndarray
            Shape (num_time_buckets, num_inventory_buckets, 2), int64, every depth in 1 … D.
        """
        params = _check_params(params)
        n_time, c = params.num_time_buckets, params.max_inventory_bucket
        u = np.arange(n_time) / (n_time - 1) if n_time > 1 else np.zeros(1)
        u = u[:, None]
        i = np.arange(-c, c + 1)[None, :]
        skew = self.inventory_skew + self.skew_trend * u
        table = np.empty((n_time, 2 * c + 1, 2), dtype=np.int64)
        for side, raw in enumerate((self.bid_depth + self.bid_trend * u + skew * i,
                                    self.ask_depth + self.ask_trend * u - skew * i)):
            table[..., side] = np.clip(np.floor(raw + 0.5), 1, params.max_quote_depth)
        return table

    def to_greedy(self, params: LOBParams) -> GreedyPolicy:
        """The rule's depth table for ``params`` as a :class:`~mmcourse.lob.policies.GreedyPolicy`,
        which the simulation, evaluation and experiment functions accept.

        Parameters
        ----------
        params : LOBParams
            The setting the table is made for.

        Returns
        -------
        GreedyPolicy
            With this rule's depths and label.
        """
        return GreedyPolicy(self.depth_table(params), self.label)


@dataclass(frozen=True, eq=False)
class SearchResult:
    """What :func:`cross_entropy_search` found and how it got there.

    Attributes
    ----------
    params : LOBParams
        The setting searched.
    policy : RulePolicy
        The rule at the mean of the final sampling distribution.
    means, stds : numpy.ndarray
        Shape (n_iterations + 1, 6): the sampling distribution's mean and standard deviation
        of each parameter (:data:`RULE_PARAMETERS`); row 0 is the initial one, row k the one
        refitted after iteration k.
    population_values : numpy.ndarray
        Shape (n_iterations, population): each candidate's mean total reward on its
        iteration's episodes.
    candidates : numpy.ndarray
        Shape (n_iterations, population, 6): the sampled parameters.
    n_elite : int
        The candidates kept in each iteration.
    n_episodes : int
        The episodes simulated: n_iterations × population × n_eval_episodes.
    """

    params: LOBParams
    policy: RulePolicy
    means: np.ndarray = field(repr=False)
    stds: np.ndarray = field(repr=False)
    population_values: np.ndarray = field(repr=False)
    candidates: np.ndarray = field(repr=False)
    n_elite: int
    n_episodes: int

    @property
    def n_iterations(self) -> int:
        """The number of iterations."""
        return int(self.population_values.shape[0])

    @property
    def best_candidate(self) -> RulePolicy:
        """The single candidate with the highest estimated value over all iterations (an
        optimistic estimate: it won on the episodes it was chosen by)."""
        k, j = np.unravel_index(np.argmax(self.population_values), self.population_values.shape)
        return RulePolicy.from_vector(self.candidates[k, j])

    def history(self) -> pd.DataFrame:
        """The sampling distribution and the candidates' values, iteration by iteration.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``iteration`` 0 … n_iterations (0: the initial distribution). Columns:
            each parameter's mean (named as in :data:`RULE_PARAMETERS`) and standard
            deviation (``std_`` + name) after that iteration's refit, and the mean value of
            that iteration's candidates (``population_value``), of its elite
            (``elite_value``) and its best value (``best_value``); NaN in row 0.
        """
        frame = pd.DataFrame(self.means, columns=list(RULE_PARAMETERS))
        for j, name in enumerate(RULE_PARAMETERS):
            frame[f"std_{name}"] = self.stds[:, j]
        values = np.sort(self.population_values, axis=1)[:, ::-1]
        nan = [np.nan]
        frame["population_value"] = nan + list(values.mean(axis=1))
        frame["elite_value"] = nan + list(values[:, :self.n_elite].mean(axis=1))
        frame["best_value"] = nan + list(values[:, 0])
        frame.index.name = "iteration"
        return frame


def _evaluate_candidate(x, params, n_episodes, seed):
    # Each call builds its own table and generator from an int seed, so candidates are
    # independent of the thread that runs them and of the order they run in.
    return evaluate_policy(RulePolicy.from_vector(x).to_greedy(params), params, n_episodes, seed).mean


def cross_entropy_search(params: LOBParams | None = None, n_iterations: int = 10, population: int = 40,
                         elite_fraction: float = 0.2, n_eval_episodes: int = 200, seed=None,
                         init_mean=None, init_std=None, min_std: float = 0.05,
                         n_workers: int | None = None) -> SearchResult:
    """Search the :class:`RulePolicy` family by the cross-entropy method.

    Each iteration draws ``population`` parameter vectors from a Gaussian with independent
    coordinates, estimates every candidate's expected total reward on the *same*
    ``n_eval_episodes`` episodes (common random numbers: one seed for all candidates of an
    iteration, a fresh one each iteration), keeps the ``round(elite_fraction · population)``
    best, and refits the Gaussian's mean and standard deviation to them, the standard
    deviation no smaller than ``min_std``.

    Parameters
    ----------
    params : LOBParams or None
        The setting; None for ``LOBParams()``.
    n_iterations : int
        Iterations, ≥ 1.
    population : int
        Candidates per iteration, ≥ 2.
    elite_fraction : float
        In (0, 1]: the share of candidates kept; it must keep at least 2.
    n_eval_episodes : int
        Episodes per candidate, ≥ 2.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the candidates and the episodes: iteration k draws both from the k-th of
        :func:`~mmcourse.core.seeding.spawn_generators` (seed, n_iterations).
    init_mean : array_like or None
        The initial mean of the six parameters (:data:`RULE_PARAMETERS`); None for base
        depths (D + 1)/2 and zero slopes.
    init_std : array_like or None
        The initial standard deviations, each > 0; None for D/3 for the base depths and
        1, 1, 0.5, 0.5 for the trends and the skews.
    min_std : float
        ≥ 0: the floor of each refitted standard deviation, which keeps the search from
        collapsing on one rounded table too early.
    n_workers : int or None
        Threads that evaluate the candidates; None uses every core. The result does not
        depend on it.

    Returns
    -------
    SearchResult
        The rule at the final mean, the distributions and values by iteration, and the
        number of episodes simulated.

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it).
    """
    params = _check_params(params)
    n_iterations = check_int("n_iterations", n_iterations, low=1)
    population = check_int("population", population, low=2)
    elite_fraction = check_real("elite_fraction", elite_fraction, low=0.0, high=1.0, low_open=True)
    n_eval_episodes = check_int("n_eval_episodes", n_eval_episodes, low=2)
    min_std = check_real("min_std", min_std, low=0.0)
    if n_workers is not None:
        n_workers = check_int("n_workers", n_workers, low=1)
    n_elite = int(np.floor(elite_fraction * population + 0.5))
    if n_elite < 2:
        raise ValueError(f"elite_fraction × population must keep at least 2 candidates, got "
                         f"{elite_fraction} × {population} → {n_elite}")
    D = params.max_quote_depth
    mean = _vector("init_mean", init_mean, [(D + 1) / 2, (D + 1) / 2, 0.0, 0.0, 0.0, 0.0])
    std = _vector("init_std", init_std, [D / 3, D / 3, 1.0, 1.0, 0.5, 0.5], positive=True)

    dim = len(RULE_PARAMETERS)
    means, stds = [mean], [std]
    values = np.empty((n_iterations, population))
    candidates = np.empty((n_iterations, population, dim))
    for k, rng in enumerate(spawn_generators(seed, n_iterations)):
        episode_seed = int(rng.integers(2**63))
        xs = mean + std * rng.standard_normal((population, dim))
        candidates[k] = xs
        values[k] = run_parallel(_evaluate_candidate,
                                 [(x, params, n_eval_episodes, episode_seed) for x in xs], n_workers)
        elite = xs[np.argsort(-values[k], kind="stable")[:n_elite]]   # ties: the earlier candidate
        mean = elite.mean(axis=0)
        std = np.maximum(elite.std(axis=0), min_std)
        means.append(mean)
        stds.append(std)
    return SearchResult(params, RulePolicy.from_vector(mean), np.array(means), np.array(stds),
                        values, candidates, n_elite, n_iterations * population * n_eval_episodes)


def _vector(name, value, default, positive=False) -> np.ndarray:
    if value is None:
        return np.array(default, dtype=float)
    try:
        x = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold {len(default)} finite numbers, got {value!r}") from None
    if x.shape != (len(default),) or not np.isfinite(x).all() or (positive and (x <= 0).any()):
        raise ValueError(f"{name} must hold {len(default)} finite numbers{' > 0' if positive else ''} "
                         f"{RULE_PARAMETERS}, got {value!r}")
    return x
