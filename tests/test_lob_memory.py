"""Part II keeps per-episode summaries, never every book event: memory does not grow with
the number of events, only by a few numbers per episode."""

import subprocess
import sys

import pytest

from mmcourse import lob


def test_training_history_and_evaluation_hold_per_episode_summaries():
    res = lob.q_learning(n_episodes=200, seed=1)
    history = res.history_frame()
    assert len(history) == 200                      # one row per episode (~480 events each)
    assert lob.evaluate_policy(lob.constant_policy(2), n_episodes=50, seed=1).samples.shape == (50,)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_ten_times_more_training_costs_almost_no_memory():
    # VmHWM is this address space's peak resident memory. 18,000 more episodes hold about
    # 8.6 million book events; keeping them would cost hundreds of MB, the per-episode
    # history (a few floats per episode) well under 1 MB.
    code = (
        "from mmcourse import lob\n"
        "def peak_mb():\n"
        "    line = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    return int(line.split()[1]) / 1024\n"
        "lob.q_learning(n_episodes=2_000, seed=1)\n"
        "lob.evaluate_policy(lob.constant_policy(2), n_episodes=2_000, seed=1)\n"
        "before = peak_mb()\n"
        "lob.q_learning(n_episodes=20_000, seed=1)\n"
        "lob.evaluate_policy(lob.constant_policy(2), n_episodes=20_000, seed=1)\n"
        "print(before, peak_mb())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = (float(x) for x in out.stdout.split())
    assert after - before < 10
