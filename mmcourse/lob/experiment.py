"""The thesis' whole experiment: Q-learning runs against benchmark policies, saved and loaded.

:func:`run_comparison` trains ``n_runs`` independent Q-learning runs, evaluates each run's
greedy policy on ``n_test_episodes`` fresh episodes, and evaluates the benchmarks (constant
depths 1…5 and random by default) on ``n_test_episodes`` episodes each. Every run and every
benchmark draws from its own child of ``np.random.SeedSequence(seed)``, so the numbers do not
depend on ``n_workers``. Results are saved atomically (:meth:`ComparisonResult.save`):
written to a temporary folder beside the target, then renamed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mmcourse.core._lazy import lazy_pandas
from mmcourse.core.checks import check_int
from mmcourse.core.estimates import Estimate
from mmcourse.core.parallel import run_parallel
from mmcourse.core.schedules import alpha_schedule, epsilon_schedule
from mmcourse.core.seeding import spawn_generators
from mmcourse.lob.evaluation import evaluate_policy
from mmcourse.lob.learning import QLearningResult, q_learning
from mmcourse.lob.params import LOBParams, _check_params
from mmcourse.lob.policies import ConstantPolicy, GreedyPolicy, RandomPolicy, _policy_arrays

pd = lazy_pandas()  # pandas (~30 MB) loads on first use: training never needs it

__all__ = ["ComparisonResult", "run_comparison", "default_benchmarks"]

_FORMAT = "mmcourse.lob comparison v2"
_OLD_FORMAT = "mmcourse.lob comparison v1"   # the same, with settings n_train and n_test


def default_benchmarks(max_quote_depth: int = 5) -> tuple:
    """Constant depths d = 1…D on both sides, and uniformly random depths: the thesis'
    benchmarks (its "constant (d=1)" is our depth 2).

    These are not the best constant policies of the model: quoting one side at depth 1
    and the other deeper earns about two and a half times as much (chapter 8 compares all
    D² pairs; pass ``[constant_policy(b, a) for b in … for a in …]`` as ``benchmarks``).

    Parameters
    ----------
    max_quote_depth : int
        D, the deepest constant depth.

    Returns
    -------
    tuple
        ``ConstantPolicy(d, d)`` for d = 1 … D, then ``RandomPolicy()``.
    """
    max_quote_depth = check_int("max_quote_depth", max_quote_depth, low=1)
    return tuple(ConstantPolicy(d, d) for d in range(1, max_quote_depth + 1)) + (RandomPolicy(),)


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """Q-learning runs and benchmarks, each with ``n_test_episodes`` test-episode rewards.

    ``runs[r]`` is run r's :class:`~mmcourse.lob.learning.QLearningResult`;
    ``run_test_rewards[r]`` the rewards of its greedy policy; ``benchmarks[k]`` a policy and
    ``benchmark_rewards[k]`` its rewards.

    Attributes
    ----------
    params : LOBParams
        The setting of every run and test.
    settings : dict
        The other arguments of :func:`run_comparison`: ``n_episodes``, ``n_test_episodes``,
        ``n_runs``, ``seed`` (None unless it was an int) and the schedules' ``epsilon_start``,
        ``epsilon_end``, ``epsilon_cutoff``, ``alpha_start`` and ``alpha_end``.
    runs : tuple of QLearningResult
        The Q-learning runs.
    run_test_rewards : numpy.ndarray
        Shape (n_runs, n_test_episodes): the total rewards of each run's greedy policy.
    benchmarks : tuple
        The benchmark policies.
    benchmark_rewards : numpy.ndarray
        Shape (number of benchmarks, n_test_episodes): each benchmark's total rewards.
    """

    params: LOBParams
    settings: dict
    runs: tuple = field(repr=False)
    run_test_rewards: np.ndarray = field(repr=False)
    benchmarks: tuple = field(repr=False)
    benchmark_rewards: np.ndarray = field(repr=False)

    @property
    def method(self) -> str:
        """The learner's name, as the runs' labels show it ("Q-learning" by default)."""
        return self.settings.get("learner", "Q-learning")

    def estimates(self) -> dict[str, Estimate]:
        """Label → Estimate of the test rewards: each benchmark, each run, the best run (by
        test mean, so optimistically biased) and all runs pooled.

        Returns
        -------
        dict of str to Estimate
            Keyed by each benchmark's label, then ``"Q-learning (run 1)"``, … ,
            ``"Q-learning (best run)"`` and ``"Q-learning (all runs)"`` (with the learner's
            name, :attr:`method`, in place of "Q-learning").
        """
        out = {b.label: Estimate(r) for b, r in zip(self.benchmarks, self.benchmark_rewards)}
        run_estimates = [Estimate(r) for r in self.run_test_rewards]
        for i, e in enumerate(run_estimates):
            out[f"{self.method} (run {i + 1})"] = e
        best = max(range(len(run_estimates)), key=lambda i: run_estimates[i].mean)
        out[f"{self.method} (best run)"] = run_estimates[best]
        out[f"{self.method} (all runs)"] = Estimate(self.run_test_rewards.reshape(-1))
        return out

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Mean, std, stderr and the confidence interval of each policy's test rewards.

        Parameters
        ----------
        level : float
            The confidence level, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            One row per entry of :meth:`estimates`, indexed by ``policy``; columns ``n``,
            ``mean``, ``std``, ``stderr``, ``ci_low`` and ``ci_high``.

        Raises
        ------
        ValueError
            If ``level`` is not in (0, 1).
        """
        rows = []
        for label, e in self.estimates().items():
            lo, hi = e.confidence_interval(level)
            rows.append((label, e.n, e.mean, e.std, e.stderr, lo, hi))
        return pd.DataFrame(rows, columns=["policy", "n", "mean", "std", "stderr", "ci_low", "ci_high"]
                            ).set_index("policy")

    def save(self, folder, overwrite: bool = False) -> Path:
        """Write the results to ``folder`` (created; never overwritten unless ``overwrite``).

        Written to a temporary folder beside the target first and then renamed, so a failure
        leaves nothing half-written.

        The folder holds ``meta.json`` (the parameters, settings and benchmarks),
        ``arrays.npz`` (the Q tables, the training and the test rewards) and ``summary.csv``
        (:meth:`summary`).

        Parameters
        ----------
        folder : str or pathlib.Path
            The folder to write; its parent is created if need be.
        overwrite : bool
            Whether to replace a folder that exists.

        Returns
        -------
        pathlib.Path
            The folder written.

        Raises
        ------
        FileExistsError
            If ``folder`` exists and ``overwrite`` is false.
        """
        target = Path(folder)
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} already exists; pass overwrite=True to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            self._write(tmp)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.replace(target, old / "previous")
                try:
                    os.replace(tmp, target)
                except BaseException:
                    os.replace(old / "previous", target)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    def _write(self, folder: Path) -> None:
        meta = {
            "format": _FORMAT,
            "params": asdict(self.params),
            "settings": self.settings,
            "benchmarks": [_policy_to_json(b) for b in self.benchmarks],
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))
        # a policy given by a table (greedy, or a rule) is saved as its table
        greedy = {f"benchmark_{k}_depths": b.depth_table(self.params) for k, b in enumerate(self.benchmarks)
                  if not isinstance(b, (ConstantPolicy, RandomPolicy))}
        np.savez(folder / "arrays.npz",
                 q_tables=np.stack([r.q_table for r in self.runs]),
                 episode_rewards=np.stack([r.episode_rewards for r in self.runs]),
                 start_values=np.stack([r.start_values for r in self.runs]),
                 run_test_rewards=self.run_test_rewards,
                 benchmark_rewards=self.benchmark_rewards, **greedy)
        self.summary().to_csv(folder / "summary.csv")

    @classmethod
    def load(cls, folder) -> ComparisonResult:
        """Read results written by :meth:`save`.

        Results saved in the earlier format (settings ``n_train`` and ``n_test``) are read
        too. Each run's ε and α schedules are recomputed from the settings.

        Parameters
        ----------
        folder : str or pathlib.Path
            A folder written by :meth:`save`.

        Returns
        -------
        ComparisonResult

        Raises
        ------
        FileNotFoundError
            If ``folder`` is not a folder.
        ValueError
            If it does not hold results of a known format.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder of saved results")
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("format") not in (_FORMAT, _OLD_FORMAT):
            raise ValueError(f"{folder} does not hold results of format {_FORMAT!r}")
        params = meta["params"]
        if meta["format"] == _OLD_FORMAT and "num_inventory_buckets" in params:  # the clip c
            params["max_inventory_bucket"] = params.pop("num_inventory_buckets")
        params = LOBParams(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        settings = meta["settings"]
        if meta["format"] == _OLD_FORMAT:
            old_names = {"n_train": "n_episodes", "n_test": "n_test_episodes"}
            settings = {old_names.get(k, k): v for k, v in settings.items()}
        with np.load(folder / "arrays.npz") as arrays:
            arrays = dict(arrays)
        benchmarks = tuple(_policy_from_json(b, arrays.get(f"benchmark_{k}_depths"))
                           for k, b in enumerate(meta["benchmarks"]))
        epsilons = epsilon_schedule(settings["n_episodes"], settings["epsilon_start"],
                                    settings["epsilon_end"], settings["epsilon_cutoff"])
        alphas = alpha_schedule(settings["n_episodes"], settings["alpha_start"], settings["alpha_end"])
        method = settings.get("learner", "Q-learning")
        runs = tuple(QLearningResult(params, q, r, v, epsilons, alphas, method=method) for q, r, v in
                     zip(arrays["q_tables"], arrays["episode_rewards"], arrays["start_values"]))
        return cls(params, settings, runs, arrays["run_test_rewards"], benchmarks,
                   arrays["benchmark_rewards"])


def _policy_to_json(policy) -> dict:
    if isinstance(policy, ConstantPolicy):
        return {"kind": "constant", "bid_depth": policy.bid_depth, "ask_depth": policy.ask_depth}
    if isinstance(policy, RandomPolicy):
        return {"kind": "random"}
    return {"kind": "greedy", "label": policy.label}


def _policy_from_json(data: dict, depths):
    if data["kind"] == "constant":
        return ConstantPolicy(data["bid_depth"], data["ask_depth"])
    if data["kind"] == "random":
        return RandomPolicy()
    return GreedyPolicy(depths, data["label"])


def run_comparison(params: LOBParams | None = None, n_episodes: int = 3000, n_test_episodes: int = 300,
                   n_runs: int = 4, seed=None, epsilon_start: float = 1.0, epsilon_end: float = 0.05,
                   epsilon_cutoff: float = 0.5, alpha_start: float = 0.5, alpha_end: float = 0.001,
                   benchmarks=None, n_workers: int | None = None, learner=None,
                   learner_kwargs: dict | None = None) -> ComparisonResult:
    """Train ``n_runs`` learning runs (Q-learning by default) and test them and the ``benchmarks`` (default:
    :func:`default_benchmarks`) on ``n_test_episodes`` episodes each, using ``n_workers`` threads.

    Each run is ``learner`` (by default :func:`~mmcourse.lob.learning.q_learning`) followed by
    :func:`~mmcourse.lob.evaluation.evaluate_policy` of its greedy policy; each benchmark is
    evaluated the same way. Every run and every benchmark draws from its own child of
    ``seed`` (:func:`mmcourse.core.seeding.spawn_generators`), so the numbers do not depend
    on ``n_workers``.

    Parameters
    ----------
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    n_episodes : int
        Training episodes per run, ≥ 1.
    n_test_episodes : int
        Test episodes per run and per benchmark, ≥ 2.
    n_runs : int
        The number of independent Q-learning runs, ≥ 1.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        The seed that every run's and every benchmark's generator is spawned from.
    epsilon_start, epsilon_end, epsilon_cutoff : float
        The exploration schedule (see :func:`~mmcourse.core.schedules.epsilon_schedule`).
    alpha_start, alpha_end : float
        The step-size schedule (see :func:`~mmcourse.core.schedules.alpha_schedule`).
    benchmarks : iterable of policies or None
        The policies to compare the runs with; None for :func:`default_benchmarks`.
    n_workers : int or None
        Threads to use; None for every core.
    learner : callable or None
        A learner with the arguments of :func:`~mmcourse.lob.learning.q_learning` that
        returns a :class:`~mmcourse.lob.learning.QLearningResult`, e.g.
        :func:`~mmcourse.lob.learning.double_q_learning`; None for ``q_learning``.
    learner_kwargs : dict or None
        Further keyword arguments for ``learner``.

    Returns
    -------
    ComparisonResult

    Raises
    ------
    ValueError
        If an argument is of the wrong type or out of range, a benchmark is not a policy
        that fits ``params``, or two benchmarks share a label (checked before any training).
    """
    params = _check_params(params)
    n_episodes = check_int("n_episodes", n_episodes, low=1)
    n_test_episodes = check_int("n_test_episodes", n_test_episodes, low=2)
    n_runs = check_int("n_runs", n_runs, low=1)
    benchmarks = default_benchmarks(params.max_quote_depth) if benchmarks is None else tuple(benchmarks)
    for b in benchmarks:                             # fail early on a bad policy
        _policy_arrays(b, params, "benchmarks")
    labels = [b.label for b in benchmarks]
    if len(set(labels)) < len(labels):               # results are keyed by label
        twice = sorted({x for x in labels if labels.count(x) > 1})
        raise ValueError(f"benchmarks must have distinct labels, got {twice} more than once")
    q_kwargs = dict(epsilon_start=epsilon_start, epsilon_end=epsilon_end, epsilon_cutoff=epsilon_cutoff,
                    alpha_start=alpha_start, alpha_end=alpha_end)
    epsilon_schedule(n_episodes, epsilon_start, epsilon_end, epsilon_cutoff)  # validate before threads
    alpha_schedule(n_episodes, alpha_start, alpha_end)
    learner = q_learning if learner is None else learner
    if not callable(learner):
        raise ValueError(f"learner must be a learning function such as lob.q_learning, got {learner!r}")
    extra = dict(learner_kwargs or {})
    rngs = spawn_generators(seed, n_runs + len(benchmarks))

    def train_and_test(rng):
        run = learner(params, n_episodes, seed=rng, **q_kwargs, **extra)
        return run, evaluate_policy(run.greedy_policy, params, n_test_episodes, seed=rng).samples

    def test(policy, rng):
        return evaluate_policy(policy, params, n_test_episodes, seed=rng).samples

    # the runs first, then the benchmarks, as independent tasks on the worker threads (the
    # compiled loops release the GIL, so threads use every core)
    tasks = [(train_and_test, (rngs[r],)) for r in range(n_runs)]
    tasks += [(test, (b, rngs[n_runs + k])) for k, b in enumerate(benchmarks)]
    results = run_parallel(lambda task, args: task(*args), tasks, n_workers)
    runs, bench = results[:n_runs], results[n_runs:]
    settings = dict(n_episodes=n_episodes, n_test_episodes=n_test_episodes, n_runs=n_runs,
                    seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                    learner=runs[0][0].method if runs else "Q-learning", **q_kwargs)
    return ComparisonResult(params, settings, tuple(r for r, _ in runs),
                            np.stack([np.array(t) for _, t in runs]), benchmarks,
                            np.stack([np.array(b) for b in bench]) if bench else np.zeros((0, n_test_episodes)))
