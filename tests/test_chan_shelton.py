"""Facts about the Chan & Shelton model, each with a tolerance derived from a standard error.

Monte-Carlo comparisons use |estimate − truth| < 4 standard errors (a false alarm about once
in 16,000 comparisons); with fixed seeds every test is deterministic.
"""

import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from mmcourse import chan_shelton as cs
from mmcourse.chan_shelton import reference as ref

Z = 4.0
SLIDES = {1: -0.4362533333333333, 2: -0.5420799999999999, 3: -0.6780799999999999}
SLIDES_SARSA_POLICY = cs.Policy.from_dict({-2: -1, -1: -1, 0: 0, 1: +1, 2: +1})

OTHER_PARAMS = [
    cs.MarketParams(),
    cs.MarketParams(lambda_p=0.1, lambda_u=0.2, lambda_i=0.4, T=60, p0=100),
    cs.MarketParams(lambda_p=0.3, lambda_u=0.05, lambda_i=0.3, T=40, p0=50),
    cs.MarketParams(lambda_p=0.15, lambda_u=0.35, lambda_i=0.0, T=25, p0=10),
    cs.MarketParams(lambda_p=0.05, lambda_u=0.05, lambda_i=0.8, T=200, p0=0),
]


# ---------------------------------------------------------------- parameters and policies

@pytest.mark.parametrize("kwargs, field", [
    ({"lambda_p": -0.1, "lambda_u": 0.3, "lambda_i": 0.6}, "lambda_p"),
    ({"lambda_i": 1.2, "lambda_p": 0.0, "lambda_u": 0.0}, "lambda_i"),
    ({"lambda_p": 0.3}, "2*lambda_p + 2*lambda_u + lambda_i = 1"),
    ({"T": 0}, "T"),
    ({"T": 2.5}, "T"),
    ({"p0": 200.5}, "p0"),
    ({"p0": "200"}, "p0"),
    ({"lambda_u": float("nan")}, "lambda_u"),
])
def test_bad_market_params_raise_value_error_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field.replace("*", r"\*").replace("+", r"\+")):
        cs.MarketParams(**kwargs)


def test_market_params_defaults_are_the_slides():
    p = cs.MarketParams()
    assert (p.lambda_p, p.lambda_u, p.lambda_i, p.T, p.p0) == (0.2, 0.1, 0.4, 150, 200)
    assert p.event_probabilities().sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("call, name", [
    (lambda: cs.threshold_policy(0), "h"),
    (lambda: cs.Policy((0, 1)), "odd length"),
    (lambda: cs.Policy((0, 2, 0)), "actions"),
    (lambda: cs.evaluate_policy(cs.threshold_policy(1), n_episodes=1), "n_episodes"),
    (lambda: cs.evaluate_policy(cs.threshold_policy(1), epsilon=1.5), "epsilon"),
    (lambda: cs.evaluate_policy(cs.threshold_policy(1), params={"T": 3}), "params"),
    (lambda: cs.sarsa(alpha=0.0), "alpha"),
    (lambda: cs.sarsa(gamma=1.1), "gamma"),
    (lambda: cs.state_values(cs.threshold_policy(1), estimator="median"), "estimator"),
    (lambda: cs.policy_iteration(cs.threshold_policy(1), gamma=0.5), "gamma"),
    (lambda: cs.policy_iteration(cs.threshold_policy(1), epsilon=0.0), "epsilon"),
])
def test_bad_arguments_raise_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_threshold_policy_acts_as_in_the_slides():
    pi2 = cs.threshold_policy(2)
    assert [pi2(i) for i in range(-2, 3)] == [-1, 0, 0, 0, 1]
    assert repr(pi2) == "π_2: {-2: -1, -1: 0, 0: 0, 1: 0, 2: +1, else 0}"
    assert pi2 == cs.Policy.from_dict({-2: -1, -1: 0, 0: 0, 1: 0, 2: 1}, outside="keep")
    # π_h moves only at I = ±h exactly; a learnt table clips the imbalance to its range
    assert (pi2(3), pi2(-5)) == (0, 0)
    clipped = cs.Policy(pi2.table)
    assert (clipped(3), clipped(-5)) == (1, -1)


