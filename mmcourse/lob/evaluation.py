"""How good is a policy? The total rewards of independent episodes: :func:`evaluate_policy`."""

from __future__ import annotations

import numpy as np

from mmcourse.core import _pcg64
from mmcourse.core.checks import check_int
from mmcourse.core.estimates import Estimate
from mmcourse.core.parallel import run_parallel
from mmcourse.core.seeding import make_rng, spawn_generators
from mmcourse.lob._kernels import _N_COLUMNS, _evaluate
from mmcourse.lob.book import Book, _background, _work
from mmcourse.lob.params import LOBParams, _check_params
from mmcourse.lob.policies import _policy_arrays

__all__ = ["evaluate_policy", "evaluate_policies"]


def evaluate_policy(policy, params: LOBParams | None = None, n_episodes: int = 300, seed=None,
                    start_book: Book | None = None) -> Estimate:
    """The total rewards of ``n_episodes`` independent episodes, as an
    :class:`~mmcourse.core.estimates.Estimate` (mean, std, stderr, confidence interval;
    ``.samples`` holds the rewards).

    The mean estimates the policy's expected total reward Σ_t r_t (its final cash when
    φ = 0). Without ``start_book``, the first episode starts from the book after the burn-in
    and each further one from that background book run alone another ``params.start_gap``;
    with ``start_book``, every episode starts from it.

    Parameters
    ----------
    policy : ConstantPolicy, RandomPolicy or GreedyPolicy
        Where the market maker quotes.
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    n_episodes : int
        The number of episodes, ≥ 2.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seeds the burn-in and the episodes (see :func:`mmcourse.core.seeding.make_rng`).
    start_book : Book or None
        The book every episode starts from, with ``params.num_levels`` levels; None for the
        background book.

    Returns
    -------
    Estimate
        One sample per episode, its total reward.

    Raises
    ------
    ValueError
        If ``policy`` is not one of the three policies or its depths do not fit ``params``,
        ``n_episodes`` < 2, or ``start_book`` is not a Book that fits ``params``.
    """
    params = _check_params(params)
    n_episodes = check_int("n_episodes", n_episodes, low=2)
    depths = _policy_arrays(policy, params)
    rng = make_rng(seed)
    out = np.zeros(n_episodes)
    background = _background(params, start_book, rng)
    with _pcg64.stream(rng) as g:
        _evaluate(g, params._model(), depths, background, _work(params),
                  np.zeros((params.T, _N_COLUMNS), dtype=np.int64), np.zeros(params.T), out)
    return Estimate(out)


def evaluate_policies(policies, params: LOBParams | None = None, n_episodes: int = 300, seed=None,
                      n_workers: int | None = None) -> dict:
    """Evaluate several policies, each on its own ``n_episodes`` independent episodes.

    Policy k draws from child k of ``seed`` (:func:`mmcourse.core.seeding.spawn_generators`),
    so the numbers do not depend on ``n_workers``.

    Parameters
    ----------
    policies : iterable of policies
        ConstantPolicy, RandomPolicy or GreedyPolicy objects with distinct labels.
    params : LOBParams or None
        The book's rates and the market maker's setting; None for ``LOBParams()``.
    n_episodes : int
        Episodes per policy, ≥ 2.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        The seed the policies' generators are spawned from.
    n_workers : int or None
        Threads to use; None for every core.

    Returns
    -------
    dict
        Each policy's label → its :class:`~mmcourse.core.estimates.Estimate`, in the order given.

    Raises
    ------
    ValueError
        If a policy does not fit ``params``, two policies share a label, or ``n_episodes`` < 2.
    """
    params = _check_params(params)
    policies = tuple(policies)
    n_episodes = check_int("n_episodes", n_episodes, low=2)
    for p in policies:
        _policy_arrays(p, params, "policies")
    labels = [p.label for p in policies]
    if len(set(labels)) < len(labels):
        raise ValueError(f"policies must have distinct labels, got {labels}")
    rngs = spawn_generators(seed, len(policies))
    estimates = run_parallel(lambda p, rng: evaluate_policy(p, params, n_episodes, seed=rng),
                             list(zip(policies, rngs)), n_workers)
    return dict(zip(labels, estimates))
