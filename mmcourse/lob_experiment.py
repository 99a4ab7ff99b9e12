"""The seed's whole experiment: Q-learning runs against benchmark strategies, saved and loaded.

``run_comparison`` trains ``n_runs`` independent Q-learning runs, evaluates each run's greedy
strategy on ``n_test`` fresh episodes, and evaluates the benchmarks (constant depths 1…5 and
random by default) on ``n_test`` episodes each. Every run and every benchmark draws from its
own child of ``np.random.SeedSequence(seed)``, so the numbers do not depend on ``n_workers``
(the compiled loops release the GIL, so threads use both cores). Results are saved
atomically: written to a temporary folder beside the target, then renamed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mmcourse._util import check_int, lazy_pandas
from mmcourse.estimates import Estimate
from mmcourse.lob import (ConstantStrategy, GreedyStrategy, LOBParams, QLearningResult, RandomStrategy,
                          _check_params, _strategy_arrays, alpha_schedule, epsilon_schedule,
                          evaluate_strategy, q_learning)

pd = lazy_pandas()  # pandas (~30 MB) loads on first use: training never needs it

__all__ = ["ComparisonResult", "run_comparison", "default_benchmarks"]

_FORMAT = "mmcourse.lob comparison v1"


def default_benchmarks(max_quote_depth: int = 5) -> tuple:
    """Constant depths d = 1…D on both sides, and uniformly random depths: the thesis'
    benchmarks (its "constant (d=1)" is our depth 2).

    These are not the best constant strategies of the model: quoting one side at depth 1
    and the other deeper earns about two and a half times as much (chapter 6 compares all
    D² pairs; pass ``[constant_strategy(b, a) for b in … for a in …]`` as ``benchmarks``).
    """
    return tuple(ConstantStrategy(d, d) for d in range(1, max_quote_depth + 1)) + (RandomStrategy(),)


def _child_generators(seed, n: int) -> list[np.random.Generator]:
    """n independent generators: children of ``seed`` (int, SeedSequence, Generator or None)."""
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n))
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(child) for child in sequence.spawn(n)]


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """Q-learning runs and benchmarks, each with ``n_test`` test-episode rewards.

    ``runs[r]`` is run r's :class:`QLearningResult`; ``run_test_rewards[r]`` the rewards of its
    greedy strategy; ``benchmarks[k]`` a strategy and ``benchmark_rewards[k]`` its rewards.
    """

    params: LOBParams
    settings: dict
    runs: tuple = field(repr=False)
    run_test_rewards: np.ndarray = field(repr=False)
    benchmarks: tuple = field(repr=False)
    benchmark_rewards: np.ndarray = field(repr=False)

    def estimates(self) -> dict[str, Estimate]:
        """Label → Estimate of the test rewards: each benchmark, each run, the best run (by
        test mean, so optimistically biased) and all runs pooled."""
        out = {b.label: Estimate(r) for b, r in zip(self.benchmarks, self.benchmark_rewards)}
        run_estimates = [Estimate(r) for r in self.run_test_rewards]
        for i, e in enumerate(run_estimates):
            out[f"Q-learning (run {i + 1})"] = e
        best = max(range(len(run_estimates)), key=lambda i: run_estimates[i].mean)
        out["Q-learning (best run)"] = run_estimates[best]
        out["Q-learning (all runs)"] = Estimate(self.run_test_rewards.reshape(-1))
        return out

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Mean, std, stderr and the confidence interval of each strategy's test rewards."""
        rows = []
        for label, e in self.estimates().items():
            lo, hi = e.confidence_interval(level)
            rows.append((label, e.n, e.mean, e.std, e.stderr, lo, hi))
        return pd.DataFrame(rows, columns=["strategy", "n", "mean", "std", "stderr", "ci_low", "ci_high"]
                            ).set_index("strategy")

    def save(self, folder, overwrite: bool = False) -> Path:
        """Write the results to ``folder`` (created; never overwritten unless ``overwrite``).

        Written to a temporary folder beside the target first and then renamed, so a failure
        leaves nothing half-written.
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
            "benchmarks": [_strategy_to_json(b) for b in self.benchmarks],
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))
        greedy = {f"benchmark_{k}_depths": b.depths for k, b in enumerate(self.benchmarks)
                  if isinstance(b, GreedyStrategy)}
        np.savez(folder / "arrays.npz",
                 q_tables=np.stack([r.q_table for r in self.runs]),
                 episode_rewards=np.stack([r.episode_rewards for r in self.runs]),
                 start_values=np.stack([r.start_values for r in self.runs]),
                 run_test_rewards=self.run_test_rewards,
                 benchmark_rewards=self.benchmark_rewards, **greedy)
        self.summary().to_csv(folder / "summary.csv")

    @classmethod
    def load(cls, folder) -> ComparisonResult:
        """Read results written by :meth:`save`."""
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder of saved results")
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{folder} does not hold results of format {_FORMAT!r}")
        params = meta["params"]
        params = LOBParams(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        settings = meta["settings"]
        with np.load(folder / "arrays.npz") as arrays:
            arrays = dict(arrays)
        benchmarks = tuple(_strategy_from_json(b, arrays.get(f"benchmark_{k}_depths"))
                           for k, b in enumerate(meta["benchmarks"]))
        epsilons = epsilon_schedule(settings["n_train"], settings["epsilon_start"],
                                    settings["epsilon_end"], settings["epsilon_cutoff"])
        alphas = alpha_schedule(settings["n_train"], settings["alpha_start"], settings["alpha_end"])
        runs = tuple(QLearningResult(params, q, r, v, epsilons, alphas) for q, r, v in
                     zip(arrays["q_tables"], arrays["episode_rewards"], arrays["start_values"]))
        return cls(params, settings, runs, arrays["run_test_rewards"], benchmarks,
                   arrays["benchmark_rewards"])


def _strategy_to_json(strategy) -> dict:
    if isinstance(strategy, ConstantStrategy):
        return {"kind": "constant", "bid_depth": strategy.bid_depth, "ask_depth": strategy.ask_depth}
    if isinstance(strategy, RandomStrategy):
        return {"kind": "random"}
    return {"kind": "greedy", "label": strategy.label}


def _strategy_from_json(data: dict, depths):
    if data["kind"] == "constant":
        return ConstantStrategy(data["bid_depth"], data["ask_depth"])
    if data["kind"] == "random":
        return RandomStrategy()
    return GreedyStrategy(depths, data["label"])


def run_comparison(params: LOBParams | None = None, n_train: int = 3000, n_test: int = 300,
                   n_runs: int = 4, seed=None, epsilon_start: float = 1.0, epsilon_end: float = 0.05,
                   epsilon_cutoff: float = 0.5, alpha_start: float = 0.5, alpha_end: float = 0.001,
                   benchmarks=None, n_workers: int = 2) -> ComparisonResult:
    """Train ``n_runs`` Q-learning runs and test them and the ``benchmarks`` (default:
    :func:`default_benchmarks`) on ``n_test`` episodes each, using ``n_workers`` threads."""
    params = _check_params(params)
    n_train = check_int("n_train", n_train, low=1)
    n_test = check_int("n_test", n_test, low=2)
    n_runs = check_int("n_runs", n_runs, low=1)
    n_workers = check_int("n_workers", n_workers, low=1)
    benchmarks = default_benchmarks(params.max_quote_depth) if benchmarks is None else tuple(benchmarks)
    for b in benchmarks:                             # fail early on a bad strategy
        _strategy_arrays(b, params, "benchmarks")
    q_kwargs = dict(epsilon_start=epsilon_start, epsilon_end=epsilon_end, epsilon_cutoff=epsilon_cutoff,
                    alpha_start=alpha_start, alpha_end=alpha_end)
    epsilon_schedule(n_train, epsilon_start, epsilon_end, epsilon_cutoff)  # validate before threads
    alpha_schedule(n_train, alpha_start, alpha_end)
    rngs = _child_generators(seed, n_runs + len(benchmarks))

    def train_and_test(rng):
        run = q_learning(params, n_train, seed=rng, **q_kwargs)
        return run, evaluate_strategy(run.greedy_strategy, params, n_test, seed=rng).samples

    def test(strategy, rng):
        return evaluate_strategy(strategy, params, n_test, seed=rng).samples

    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        run_futures = [pool.submit(train_and_test, rngs[r]) for r in range(n_runs)]
        bench_futures = [pool.submit(test, b, rngs[n_runs + k]) for k, b in enumerate(benchmarks)]
        runs = [f.result() for f in run_futures]
        bench = [f.result() for f in bench_futures]
    settings = dict(n_train=n_train, n_test=n_test, n_runs=n_runs,
                    seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                    **q_kwargs)
    return ComparisonResult(params, settings, tuple(r for r, _ in runs),
                            np.stack([np.array(t) for _, t in runs]), benchmarks,
                            np.stack([np.array(b) for b in bench]) if bench else np.zeros((0, n_test)))
