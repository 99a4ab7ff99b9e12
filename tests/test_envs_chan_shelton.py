"""The Chan & Shelton gymnasium environment: gymnasium's checks, registration, and the same days
as the package's ``simulate_episode`` from the same seed."""

import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mmcourse import chan_shelton as cs
from mmcourse.envs import ChanSheltonEnv   # importing mmcourse.envs registers the ids

OTHER_PARAMS = cs.MarketParams(lambda_p=0.1, lambda_u=0.2, lambda_i=0.4, T=60, p0=100)
FIELDS = ("fundamental_price", "mm_price", "imbalance", "event", "order", "action", "reward")


def play(env, policy, seed):
    """One day in ``env`` under ``policy`` (a function of the observed imbalance), recorded as
    the package's Episode arrays; also the observations and the flags of each step."""
    obs, info = env.reset(seed=seed)
    p0 = env.unwrapped.params.p0
    assert info == {"fundamental_price": p0, "mm_price": p0}
    rows, observations, flags = [], [obs], []
    terminated = truncated = False
    while not (terminated or truncated):
        imbalance = int(obs[0])
        obs, reward, terminated, truncated, info = env.step(policy(imbalance) + 1)
        assert cs.EVENT_NAMES[info["event_code"]] == info["event"]
        rows.append((info["fundamental_price"], info["mm_price"], imbalance, info["event_code"],
                     info["order"], info["price_move"], reward))
        observations.append(obs)
        flags.append((terminated, truncated))
    day = {name: np.array(column) for name, column in zip(FIELDS, zip(*rows))}
    return day, observations, flags


def test_check_env_passes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # made through gymnasium: it has a spec, so every check runs (render and close too)
        check_env(gymnasium.make("mmcourse/ChanShelton-v0").unwrapped)
        # made directly: without a spec gymnasium can only warn that it skips the render check
        check_env(ChanSheltonEnv(OTHER_PARAMS), skip_render_check=True)


def test_make_after_importing_mmcourse_envs():
    env = gymnasium.make("mmcourse/ChanShelton-v0")
    assert isinstance(env.unwrapped, ChanSheltonEnv)
    assert env.unwrapped.params == cs.MarketParams()
    assert env.spec.max_episode_steps is None           # the day ends by itself
    assert gymnasium.spec("mmcourse/LimitOrderBook-v0").entry_point == "mmcourse.envs.lob:LimitOrderBookEnv"
    made = gymnasium.make("mmcourse/ChanShelton-v0", params=OTHER_PARAMS)
    assert made.unwrapped.params == OTHER_PARAMS
    day, _, flags = play(made, cs.threshold_policy(2), seed=4)
    assert len(day["reward"]) == OTHER_PARAMS.T
    assert flags[-1] == (True, False)
    # a longer day is played to its end, and only its end is flagged
    day, _, flags = play(gymnasium.make("mmcourse/ChanShelton-v0", params=cs.MarketParams(T=200)),
                         cs.threshold_policy(1), seed=0)
    assert len(day["reward"]) == 200 and flags[-1] == (True, False)
    assert all(f == (False, False) for f in flags[:-1])


def test_importing_twice_registers_once():
    # a fresh interpreter, re-running mmcourse.envs' __init__ after clearing it from sys.modules
    # (as tests/test_layout.py does): no "Overriding environment" warning, the ids still there
    code = ("import sys, warnings, importlib\n"
            "warnings.simplefilter('error')\n"
            "import mmcourse.envs\n"
            "for m in [m for m in sys.modules if m.startswith('mmcourse')]:\n"
            "    del sys.modules[m]\n"
            "importlib.import_module('mmcourse.envs')\n"
            "import gymnasium\n"
            "gymnasium.make('mmcourse/ChanShelton-v0')\n"
            "assert 'mmcourse/LimitOrderBook-v0' in gymnasium.envs.registry\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_gymnasium_seeds_np_random_as_default_rng():
    env = ChanSheltonEnv()
    env.reset(seed=12345)
    assert np.array_equal(env.np_random.random(8), np.random.default_rng(12345).random(8))


@pytest.mark.parametrize("params", [cs.MarketParams(), OTHER_PARAMS], ids=["default", "other"])
@pytest.mark.parametrize("h", [1, 2, 3])
def test_a_threshold_policy_plays_the_packages_day(params, h):
    env = ChanSheltonEnv(params)
    policy = cs.threshold_policy(h)
    for seed in (0, 1, 7, 2024):
        day, observations, flags = play(env, policy, seed)
        episode = cs.simulate_episode(policy, params, seed=seed)
        for name in FIELDS:
            assert np.array_equal(day[name], getattr(episode, name)), (name, seed)
        assert sum(day["reward"]) / params.T == episode.mean_reward
        assert np.any(day["action"] != 0) and np.any(day["reward"] != 0)   # not a trivial day
        assert [int(o[1]) for o in observations] == list(range(params.T + 1))
        assert flags == [(False, False)] * (params.T - 1) + [(True, False)]


def test_the_same_seed_gives_the_same_day_and_another_seed_another():
    env = ChanSheltonEnv()
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 3, size=env.params.T)

    def replay(seed):
        it = iter(actions)
        return play(env, lambda _: next(it) - 1, seed)[0]

    first, again, other = replay(5), replay(5), replay(6)
    for name in FIELDS:
        assert np.array_equal(first[name], again[name])
    assert any(not np.array_equal(first[name], other[name]) for name in FIELDS)


def test_reset_without_seed_continues_the_stream():
    env = ChanSheltonEnv()
    keep = cs.threshold_policy(1)
    first, _, _ = play(env, keep, seed=3)
    second, _, _ = play(env, keep, seed=None)
    assert not np.array_equal(first["event"], second["event"])


@pytest.mark.parametrize("action", [-1, 3, 1.0, "1", None, True, np.bool_(True), np.int64(3), np.array([1])])
def test_a_bad_action_raises(action):
    env = ChanSheltonEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


def test_numpy_actions_are_accepted():
    env = ChanSheltonEnv()
    env.reset(seed=0)
    for action in (np.int64(0), np.int32(2), np.array(1)):
        env.step(action)


def test_step_before_reset_or_after_the_day_raises():
    env = ChanSheltonEnv(cs.MarketParams(T=2))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)
    env.reset(seed=0)
    env.step(1)
    assert env.step(1)[2]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)


@pytest.mark.parametrize("bad", [object(), {"T": 10}, "default"])
def test_bad_params_raise_value_error_naming_params(bad):
    with pytest.raises(ValueError, match="params"):
        ChanSheltonEnv(bad)


def test_observations_are_always_in_the_observation_space():
    # a random agent, and a market maker that never moves its price, whose imbalance counts
    # every order of the day (with λp = λi = 0 every step brings an uninformed order)
    for params in (cs.MarketParams(), cs.MarketParams(lambda_p=0.0, lambda_u=0.5, lambda_i=0.0, T=40)):
        env = ChanSheltonEnv(params)
        env.action_space.seed(1)
        for seed in range(30):
            _, observations, _ = play(env, lambda _: int(env.action_space.sample()) - 1, seed)
            _, kept, _ = play(env, lambda _: 0, seed)
            for obs in observations + kept:
                assert obs.dtype == np.int64 and obs.shape == (2,)
                assert obs in env.observation_space, obs
