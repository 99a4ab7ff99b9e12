"""Part I speed: the compiled package against the plain-Python reference, on the same work.

Runs, in one process and from the same seeds:
  (a) Monte-Carlo evaluation of π_2 over 100,000 days;
  (b) SARSA for 5,000 days with the slides' settings;
  (c) the peak memory of a fresh process that evaluates 100,000 days (target: under 200 MB),
      once loading the compiled code from numba's cache and once compiling it from scratch;
and prints both times and their ratio (target: at least 100x each).  Times are CPU seconds
of this process (``time.process_time``), so other work on the machine does not tilt the
ratio; the package's time is the best of three runs.  Compilation is timed
separately (numba caches it on disk, so later processes skip most of it).  Both sides give
identical numbers, which the script checks before timing means anything.

    python benchmarks/bench_chan_shelton.py [--episodes N] [--sarsa-episodes N]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

from mmcourse import chan_shelton as cs
from mmcourse.chan_shelton import reference as ref

from _timing import timed  # benchmarks/_timing.py


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=100_000)
    ap.add_argument("--sarsa-episodes", type=int, default=5_000)
    args = ap.parse_args()
    params, policy = cs.MarketParams(), cs.threshold_policy(2)

    _, t_compile = timed(lambda: (cs.evaluate_policy(policy, params, 2, seed=0), cs.sarsa(params, 1, seed=0)))
    print(f"first calls (compilation or cache load): {t_compile:.2f} s")

    est, t_pkg = timed(cs.evaluate_policy, policy, params, args.episodes, seed=1, repeat=3)
    py, t_py = timed(ref.evaluate, policy, params, args.episodes, np.random.default_rng(1))
    assert np.array_equal(est.samples, np.array(py)), "package and reference disagree"
    print(f"(a) Monte-Carlo evaluation, {args.episodes:,} days of {params.T} steps")
    print(f"    package {t_pkg:8.3f} s   python {t_py:8.2f} s   ratio {t_py / t_pkg:8.0f}x   "
          f"(v = {est.mean:.4f} ± {est.stderr:.4f})")

    res, t_pkg = timed(cs.sarsa, params, args.sarsa_episodes, 0.01, 0.0, 0.1, seed=2, repeat=3)
    q_py, t_py = timed(ref.sarsa, params, args.sarsa_episodes, 0.01, 0.0, 0.1, np.random.default_rng(2))
    assert np.array_equal(res.q.to_numpy(), np.array(q_py)), "package and reference disagree"
    print(f"(b) SARSA, {args.sarsa_episodes:,} days")
    print(f"    package {t_pkg:8.3f} s   python {t_py:8.2f} s   ratio {t_py / t_pkg:8.0f}x   "
          f"(greedy policy {res.policy})")
    memory()


MEMORY_PROBE = """
from mmcourse import chan_shelton as cs
cs.evaluate_policy(cs.threshold_policy(2), n_episodes=100_000, seed=1)
print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])
"""


def peak_memory_mb(cache_dir=None):
    """Peak resident memory (VmHWM, Linux) of a fresh process evaluating 100,000 days."""
    env = dict(os.environ, **({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {}))
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True,
                         check=True, env=env)
    return int(out.stdout) / 1024


def memory():
    if not sys.platform.startswith("linux"):
        return
    with tempfile.TemporaryDirectory() as empty:
        cold = peak_memory_mb(empty)
    warm = peak_memory_mb()
    print("(c) peak memory of a process evaluating 100,000 days: "
          f"{warm:.0f} MB loading compiled code, {cold:.0f} MB compiling it first")


if __name__ == "__main__":
    main()