def test_greedy_policy_breaks_ties_towards_keeping_the_price_and_skips_nan():
    Q = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [np.nan, -1.0, 2.0]])
    assert cs.greedy_policy(Q).table == (-1, 0, 1)
    assert cs.greedy_policy(np.full((3, 3), np.nan)).table == (0, 0, 0)


# ---------------------------------------------------------------- the model's rules

def test_a_day_follows_the_step_rules():
    ep = cs.simulate_episode(cs.threshold_policy(2), seed=11, epsilon=0.1)
    p0 = ep.params.p0
    prev_fund = np.concatenate([[p0], ep.fundamental_price[:-1]])
    prev_mm = np.concatenate([[p0], ep.mm_price[:-1]])
    step = ep.fundamental_price - prev_fund
    assert set(np.unique(step)) <= {-1, 0, 1}
    assert np.all((step != 0) == np.isin(ep.event, [0, 1]))
    assert np.array_equal(ep.mm_price - prev_mm, ep.action)
    informed = ep.event == 4
    assert np.array_equal(ep.order[informed], np.sign(ep.fundamental_price - prev_mm)[informed])
    assert np.array_equal(ep.reward, ep.order * (ep.mm_price - ep.fundamental_price))
    # the imbalance is the sum of orders since the last price change, excluding this step's
    window = 0
    for t in range(ep.params.T):
        assert ep.imbalance[t] == window
        if ep.action[t] != 0:
            window = 0
        window += ep.order[t]
    frame = ep.to_frame()
    assert list(frame.columns) == ["event", "fundamental_price", "mm_price", "imbalance", "order",
                                   "action", "reward"]
    assert len(frame) == ep.params.T


def test_same_seed_same_numbers_different_seed_different_numbers():
    pi = cs.threshold_policy(2)
    a = cs.evaluate_policy(pi, n_episodes=200, seed=5)
    b = cs.evaluate_policy(pi, n_episodes=200, seed=5)
    c = cs.evaluate_policy(pi, n_episodes=200, seed=6)
    assert np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert cs.sarsa(n_episodes=50, seed=1).q.equals(cs.sarsa(n_episodes=50, seed=1).q)
    assert not cs.sarsa(n_episodes=50, seed=1).q.equals(cs.sarsa(n_episodes=50, seed=2).q)


@pytest.mark.parametrize("params", OTHER_PARAMS[:3])
def test_compiled_days_equal_the_plain_python_reference(params):
    for policy, eps in [(cs.threshold_policy(1), 0.0), (cs.threshold_policy(3), 0.2)]:
        ep = cs.simulate_episode(policy, params, seed=3, epsilon=eps)
        assert np.array_equal(ep.reward, ref.simulate_day(policy, params, np.random.default_rng(3), eps))
    est = cs.evaluate_policy(cs.threshold_policy(2), params, n_episodes=30, seed=4)
    assert np.array_equal(est.samples, ref.evaluate(cs.threshold_policy(2), params, 30, np.random.default_rng(4)))


@pytest.mark.parametrize("update_last, gamma", [(True, 0.0), (False, 0.0), (True, 0.9)])
def test_compiled_sarsa_equals_the_plain_python_reference(update_last, gamma):
    params = cs.MarketParams()
    q = cs.sarsa(params, 30, 0.05, gamma, 0.1, seed=9, update_last=update_last).q.to_numpy()
    q_ref = ref.sarsa(params, 30, 0.05, gamma, 0.1, np.random.default_rng(9), update_last=update_last)
    assert np.array_equal(q, np.array(q_ref))


# ---------------------------------------------------------------- exact values

@pytest.mark.parametrize("params", OTHER_PARAMS)
@pytest.mark.parametrize("h", [1, 2, 3])
def test_exact_value_agrees_with_a_large_monte_carlo_run(params, h):
    pi = cs.threshold_policy(h)
    est = cs.evaluate_policy(pi, params, n_episodes=40_000, seed=100 * h + params.T)
    assert abs(est.mean - cs.exact_policy_value(pi, params)) < Z * est.stderr


