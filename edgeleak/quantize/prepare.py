"""TFLite Micro's prepare-time integer parameters, computed on the host (pure functions).

The firmware stores these results instead of recomputing them, so each function here follows the
corresponding TFLite routine exactly: ``QuantizeMultiplier``, ``CalculateActivationRangeQuantized``,
``ComputePaddingHeightWidth``, ``PreprocessSoftmaxScaling`` and ``CalculateInputRadius``.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5


def _round_half_away(x: float) -> float:
    """C's ``round``: halves go away from zero (Python's ``round`` goes to even)."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Q31 multiplier and signed shift (positive = left) with ``real ~= m * 2**(shift - 31)``."""
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = int(_round_half_away(q * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def effective_scale(input_scale: float, weight_scale: float, output_scale: float) -> float:
    """``s_in * s_w / s_out`` in double from float32 scales, in TFLite's order of operations."""
    return float(np.float64(np.float32(input_scale)) * np.float64(np.float32(weight_scale)) / np.float64(np.float32(output_scale)))


def _quantize_value(value: float, scale: float, zero_point: int) -> int:
    tmp = np.float32(value) / np.float32(scale)  # float32 division, as the C++ does
    return int(zero_point + int(_round_half_away(float(tmp))))


def activation_range_int8(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """Clamp bounds after a fused activation (``NONE``, ``RELU``, ``RELU6``, ``RELU_N1_TO_1``)."""
    if activation == "NONE":
        return INT8_MIN, INT8_MAX
    if activation == "RELU":
        return max(INT8_MIN, _quantize_value(0.0, scale, zero_point)), INT8_MAX
    if activation == "RELU6":
        return (max(INT8_MIN, _quantize_value(0.0, scale, zero_point)),
                min(INT8_MAX, _quantize_value(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(INT8_MIN, _quantize_value(-1.0, scale, zero_point)),
                min(INT8_MAX, _quantize_value(1.0, scale, zero_point)))
    raise ValueError(f"fused activation {activation} has no int8 clamp")


def output_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective) // stride


def padding_amount(padding: str, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    """Leading padding (top or left) as TFLite computes it; the odd extra cell goes at the end."""
    out = output_size(padding, in_size, filter_size, stride, dilation)
    effective = (filter_size - 1) * dilation + 1
    total = max(0, (out - 1) * stride + effective - in_size)
    return total // 2


def softmax_params_int8(beta: float, input_scale: float) -> tuple[int, int, int]:
    """``(input_multiplier, input_left_shift, diff_min)`` for int8 -> int8 softmax."""
    bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(float(beta) * float(np.float32(input_scale)) * float(1 << (31 - bits)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise ValueError("softmax input scale too small for int8 softmax")
    max_input_rescaled = 1.0 * ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << left_shift)
    diff_min = -int(math.floor(max_input_rescaled))
    return multiplier, left_shift, diff_min
