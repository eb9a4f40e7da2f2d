"""Update-level defenses and encodings as pure functions of float32 arrays (docs/training.md)."""

from __future__ import annotations

import math

import numpy as np

from edgeleak.train.config import Encoding

F16_MAX = 65504.0


def global_norm(tensors: list[np.ndarray]) -> float:
    """L2 norm over every coordinate of every tensor, accumulated in float32 as the device does."""
    total = np.float32(0.0)
    for t in tensors:
        total = np.float32(total + np.float32(np.dot(t.astype(np.float32), t.astype(np.float32))))
    return float(np.sqrt(total))


def clip_scale(norm: float, clip_norm: float) -> np.float32:
    """The factor ``min(1, C / norm)`` (1 when the norm is 0)."""
    if norm <= clip_norm or norm == 0.0:
        return np.float32(1.0)
    return np.float32(np.float32(clip_norm) / np.float32(norm))


def grid_round(flat: np.ndarray, grid, pre_scale: np.float32, bound: np.float32, check_norm: bool) -> tuple[np.ndarray, bool]:
    """The noise-free half of el_grid_noise_f32: q = round_half_away((v·pre_scale)·2^-e), 0 where |x| > bound or
    not finite; all zero when Σq² > B² (with ``check_norm``). Returns the int64 q and whether the check passed."""
    inv = np.float32(math.ldexp(1.0, -grid.exponent))
    with np.errstate(invalid="ignore", over="ignore"):
        x = ((flat.astype(np.float32) * np.float32(pre_scale)).astype(np.float32) * inv).astype(np.float32)
        wide = x.astype(np.float64)
        rounded = np.sign(wide) * np.floor(np.abs(wide) + 0.5)
        q = np.where(np.abs(x) <= bound, rounded, 0.0).astype(np.int64)
    ok = not check_norm or sum(int(v) * int(v) for v in q) <= grid.sens * grid.sens
    return q * (1 if ok else 0), ok


def grid_noise(flat: np.ndarray, grid, pre_scale: np.float32, bound: np.float32, check_norm: bool,
               words) -> tuple[np.ndarray, bool]:
    """Round to the grid, check the norm exactly, add discrete Gaussian noise (firmware el_grid_noise_f32):
    grid_round, then float32((q + n)·2^e) with n drawn from ``words``; also whether the check passed."""
    from edgeleak.train.dgauss import discrete_gaussian_vector

    q, ok = grid_round(flat, grid, pre_scale, bound, check_norm)
    noisy = q + discrete_gaussian_vector(words, grid.scale, len(q))
    return (noisy.astype(np.float32) * np.float32(math.ldexp(1.0, grid.exponent))).astype(np.float32), ok


def top_k_indices(values: np.ndarray, fraction: float) -> np.ndarray:
    """Ascending indices of the ``max(1, ceil(f n))`` largest magnitudes; ties keep the lower index."""
    k = max(1, math.ceil(fraction * len(values)))
    order = np.lexsort((np.arange(len(values)), -np.abs(values)))  # by |v| descending, then index ascending
    return np.sort(order[:k])


def int8_scale(values: np.ndarray) -> np.float32:
    peak = np.float32(np.max(np.abs(values))) if len(values) else np.float32(0)
    return np.float32(peak / np.float32(127.0)) if peak > 0 else np.float32(1.0)


def encode_decode(values: np.ndarray, encoding: Encoding) -> np.ndarray:
    """What the server decodes after the device encodes ``values``."""
    v = values.astype(np.float32)
    if encoding == Encoding.FLOAT32:
        return v
    if encoding == Encoding.FLOAT16:
        return np.clip(v, -F16_MAX, F16_MAX).astype(np.float16).astype(np.float32)
    scale = int8_scale(v)
    ratio = (v / scale).astype(np.float32)
    q = np.clip(np.sign(ratio) * np.floor(np.abs(ratio) + np.float32(0.5)), -127, 127)
    return (q.astype(np.float32) * scale).astype(np.float32)


def encoded_bytes(n_values: int, encoding: Encoding, sparse: bool) -> int:
    """Bytes of one tensor block of UPDATE (header, indices, values, padding)."""
    size = 12 + (2 * n_values if sparse else 0) + n_values * {Encoding.FLOAT32: 4, Encoding.FLOAT16: 2, Encoding.INT8: 1}[encoding]
    return size + (-size) % 4
