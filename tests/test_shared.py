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


def test_spawn_generators_are_independent_and_reproducible():
    from mmcourse.core import spawn_generators
    a = [g.random() for g in spawn_generators(7, 3)]
    assert a == [g.random() for g in spawn_generators(7, 3)]
    assert len(set(a)) == 3
    # child k of an int seed is default_rng(SeedSequence(seed).spawn(n)[k]), as the chapters say
    assert a[1] == np.random.default_rng(np.random.SeedSequence(7).spawn(3)[1]).random()
    g = np.random.default_rng(1)
    assert [c.random() for c in spawn_generators(g, 2)] != [c.random() for c in spawn_generators(g, 2)]


def test_run_parallel_keeps_the_order_and_raises_the_first_error():
    from mmcourse.core import run_parallel
    assert run_parallel(lambda x, y: x * y, [(k, 2) for k in range(10)], n_workers=3) == \
        [2 * k for k in range(10)]
    with pytest.raises(ZeroDivisionError):
        run_parallel(lambda x: 1 / x, [(1,), (0,)], n_workers=2)
    with pytest.raises(ValueError, match="n_workers"):
        run_parallel(lambda: 0, [(), ()], n_workers=0)


def test_schedules_name_their_parameters():
    from mmcourse.core import alpha_schedule, epsilon_schedule
    eps = epsilon_schedule(10, 1.0, 0.0, 0.5)
    assert eps[0] == 1.0 and eps[5:].tolist() == [0.0] * 5 and np.all(np.diff(eps[:6]) < 0)
    alphas = alpha_schedule(5, 0.5, 0.005)
    assert alphas[0] == 0.5 and np.isclose(alphas[-1], 0.005) and np.allclose(alphas[1:] / alphas[:-1], 0.1 ** 0.5)
    with pytest.raises(ValueError, match="n_episodes"):
        epsilon_schedule(0)


def test_the_figure_helpers_draw_books_and_depth_tables():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mmcourse import lob
    from mmcourse.plotting import plot_book, plot_depths
    book = lob.Book(ask=102, spread=2, bid_volumes=(0, 3, 5, 6, 4, 2, 1, 1, 1, 2),
                    ask_volumes=(0, 2, 4, 7, 5, 3, 2, 1, 1, 1))
    fig, ax = plt.subplots()
    assert plot_book(ax, book, mark=100, mm_orders=[(99, 5), (103, 5)]) is ax
    assert len(ax.patches) == 10 + 10 + 2 + 1    # both sides' levels, two own orders, the shaded price
    plt.close(fig)
    depths = np.ones((4, 7, 2), dtype=int)
    depths[:, :, 1] = 3
    fig = plot_depths(lob.GreedyPolicy(depths), "test")
    images = [a.images[0] for a in fig.axes if a.images]
    assert len(images) == 2 and images[1].get_array().max() == 3 and images[0].get_clim() == (0.5, 5.5)
    plt.close(fig)
