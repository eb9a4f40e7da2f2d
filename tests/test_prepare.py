import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from edgeleak.quantize import prepare


@given(st.floats(min_value=1e-9, max_value=1e4, allow_nan=False, allow_infinity=False))
def test_quantize_multiplier_reconstructs_the_real_value(real):
    m, shift = prepare.quantize_multiplier(real)
    assert (1 << 30) <= m < (1 << 31)
    assert math.isclose(m * 2.0 ** (shift - 31), real, rel_tol=2 ** -30)


def test_quantize_multiplier_rounds_halves_away_from_zero_and_renormalises():
    # q * 2^31 just below 2^31 rounds up to 2^31 and must renormalise to 2^30 with shift + 1.
    m, shift = prepare.quantize_multiplier(1.0 - 2.0 ** -33)
    assert (m, shift) == (1 << 30, 1)
    assert prepare.quantize_multiplier(0.0) == (0, 0)
    assert prepare.quantize_multiplier(2.0 ** -40) == (0, 0)  # flushed, as TFLite does below 2^-31


def test_activation_ranges_fold_relu_and_relu6():
    assert prepare.activation_range_int8("NONE", 0.1, 5) == (-128, 127)
    assert prepare.activation_range_int8("RELU", 0.1, -20) == (-20, 127)
    lo, hi = prepare.activation_range_int8("RELU6", 0.05, -128)
    assert (lo, hi) == (-128, -8)  # 6 / 0.05 = 120 -> -128 + 120
    with pytest.raises(ValueError):
        prepare.activation_range_int8("TANH", 0.1, 0)


@pytest.mark.parametrize("padding,in_size,k,stride,out,lead", [
    ("SAME", 100, 5, 1, 100, 2), ("SAME", 100, 2, 2, 50, 0), ("SAME", 7, 3, 2, 4, 1),
    ("VALID", 100, 5, 1, 96, 0), ("VALID", 7, 3, 2, 3, 0),
])
def test_padding_matches_tensorflow_shapes(padding, in_size, k, stride, out, lead):
    assert prepare.output_size(padding, in_size, k, stride, 1) == out
    assert prepare.padding_amount(padding, in_size, k, stride, 1) == lead


def test_softmax_params_bound_the_input_difference():
    multiplier, left_shift, diff_min = prepare.softmax_params_int8(1.0, 0.1)
    assert (1 << 30) <= multiplier < (1 << 31) and left_shift >= 0
    # diff_min * scale-to-Q5.26 must stay inside the representable range of the rescaled difference.
    assert diff_min < 0
    assert -diff_min * multiplier * 2.0 ** (left_shift - 31) <= 31 * 2 ** 26 + 1


def test_effective_scale_uses_float32_inputs():
    s = prepare.effective_scale(0.1, 0.2, 0.3)
    expected = float(np.float64(np.float32(0.1)) * np.float64(np.float32(0.2)) / np.float64(np.float32(0.3)))
    assert s == expected
