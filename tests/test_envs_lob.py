"""The limit-order-book gymnasium environment: gymnasium's own checks, and episodes stepped
through it equal the package's episodes from the same seed, bit for bit."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mmcourse import lob
from mmcourse.envs.lob import LimitOrderBookEnv

SMALL = lob.LOBParams(T=12, num_time_buckets=12, phi=0.01)


def play(env, policy_action, seed=None, reset=True):
    """One episode with a fixed action rule; returns rewards, infos, observations."""
    obs, _ = env.reset(seed=seed) if reset else (None, None)
    rewards, infos, observations = [], [], [obs]
    done = False
    while not done:
        obs, r, done, truncated, info = env.step(policy_action(obs))
        assert not truncated
        rewards.append(r)
        infos.append(info)
        observations.append(obs)
    return np.array(rewards), infos, observations


def action_of(bid_depth, ask_depth, D=5):
    return (bid_depth - 1) * D + (ask_depth - 1)


def test_gymnasium_env_checker_passes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(LimitOrderBookEnv(SMALL), skip_render_check=True)


def test_registered_when_mmcourse_envs_is_imported():
    import mmcourse.envs  # noqa: F401
    env = gym.make("mmcourse/LimitOrderBook-v0")
    obs, _ = env.reset(seed=3)
    assert obs.tolist()[:2] == [0, 0] and env.action_space.n == 25
    env.close()


@pytest.mark.parametrize("params, depths", [(lob.LOBParams(), (2, 2)), (lob.LOBParams(), (1, 3)),
                                            (SMALL, (2, 4))])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_episode_through_the_env_is_the_package_episode(params, depths, seed):
    env = LimitOrderBookEnv(params)
    a = action_of(*depths, params.max_quote_depth)
    rewards, infos, observations = play(env, lambda obs: a, seed)
    ep = lob.simulate_episode(lob.constant_policy(*depths), params, seed=seed)
    expected = ep.reward[:-1].copy()
    expected[-1] += ep.reward[-1]                  # the liquidation step joins the last decision
    assert np.array_equal(rewards, expected)
    assert [i["inventory"] for i in infos] == ep.inventory[:-1].tolist()[:-1] + [ep.inventory[-1]]
    assert [i["bid_quote"] for i in infos] == ep.bid_quote[:-1].tolist()
    assert [i["bid"] for i in infos] == ep.bid[:-1].tolist()
    assert infos[-1]["cash"] == ep.final_cash and infos[-1]["inventory"] == 0
    assert [int(o[2]) for o in observations[:-1]] == ep.spread[:-1].tolist()
    assert all(env.observation_space.contains(o) for o in observations)


def test_consecutive_episodes_are_those_of_evaluate_policy():
    env = LimitOrderBookEnv()
    policy, a = lob.constant_policy(1, 4), action_of(1, 4)
    totals = [play(env, lambda obs: a, seed=11 if k == 0 else None)[0].sum() for k in range(6)]
    assert totals == lob.evaluate_policy(policy, n_episodes=6, seed=11).samples.tolist()
    # a fixed starting book: every episode starts from it
    book = lob.simulate_book(50, seed=4).end_book
    env = LimitOrderBookEnv(start_book=book)
    totals = [play(env, lambda obs: a, seed=5 if k == 0 else None)[0].sum() for k in range(4)]
    assert totals == lob.evaluate_policy(policy, n_episodes=4, seed=5, start_book=book).samples.tolist()


def test_seeds_reproduce_and_differ():
    env = LimitOrderBookEnv()
    rng = np.random.default_rng(0)
    actions = rng.integers(25, size=99)
    runs = []
    for seed in (8, 8, 9):
        it = iter(actions)
        runs.append(play(env, lambda obs: int(next(it)), seed)[0])
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])


def test_bad_use_raises():
    env = LimitOrderBookEnv(SMALL)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=1)
    for bad in (25, -1, 2.5, "1"):
        with pytest.raises(ValueError, match="action"):
            env.step(bad)
    play(env, lambda obs: 6, reset=False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(ValueError, match="params"):
        LimitOrderBookEnv(params={"T": 10})
