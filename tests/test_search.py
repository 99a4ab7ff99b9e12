"""Tests of mmcourse.lob.search: the rule family's depth tables, its checks, and the
cross-entropy search (reproducible, independent of the threads, common random numbers within
an iteration, and better than constant depth 2 on fresh episodes).

Statistical tolerances are z standard errors with z = 3.29 (two-sided 0.1 %); seeds are
fixed, so every test is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmcourse import lob
from mmcourse.lob import LOBParams, RulePolicy, cross_entropy_search

Z = 3.29
SMALL = LOBParams(T=20, num_time_buckets=4, burn_in=50.0)
SEARCH = dict(n_iterations=2, population=6, elite_fraction=0.5, n_eval_episodes=20)


# --------------------------------------------------------------------------------------
# The rule family
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bid, ask", [(1, 3), (2, 2), (5, 1)])
def test_zero_slopes_are_the_constant_policy(bid, ask):
    params = LOBParams(num_time_buckets=10)
    rule, constant = RulePolicy(bid, ask), lob.ConstantPolicy(bid, ask)
    assert np.array_equal(rule.depth_table(params), constant.depth_table(params))
    a = lob.evaluate_policy(rule.to_greedy(params), params, 50, seed=7)
    b = lob.evaluate_policy(constant, params, 50, seed=7)
    assert np.array_equal(a.samples, b.samples)
    assert a.samples.std() > 0                          # the episodes did something


def test_a_positive_skew_quotes_against_the_inventory():
    params = LOBParams(num_time_buckets=5)              # c = 3, D = 5
    table = RulePolicy(3, 3, inventory_skew=0.6).depth_table(params)
    c = params.max_inventory_bucket
    bid, ask = table[..., 0], table[..., 1]
    assert (np.diff(bid, axis=1) >= 0).all() and (np.diff(ask, axis=1) <= 0).all()
    # long (bucket +2): the bid moves away, the ask closer; short: the other way round
    assert (bid[:, c + 2] == 4).all() and (ask[:, c + 2] == 2).all()    # 3 ± 1.2 → 4, 2
    assert (bid[:, c - 2] == 2).all() and (ask[:, c - 2] == 4).all()
    assert (bid[:, c] == 3).all() and (ask[:, c] == 3).all()
    flipped = RulePolicy(3, 3, inventory_skew=-0.6).depth_table(params)
    assert np.array_equal(flipped[:, ::-1], table)      # a negative skew mirrors it


def test_time_trends_and_a_growing_skew():
    params = LOBParams(num_time_buckets=5)              # u = 0, 1/4, 1/2, 3/4, 1
    table = RulePolicy(1, 5, bid_trend=2.0, ask_trend=-4.0).depth_table(params)
    assert table[:, 3, 0].tolist() == [1, 2, 2, 3, 3]   # 1 + 2u, halves round up
    assert table[:, 3, 1].tolist() == [5, 4, 3, 2, 1]
    table = RulePolicy(3, 3, skew_trend=1.0).depth_table(params)
    assert (table[0, :, :] == 3).all()                  # no skew at the start of the day
    assert table[-1, :, 0].tolist() == [1, 1, 2, 3, 4, 5, 5]    # 3 + i at the end, clipped
    assert table[-1, :, 1].tolist() == [5, 5, 4, 3, 2, 1, 1]
    one_bucket = RulePolicy(2, 2, bid_trend=5.0, skew_trend=5.0).depth_table(LOBParams(num_time_buckets=1))
    assert (one_bucket == 2).all()                      # u = 0 with a single bucket


def test_depths_are_clipped_to_one_to_D():
    params = LOBParams(max_quote_depth=4)
    assert (RulePolicy(9.0, -3.0).depth_table(params)[..., 0] == 4).all()
    assert (RulePolicy(9.0, -3.0).depth_table(params)[..., 1] == 1).all()
    table = RulePolicy(2.5, 2.5, 3.0, -3.0, 2.0, -1.5).depth_table(params)
    assert table.dtype == np.int64 and table.min() == 1 and table.max() == 4
    assert lob.evaluate_policy(RulePolicy(9.0, -3.0).to_greedy(params), params, 5, seed=1).n == 5


@pytest.mark.parametrize("kwargs, name", [
    (dict(bid_depth=float("nan"), ask_depth=2), "bid_depth"),
    (dict(bid_depth=2, ask_depth="3"), "ask_depth"),
    (dict(bid_depth=2, ask_depth=2, bid_trend=float("inf")), "bid_trend"),
    (dict(bid_depth=2, ask_depth=2, ask_trend=None), "ask_trend"),
    (dict(bid_depth=2, ask_depth=2, inventory_skew=True), "inventory_skew"),
    (dict(bid_depth=2, ask_depth=2, skew_trend=-float("inf")), "skew_trend"),
])
def test_rule_validation_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        RulePolicy(**kwargs)


def test_vectors_and_labels():
    rule = RulePolicy(1.5, 2.0, 0.1, -0.2, 0.5, 0.25)
    assert RulePolicy.from_vector(rule.to_vector()) == rule
    assert rule.to_vector().tolist() == [1.5, 2.0, 0.1, -0.2, 0.5, 0.25]
    with pytest.raises(ValueError, match="x must hold 6"):
        RulePolicy.from_vector([1, 2, 3])
    assert RulePolicy(1, 3).label == "rule (bid 1.00, ask 3.00)"
    assert "skew 0.50+0.25·u" in rule.label and rule.to_greedy(LOBParams()).label == rule.label


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(n_iterations=0), "n_iterations"), (dict(population=1), "population"),
    (dict(elite_fraction=0.0), "elite_fraction"), (dict(elite_fraction=1.5), "elite_fraction"),
    (dict(population=6, elite_fraction=0.2), "elite_fraction"),
    (dict(n_eval_episodes=1), "n_eval_episodes"), (dict(init_mean=[1, 2]), "init_mean"),
    (dict(init_std=[1, 1, 1, 1, 1, 0]), "init_std"), (dict(min_std=-0.1), "min_std"),
    (dict(n_workers=0), "n_workers"),
])
def test_search_validation_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        cross_entropy_search(SMALL, **{**SEARCH, **kwargs}, seed=1)


def test_search_is_reproducible_and_independent_of_the_workers():
    a = cross_entropy_search(SMALL, **SEARCH, seed=3, n_workers=1)
    b = cross_entropy_search(SMALL, **SEARCH, seed=3, n_workers=3)
    c = cross_entropy_search(SMALL, **SEARCH, seed=4, n_workers=1)
    for name in ("means", "stds", "population_values", "candidates"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.policy == b.policy
    assert not np.array_equal(a.candidates, c.candidates)
    assert a.n_episodes == 2 * 6 * 20 and a.n_elite == 3 and a.n_iterations == 2
    history = a.history()
    assert list(history.index) == [0, 1, 2] and np.isnan(history.loc[0, "elite_value"])
    assert np.allclose(history.loc[2, list(lob.RULE_PARAMETERS)], a.policy.to_vector())
    assert history.loc[1, "best_value"] == a.population_values[0].max()
    # the refit: the mean of the elite, the std floored at min_std
    elite = a.candidates[0][np.argsort(-a.population_values[0], kind="stable")[:3]]
    assert np.allclose(a.means[1], elite.mean(axis=0))
    assert np.allclose(a.stds[1], np.maximum(elite.std(axis=0), 0.05))


def test_candidates_of_one_iteration_share_their_episodes():
    # With a tiny spread every candidate has the same table: common random numbers give
    # them the same value within an iteration, and a fresh seed another one next iteration.
    result = cross_entropy_search(SMALL, n_iterations=3, population=4, elite_fraction=0.5,
                                  n_eval_episodes=30, seed=5, init_mean=[1, 3, 0, 0, 0, 0],
                                  init_std=[1e-6] * 6, min_std=0.0)
    values = result.population_values
    assert (values == values[:, :1]).all()
    assert len(set(values[:, 0])) == 3
    expected = lob.evaluate_policy(lob.constant_policy(1, 3), SMALL, 30,
                                   seed=int(np.random.default_rng(
                                       np.random.SeedSequence(5).spawn(3)[0]).integers(2**63)))
    assert values[0, 0] == expected.mean


def test_search_beats_constant_depth_two_on_fresh_episodes():
    params = LOBParams(num_time_buckets=4, burn_in=500.0)
    result = cross_entropy_search(params, n_iterations=5, population=24, n_eval_episodes=200, seed=1)
    found = lob.evaluate_policy(result.policy.to_greedy(params), params, 2000, seed=12345)
    depth_2 = lob.evaluate_policy(lob.constant_policy(2), params, 2000, seed=12345)
    # Seen: 5.10 ± 0.31 against 1.64 ± 0.17, ten standard errors apart.
    assert found.mean >= depth_2.mean - Z * np.hypot(found.stderr, depth_2.stderr)


def test_a_rule_is_evaluated_directly_as_its_table():
    p = lob.LOBParams()
    rule = lob.RulePolicy(1.4, 1.4, inventory_skew=-1.0)
    direct = lob.evaluate_policy(rule, p, 30, seed=4).samples
    assert np.array_equal(direct, lob.evaluate_policy(rule.to_greedy(p), p, 30, seed=4).samples)


# ---- chapter 9's readable loop (book/09_beating_constant.md, §9.5), copied --------------

def cross_entropy(score, mean, std, rng, iterations=8, population=30, elite=6):
    """Maximise score(vector) by refitting a diagonal Gaussian to the best candidates."""
    for _ in range(iterations):
        candidates = mean + std * rng.standard_normal((population, mean.size))
        values = np.array([score(c) for c in candidates])
        best = candidates[np.argsort(-values, kind="stable")[:elite]]   # ties: the earlier
        mean, std = best.mean(axis=0), np.maximum(best.std(axis=0), 0.05)
    return mean, std


def test_the_chapters_readable_loop_is_the_package_search():
    """One call of the readable loop per iteration, with the package's generator of that
    iteration and its shared episode seed: the same means and stds, bit for bit."""
    from mmcourse.core.seeding import spawn_generators
    p = lob.LOBParams(T=20, num_time_buckets=4, burn_in=200.0)
    n_iterations, population, n_episodes = 3, 10, 20
    result = lob.cross_entropy_search(p, n_iterations=n_iterations, population=population,
                                      elite_fraction=0.2, n_eval_episodes=n_episodes, seed=12,
                                      n_workers=1)
    mean, std = result.means[0], result.stds[0]
    for k, rng in enumerate(spawn_generators(12, n_iterations)):
        episode_seed = int(rng.integers(2**63))

        def score(x):
            rule = lob.RulePolicy.from_vector(x)
            return lob.evaluate_policy(rule, p, n_episodes, seed=episode_seed).mean

        mean, std = cross_entropy(score, mean, std, rng, iterations=1, population=population,
                                  elite=2)
        assert np.array_equal(mean, result.means[k + 1]) and np.array_equal(std, result.stds[k + 1])
