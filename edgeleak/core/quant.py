"""The one float→int8 rule, as the firmware and TFLite's QUANTIZE kernel apply it.

``q = clamp(round(x / scale) + zero_point, -128, 127)`` with the quotient taken in float32 (as ``input[i] / scale`` is
on the device) and rounded half away from zero (C's ``roundf``, TFLite's ``TfLiteRound``). Host and device therefore
turn the same float window into the same int8 tensor, bit for bit.
"""

from __future__ import annotations

import numpy as np


def round_half_away(r: np.ndarray) -> np.ndarray:
    """``roundf``: halves go away from zero (numpy's ``round`` sends them to even)."""
    r = np.asarray(r, np.float64)  # exact for float32 inputs: |r| + 0.5 cannot round up in float64
    return np.sign(r) * np.floor(np.abs(r) + 0.5)


def quantize_int8(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float values to int8 with a tensor's ``scale`` and ``zero_point``; the shape is kept."""
    quotient = np.asarray(x, np.float32) / np.float32(scale)
    return np.clip(round_half_away(quotient) + int(zero_point), -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 values back to the reals they stand for, ``(q - zero_point) * scale``, in float64."""
    return (np.asarray(q, np.float64) - int(zero_point)) * float(scale)
