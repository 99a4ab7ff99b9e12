"""The compiled code's own PCG64 stream draws numpy's numbers, bit for bit."""

import numpy as np
import pytest
from numba import njit

from mmcourse.core import _pcg64


@njit
def _draws(g, p, n):
    out = np.empty((n, 4))
    for i in range(n):
        out[i, 0] = _pcg64.random(g)
        out[i, 1] = _pcg64.exponential(g, 0.37)
        out[i, 2] = _pcg64.geometric(g, p)
        out[i, 3] = _pcg64.standard_exponential(g)
    return out


@pytest.mark.parametrize("p", [0.02, 0.2, 0.333333333333333, 0.3333333333333334, 0.432, 0.95])
def test_same_numbers_as_numpy(p):
    # 20,000 rounds reach the ziggurat's rare branches (idx 0 and the wedge test) many times
    n = 20_000
    mine, theirs = np.random.default_rng(123), np.random.default_rng(123)
    with _pcg64.stream(mine) as g:
        got = _draws(g, p, n)
    expected = np.array([[theirs.random(), theirs.exponential(0.37), theirs.geometric(p),
                          theirs.standard_exponential()] for _ in range(n)])
    assert np.array_equal(got, expected)
    # after the block the Generator goes on where the compiled code stopped
    assert mine.bit_generator.state == theirs.bit_generator.state
    assert mine.random() == theirs.random()


def test_other_bit_generators_are_refused():
    with pytest.raises(ValueError, match="PCG64"):
        _pcg64.state(np.random.Generator(np.random.MT19937(1)))
