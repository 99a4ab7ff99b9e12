"""numpy's default random stream (PCG64), drawn inside compiled loops without a call per number.

numba compiles ``rng.random()`` inside a jitted function to a call, through a function
pointer, into numpy's C library: about 6.5 ns per number, and a limit-order-book event
draws two or three. This module advances the same PCG64 generator inline instead (≈ 2 ns
per number), and draws the distributions the order book uses exactly as numpy (and numba)
do, so a seed gives the same numbers either way (the tests check this bit for bit):

* :func:`random`: ``Generator.random()``, (x >> 11) · 2⁻⁵³ of the next 64-bit output x;
* :func:`exponential`: ``Generator.exponential(scale)``, numpy's ziggurat;
* :func:`geometric`: ``Generator.geometric(p)``, numpy's search (p ≥ 1/3) or inversion.

A compiled function gets the generator's state as a ``uint64`` array ``g`` = [state (high,
low 64 bits), increment (high, low)] from :func:`stream`, which writes the advanced state
back into the ``numpy.random.Generator`` when the block ends, so the Generator goes on
where the compiled code stopped.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# numpy's ziggurat tables for the standard exponential, as numba copies them from numpy's
# C source (numba's own rng.exponential uses them).
from numba.np.random._constants import fe_double, ke_double, we_double, ziggurat_exp_r

_MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341   # PCG's 128-bit LCG multiplier
_MASK64 = (1 << 64) - 1
#: numpy's geometric(p) searches the distribution function for p at least this, and inverts
#: it below (numpy's source writes the threshold as this literal).
SEARCH_MIN_P = 0.333333333333333333333333

_jit = njit(cache=True, nogil=True, _nrt=False, error_model="numpy")


@intrinsic
def _step(typingctx, state_hi, state_lo, inc_hi, inc_lo):
    """One PCG64 step in 128-bit integer arithmetic (which numba cannot write itself):
    state ← state × multiplier + increment (mod 2¹²⁸); the output is the XSL-RR of the
    new state, (high ⊕ low) rotated right by the state's top 6 bits. Returns
    (new high, new low, output)."""
    u64 = types.uint64
    sig = types.UniTuple(u64, 3)(u64, u64, u64, u64)

    def codegen(context, builder, signature, args):
        i64, i128 = ir.IntType(64), ir.IntType(128)

        def join(high, low):
            return builder.or_(builder.shl(builder.zext(high, i128), ir.Constant(i128, 64)),
                               builder.zext(low, i128))

        state = builder.add(builder.mul(join(args[0], args[1]), ir.Constant(i128, _MULTIPLIER)),
                            join(args[2], args[3]))
        high = builder.trunc(builder.lshr(state, ir.Constant(i128, 64)), i64)
        low = builder.trunc(state, i64)
        x = builder.xor(high, low)
        rot = builder.lshr(high, ir.Constant(i64, 58))
        out = builder.or_(builder.lshr(x, rot),
                          builder.shl(x, builder.and_(builder.neg(rot), ir.Constant(i64, 63))))
        return context.make_tuple(builder, signature.return_type, [high, low, out])

    return sig, codegen


@_jit
def next_uint64(g):
    """The generator's next 64-bit output (``bit_generator.random_raw()``)."""
    high, low, out = _step(g[0], g[1], g[2], g[3])
    g[0] = high
    g[1] = low
    return out


@_jit
def random(g):
    """Uniform on [0, 1), as ``Generator.random()``."""
    return (next_uint64(g) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@_jit
def _ziggurat_draw(g):
    """One draw of numpy's exponential ziggurat: the layer idx (8 bits) and the candidate
    x = ri · w[idx] from the next 53 bits ri; accepted at once if ri < k[idx]."""
    ri = next_uint64(g) >> np.uint64(3)
    idx = ri & np.uint64(0xFF)
    ri >>= np.uint64(8)
    return ri < ke_double[idx], idx, ri * we_double[idx]


@_jit
def standard_exponential(g):
    """Exp(1), as ``Generator.standard_exponential()`` (numpy's ziggurat). The common case
    (≈ 99 %) is a few instructions, which the compiler inlines where it is called; the
    rest is a call to :func:`_exponential_tail`."""
    accepted, idx, x = _ziggurat_draw(g)
    if accepted:
        return x
    return _exponential_tail(g, idx, x)


@_jit
def _exponential_tail(g, idx, x):
    """numpy's ziggurat from a draw outside the rectangles (layer ``idx``, value ``x``):
    the tail (idx 0) or the wedge test, and on rejection fresh draws."""
    while True:
        if idx == 0:
            return ziggurat_exp_r - np.log1p(-random(g))
        if (fe_double[idx - 1] - fe_double[idx]) * random(g) + fe_double[idx] < np.exp(-x):
            return x
        accepted, idx, x = _ziggurat_draw(g)
        if accepted:
            return x


@_jit
def exponential(g, scale):
    """Exponential with mean ``scale``, as ``Generator.exponential(scale)``."""
    return scale * standard_exponential(g)


@_jit
def geometric(g, p):
    """The number of Bernoulli(p) trials up to the first success, as
    ``Generator.geometric(p)``."""
    if p >= SEARCH_MIN_P:
        k = 1
        total = prod = p
        q = 1.0 - p
        u = random(g)
        while u > total:
            prod *= q
            total += prod
            k += 1
        return k
    return np.int64(np.ceil(-standard_exponential(g) / np.log1p(-p)))


def state(rng: np.random.Generator) -> np.ndarray:
    """The state of ``rng`` (a PCG64 Generator) as the array the compiled functions take."""
    if type(rng.bit_generator) is not np.random.PCG64:
        raise ValueError("seed must be None, an int, a SeedSequence or a numpy Generator using "
                         f"PCG64 (numpy.random.default_rng), got a Generator using "
                         f"{type(rng.bit_generator).__name__}")
    s = rng.bit_generator.state["state"]
    return np.array([s["state"] >> 64, s["state"] & _MASK64, s["inc"] >> 64, s["inc"] & _MASK64],
                    dtype=np.uint64)


def restore(rng: np.random.Generator, g: np.ndarray) -> None:
    """Set ``rng``'s state to ``g`` (advanced by compiled code)."""
    st = rng.bit_generator.state
    st["state"]["state"] = (int(g[0]) << 64) | int(g[1])
    rng.bit_generator.state = st


@contextmanager
def stream(rng: np.random.Generator):
    """``with stream(rng) as g:`` compiled code draws from ``g``; at the end of the block
    ``rng`` continues after the last number drawn."""
    g = state(rng)
    try:
        yield g
    finally:
        restore(rng, g)