@pytest.mark.parametrize("policy, epsilon", [
    (cs.Policy((0, 0, 0), "never move"), 0.0),
    (cs.Policy((1, 0, 0, 0, -1), "reversed π_2"), 0.025),
    (cs.Policy.from_dict({-2: -1, -1: 0, 0: 1, 1: 1, 2: 0}), 0.1),
    (cs.threshold_policy(2), 0.2),
    (cs.Policy(cs.threshold_policy(2).table), 0.2),
])
def test_exact_value_agrees_with_monte_carlo_for_other_policies(policy, epsilon):
    params = cs.MarketParams(T=50)
    est = cs.evaluate_policy(policy, params, n_episodes=40_000, seed=17, epsilon=epsilon)
    assert abs(est.mean - cs.exact_policy_value(policy, params, epsilon)) < Z * est.stderr


def test_the_slides_policy_values_are_reproduced():
    for h, slide in SLIDES.items():
        pi = cs.threshold_policy(h)
        std = cs.evaluate_policy(pi, n_episodes=20_000, seed=h).std
        slide_se = std / np.sqrt(1000)          # the slides averaged 1000 days
        assert abs(cs.exact_policy_value(pi) - slide) < Z * slide_se


def test_exact_step_rewards_are_probabilities_times_rewards():
    ex = cs.exact_values(cs.threshold_policy(2))
    assert ex.step_rewards[0] == 0.0                       # m_0 = p0 and p*_0 moves only on a price event
    assert ex.visits.to_numpy().sum() == pytest.approx(cs.MarketParams().T, abs=1e-9)
    assert ex.value == pytest.approx(ex.step_rewards.mean(), abs=1e-15)


def test_exact_values_are_symmetric_under_reflection():
    q = cs.exact_values(cs.threshold_policy(2), epsilon=0.1).q.to_numpy()
    assert np.allclose(q, q[::-1, ::-1], atol=1e-12)


def test_a_policy_that_moves_at_one_is_pi_1_whatever_it_does_at_two():
    pi1_like = cs.Policy.from_dict({-2: +1, -1: -1, 0: 0, 1: +1, 2: -1})
    assert cs.exact_policy_value(pi1_like) == pytest.approx(cs.exact_policy_value(cs.threshold_policy(1)), abs=1e-12)


@pytest.mark.parametrize("epsilon", [0.025, 0.2])
def test_pooled_monte_carlo_state_action_values_converge_on_the_exact_ones(epsilon):
    pi = cs.threshold_policy(2)
    mc = cs.state_action_values(pi, n_episodes=20_000, seed=21, epsilon=epsilon)
    exact = cs.exact_values(pi, epsilon=epsilon).q.to_numpy()
    z = np.abs(mc.values.to_numpy() - exact) / mc.stderr.to_numpy()
    assert np.all(z < Z)


def test_pooled_state_values_converge_on_the_exact_ones_and_episode_means_do_not():
    pi = cs.threshold_policy(2)
    exact = cs.exact_values(pi).state_values.to_numpy()
    pooled = cs.state_values(pi, n_episodes=20_000, seed=8)
    assert np.all(np.abs(pooled["value"].to_numpy() - exact) < Z * pooled["stderr"].to_numpy())
    means = cs.state_values(pi, n_episodes=20_000, seed=8, estimator="episode_mean")
    # the slides' mean of per-day means is biased at the rarely visited states ±2
    assert np.all(np.abs(means["value"].to_numpy()[[0, 4]] - exact[[0, 4]]) > Z * means["stderr"].to_numpy()[[0, 4]])


def test_state_visits_sum_to_all_steps():
    sv = cs.state_values(cs.threshold_policy(1), n_episodes=100, seed=1)
    assert sv["visits"].sum() == 100 * cs.MarketParams().T


# ---------------------------------------------------------------- improvement and learning

