"""Part III speed: what a learner costs per training episode, and what a gymnasium step costs.

Runs, in one process:
  (a) the limit order book: CPU seconds per training episode of each learner (per simulated
      episode for the cross-entropy search), against the cost of simulating one episode with
      a fixed policy (``lob.evaluate_policy`` of constant depth 2, per episode), and their
      ratio (target: at most 2x: learning must not be the bottleneck);
  (b) the gymnasium environments: wall seconds per ``env.step`` with random actions (resets
      included), against the compiled package's cost per step of the same episodes.
Times are the best of ``--repeat`` runs; compilation is done before timing.

    python benchmarks/bench_learners.py [--episodes N] [--repeat N] [--env-episodes N]
"""

import argparse
import time

import numpy as np

from mmcourse import chan_shelton as cs
from mmcourse import lob

from _timing import timed  # benchmarks/_timing.py


def learners():
    """name → function(params, n_episodes, seed) for every learner the package has."""
    out = {"Q-learning": lambda p, n, seed: lob.q_learning(p, n, seed=seed)}
    if hasattr(lob, "double_q_learning"):
        out["double Q-learning"] = lambda p, n, seed: lob.double_q_learning(p, n, seed=seed)
    if hasattr(lob, "mc_control"):
        out["Monte-Carlo control"] = lambda p, n, seed: lob.mc_control(p, n, seed=seed)
    if hasattr(lob, "tile_q_learning"):
        out["tile-coded Q-learning"] = lambda p, n, seed: lob.tile_q_learning(p, n, seed=seed)
    return out


def per_step(env, n_episodes, seed):
    """Wall seconds per env.step over ``n_episodes`` episodes of uniformly random actions."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    steps = 0
    start = time.perf_counter()
    for k in range(n_episodes):
        if k:
            env.reset()
        done = False
        while not done:
            _, _, done, _, _ = env.step(int(rng.integers(env.action_space.n)))
            steps += 1
    return (time.perf_counter() - start) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--env-episodes", type=int, default=200)
    args = ap.parse_args()
    params, n = lob.LOBParams(), args.episodes

    fixed = lambda: lob.evaluate_policy(lob.constant_policy(2), params, n, seed=1)  # noqa: E731
    fixed()
    for f in learners().values():
        f(params, 2, 0)                                                           # compile
    _, t_fixed = timed(fixed, repeat=args.repeat)
    print(f"(a) the limit order book, {n:,} episodes of {params.T} steps (CPU s, best of {args.repeat})")
    print(f"    fixed policy (constant depth 2)   {t_fixed / n * 1e6:7.1f} µs per episode")
    for name, f in learners().items():
        _, t = timed(f, params, n, 1, repeat=args.repeat)
        print(f"    {name:<32s}  {t / n * 1e6:7.1f} µs per episode   ratio {t / t_fixed:5.2f}x "
              f"(target ≤ 2x: {'met' if t <= 2 * t_fixed else 'NOT met'})")

    search = lambda: lob.cross_entropy_search(params, n_iterations=4, population=25,  # noqa: E731
                                              n_eval_episodes=200, seed=1, n_workers=1)
    search()
    result, t = timed(search, repeat=args.repeat)
    print(f"    {'cross-entropy search':<32s}  {t / result.n_episodes * 1e6:7.1f} µs per simulated episode   "
          f"ratio {t / result.n_episodes / (t_fixed / n):5.2f}x (one thread; it only evaluates)")

    import mmcourse.envs  # noqa: F401  (registers the environments)
    import gymnasium as gym
    print(f"(b) gymnasium environments, {args.env_episodes} episodes of random actions (wall s)")
    cs_env = gym.make("mmcourse/ChanShelton-v0").unwrapped
    per_step(cs_env, 2, 0)
    t_env = per_step(cs_env, args.env_episodes, 1)
    _, t_pkg = timed(cs.evaluate_policy, cs.threshold_policy(2), None, 20_000, seed=1, repeat=args.repeat)
    t_pkg /= 20_000 * cs.MarketParams().T
    print(f"    ChanShelton-v0     {t_env * 1e6:7.1f} µs per step; compiled package "
          f"{t_pkg * 1e9:6.1f} ns per step ({t_env / t_pkg:,.0f}x)")
    lob_env = gym.make("mmcourse/LimitOrderBook-v0").unwrapped
    per_step(lob_env, 2, 0)
    t_env = per_step(lob_env, args.env_episodes, 1)
    t_pkg = t_fixed / (n * (params.T - 1))
    print(f"    LimitOrderBook-v0  {t_env * 1e6:7.1f} µs per step; compiled package "
          f"{t_pkg * 1e6:6.2f} µs per step ({t_env / t_pkg:,.0f}x)")


if __name__ == "__main__":
    main()
