"""The shared pieces: Monte-Carlo estimates, seeds and parameter checks."""

import numpy as np
import pytest

from mmcourse import Estimate
from mmcourse.core.checks import check_int, check_real
from mmcourse.core.seeding import make_rng


def test_confidence_intervals_cover_the_true_mean_at_their_level():
    # For N(0, 1) samples of 50 the studentised mean is t-distributed with 49 degrees of
    # freedom, so the normal 95 % interval covers 0 with probability p = P(|t_49| < 1.96).
    # The number of 2,000 intervals that cover it is Binomial(2000, p).
    from scipy.stats import t
    p = 1 - 2 * t.sf(1.959964, df=49)
    rng = np.random.default_rng(0)
    covered = sum(lo <= 0.0 <= hi for lo, hi in (Estimate(rng.normal(size=50)).ci for _ in range(2000)))
    assert abs(covered - 2000 * p) < 4 * np.sqrt(2000 * p * (1 - p))


def test_estimate_is_read_only_and_needs_two_samples():
    est = Estimate([1.0, 2.0, 3.0])
    assert (est.n, est.mean, est.std) == (3, 2.0, 1.0)
    with pytest.raises(ValueError):
        est.samples[0] = 5.0
    with pytest.raises(ValueError, match="samples"):
        Estimate([1.0])
    assert "mean=2.0000" in repr(est)


def test_make_rng_accepts_ints_sequences_and_generators():
    g = np.random.default_rng(3)
    assert make_rng(g) is g
    assert make_rng(3).random() == np.random.default_rng(3).random()
    ss = np.random.SeedSequence(4)
    assert make_rng(ss).random() == np.random.default_rng(np.random.SeedSequence(4)).random()


@pytest.mark.parametrize("value", [0, -1, 2.5, "3", True, None])
def test_check_int_names_the_parameter_and_range(value):
    with pytest.raises(ValueError, match=r"n_episodes must be an integer ≥ 1"):
        check_int("n_episodes", value, low=1)


@pytest.mark.parametrize("value", [-0.1, 1.1, float("nan"), float("inf"), "0.5", False])
def test_check_real_names_the_parameter_and_range(value):
    with pytest.raises(ValueError, match=r"alpha must be .*\[0, 1\]"):
        check_real("alpha", value, 0, 1)


def test_checks_return_normalised_values():
    assert check_int("T", 5.0, low=1) == 5 and isinstance(check_int("T", np.int64(5)), int)
    assert check_real("x", np.float32(0.5), 0, 1) == 0.5
