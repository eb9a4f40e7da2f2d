"""Aggregation and evaluation of the global head (pure functions)."""

from __future__ import annotations

import numpy as np

from edgeleak.core.head import DenseLayer


def fedavg(global_params: list[np.ndarray], updates: list[tuple[int, list[np.ndarray]]]) -> list[np.ndarray]:
    """``θ + Σ n_k d_k / Σ n_k``: the sample-weighted mean of the updates added to the global weights."""
    total = sum(n for n, _ in updates)
    if total == 0:
        return [p.copy() for p in global_params]
    return [(p + sum(np.float64(n) * d[k] for n, d in updates) / total).astype(np.float32)
            for k, p in enumerate(global_params)]


def layers_from_params(params: list[np.ndarray], shapes: list[tuple[int, int]]) -> list[DenseLayer]:
    """Flat per-tensor parameters back to dense layers; shapes are ``(in, out)`` per layer."""
    return [DenseLayer(params[2 * l].reshape(out, inp), params[2 * l + 1]) for l, (inp, out) in enumerate(shapes)]


def predict(layers: list[DenseLayer], features: np.ndarray) -> np.ndarray:
    """Class predictions of the float head on feature vectors ``(n, F)``."""
    h = features.astype(np.float32)
    for k, layer in enumerate(layers):
        h = h @ layer.weights.T + layer.bias
        if k < len(layers) - 1:
            h = np.maximum(h, 0)
    return np.argmax(h, axis=1)


def accuracy(layers: list[DenseLayer], features: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predict(layers, features) == labels)) if len(labels) else 0.0