def test_exact_policy_iteration_improves_pi_2_to_pi_1_and_stops():
    steps = cs.policy_iteration(cs.threshold_policy(2))
    assert [s.policy for s in steps] == [cs.threshold_policy(2), SLIDES_SARSA_POLICY]
    assert steps[1].value == pytest.approx(cs.exact_policy_value(cs.threshold_policy(1)), abs=1e-12)
    assert steps[1].value > steps[0].value


def test_monte_carlo_policy_iteration_with_returns_finds_the_same_policy():
    steps = cs.policy_iteration(cs.threshold_policy(2), evaluation="monte_carlo", n_episodes=20_000,
                                seed=1, gamma=0.9, max_iterations=5)
    assert steps[-1].policy == SLIDES_SARSA_POLICY


def test_sarsa_most_often_learns_the_slides_greedy_policy():
    curves = cs.sarsa_learning_curves(40, n_episodes=5000, seed=2026)
    counts = Counter(curves.final_policies).most_common()
    top, n_top = counts[0]
    assert top == SLIDES_SARSA_POLICY
    assert curves.rewards.shape == (40, 5000)


def test_sarsa_learning_improves_the_mean_reward():
    curves = cs.sarsa_learning_curves(60, n_episodes=1000, seed=3)
    first = curves.rewards[:, :50].mean(axis=1)
    last = curves.rewards[:, -200:].mean(axis=1)
    diff = last - first
    assert diff.mean() > Z * diff.std(ddof=1) / np.sqrt(diff.size)


def test_learning_curve_band_averages_blocks_of_days():
    curves = cs.sarsa_learning_curves(5, n_episodes=100, seed=7)
    band = curves.band(block=25)
    assert list(band.index) == [25, 50, 75, 100]
    assert band["mean"].iloc[0] == pytest.approx(curves.rewards[:, :25].mean())
    assert np.all(band["lower"] < band["mean"]) and np.all(band["mean"] < band["upper"])
    with pytest.raises(ValueError, match="block"):
        curves.band(block=0)


def test_sarsa_records_a_bounded_history():
    res = cs.sarsa(n_episodes=300, seed=4)
    assert res.history.shape == (300, 1)
    assert res.q_history.shape == (300, 5, 3)
    assert np.array_equal(res.q_history[-1], res.q.to_numpy())
    assert len(res.final_day) == cs.MarketParams().T
    assert res.policy == cs.greedy_policy(res.q)
    assert cs.sarsa(n_episodes=300, seed=4, record_q=False).q_history.shape[0] == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_evaluating_100k_days_keeps_memory_bounded(tmp_path):
    # VmHWM is the peak resident memory of this address space (ru_maxrss would include the
    # parent pytest process's, inherited across fork and exec).  Evaluating 100,000 more days
    # must cost about their 0.8 MB of per-day means, not every step of every day (120 MB).
    # The process's absolute peak depends on whether numba compiles or loads its cache, so
    # benchmarks/bench_chan_shelton.py measures and prints it for a fresh process.
    code = (
        "from mmcourse import chan_shelton as cs\n"
        "def peak_mb():\n"
        "    line = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    return int(line.split()[1]) / 1024\n"
        "cs.evaluate_policy(cs.threshold_policy(2), n_episodes=1000, seed=1)\n"
        "before = peak_mb()\n"
        "cs.evaluate_policy(cs.threshold_policy(2), n_episodes=100_000, seed=1)\n"
        "print(before, peak_mb())\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    before, after = (float(x) for x in out.stdout.split())
    assert after - before < 5


def test_estimate_reports_mean_standard_error_and_interval():
    est = cs.evaluate_policy(cs.threshold_policy(1), n_episodes=500, seed=1)
    assert est.stderr == pytest.approx(est.samples.std(ddof=1) / np.sqrt(500))
    lo, hi = est.ci
    assert lo < est.mean < hi and hi - lo == pytest.approx(2 * 1.959964 * est.stderr, rel=1e-5)
    with pytest.raises(ValueError, match="level"):
        est.confidence_interval(1.5)
    assert isinstance(cs.q_table(np.zeros((5, 3))), pd.DataFrame)
