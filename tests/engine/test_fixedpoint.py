"""The fixed-point helpers against Python transcriptions of TFLite's formulas."""

from __future__ import annotations

import ctypes

from hypothesis import given, settings, strategies as st

from .tflm_ref import INT32_MAX, INT32_MIN, mbqm, rdbpot, srdhm

i32 = st.integers(INT32_MIN, INT32_MAX)
edge_i32 = st.one_of(i32, st.sampled_from([INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX, 1 << 30, -(1 << 30)]))
multiplier = st.one_of(st.integers(1 << 30, INT32_MAX), st.integers(0, INT32_MAX))


@settings(max_examples=1500, deadline=None)
@given(a=edge_i32, b=edge_i32)
def test_srdhm(engine, a, b):
    assert engine.t_srdhm(a, b) == srdhm(a, b)


@settings(max_examples=1500, deadline=None)
@given(x=edge_i32, e=st.integers(0, 31))
def test_rdbpot(engine, x, e):
    assert engine.t_rdbpot(x, e) == rdbpot(x, e)


@settings(max_examples=1500, deadline=None)
@given(x=edge_i32, m=multiplier, s=st.integers(-31, 30))
def test_mbqm(engine, x, m, s):
    assert engine.t_mbqm(x, m, s) == mbqm(x, m, s)


@settings(max_examples=1000, deadline=None)
@given(x=st.integers(-(1 << 20), 1 << 20), m=multiplier, s=st.integers(-31, 7))
def test_mbqm_accumulator_range(engine, x, m, s):
    """Typical accumulator magnitudes, where no saturation is involved."""
    assert engine.t_mbqm(x, m, s) == mbqm(x, m, s)


def _srmbpot(x: int, e: int) -> int:
    if e > 0:
        threshold = (1 << (31 - e)) - 1
        if x > threshold:
            return INT32_MAX
        if x < -threshold:
            return INT32_MIN
        return x << e
    return rdbpot(x, -e) if e < 0 else x


@settings(max_examples=1000, deadline=None)
@given(x=edge_i32, e=st.integers(-31, 30))
def test_saturating_rounding_multiply_by_pot(engine, x, e):
    assert engine.t_srmbpot(x, e) == _srmbpot(x, e)


@settings(max_examples=500, deadline=None)
@given(a=st.integers(INT32_MIN, 0))
def test_exp_on_negative_values_is_close_to_exp(engine, a):
    """Q5.26 input, Q0.31 output: within a few ulps of 2^-31 of the true exp (gemmlowp's accuracy)."""
    import math

    got = engine.t_exp_on_negative_values(a, 5) / 2**31
    want = math.exp(a / 2**26)
    assert abs(got - want) < 2e-7 + 1e-6 * want


@settings(max_examples=500, deadline=None)
@given(a=st.integers(0, INT32_MAX))
def test_one_over_one_plus_x(engine, a):
    got = engine.t_one_over_one_plus_x(a) / 2**31
    assert abs(got - 1.0 / (1.0 + a / 2**31)) < 1e-8


@settings(max_examples=500, deadline=None)
@given(x=st.integers(1 << 19, INT32_MAX))
def test_get_reciprocal(engine, x):
    bits = ctypes.c_int32(0)
    r = engine.t_get_reciprocal(x, 12, ctypes.byref(bits))
    real = x / 2**19
    assert abs(r / 2**31 * 2.0 ** -bits.value - 1.0 / real) < 1e-8 / real + 1e-12


def test_crc32_matches_zlib(engine):
    import zlib

    import numpy as np

    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 64, 1000):
        data = rng.integers(0, 256, n, dtype=np.uint8)
        buf = (ctypes.c_uint8 * max(n, 1)).from_buffer_copy(data.tobytes() or b"\0")
        assert engine.el_crc32(0, buf, n) == zlib.crc32(data.tobytes())
    a, b = b"hello ", b"world"
    ba = (ctypes.c_uint8 * len(a)).from_buffer_copy(a)
    bb = (ctypes.c_uint8 * len(b)).from_buffer_copy(b)
    assert engine.el_crc32(engine.el_crc32(0, ba, len(a)), bb, len(b)) == zlib.crc32(a + b)
