"""The reference of on-device training: plain numpy, float32, the same samples in the same order and the
same operations as docs/training.md. The firmware's updates are tested against it, and attacks replay it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeleak.quantize.artifact import DenseLayer
from edgeleak.train.config import ClipMode, NoiseKind, NoiseMode, Sparsify, TrainConfig
from edgeleak.train.defenses import clip_scale, encode_decode, global_norm, top_k_indices


@dataclass(frozen=True)
class OracleRound:
    delta: tuple[np.ndarray, ...]  # per tensor (W0, b0, W1, b1, ...), flattened, as the server decodes it
    pre_clip_norm: float
    loss: float  # mean loss of the last batch, before its step
    steps: int


def features_from_cut(cut_int8: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The head's float input from the int8 cut tensor: ``(q - z) * s`` in float32."""
    return ((cut_int8.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)).astype(np.float32)


def batch_schedule(n_samples: int, config: TrainConfig) -> list[list[int]]:
    """Sample indices of every step, in order."""
    if n_samples < 1:
        raise ValueError("a round needs at least one sample")
    b = config.batch_size
    if config.local_steps > 0:
        width = min(b, n_samples)
        return [[(k * b + j) % n_samples for j in range(width)] for k in range(config.local_steps)]
    per_epoch = [list(range(start, min(start + b, n_samples))) for start in range(0, n_samples, b)]
    return [batch for _ in range(config.epochs) for batch in per_epoch]


def flatten_layers(layers: list[DenseLayer]) -> list[np.ndarray]:
    out = []
    for layer in layers:
        out += [layer.weights.astype(np.float32).reshape(-1).copy(), layer.bias.astype(np.float32).copy()]
    return out


def example_gradient(params: list[np.ndarray], shapes: list[tuple[int, int]], x: np.ndarray, y: int) -> tuple[list[np.ndarray], float]:
    """Gradient of softmax cross-entropy for one sample, per tensor (flattened), and its loss."""
    weights = [params[2 * l].reshape(shapes[l][1], shapes[l][0]) for l in range(len(shapes))]
    biases = [params[2 * l + 1] for l in range(len(shapes))]
    activations = [x.astype(np.float32)]
    pre = []
    for l, (w, b) in enumerate(zip(weights, biases)):
        h = (w @ activations[-1] + b).astype(np.float32)
        pre.append(h)
        if l < len(weights) - 1:
            activations.append(np.maximum(h, np.float32(0)).astype(np.float32))
    logits = pre[-1]
    shifted = (logits - logits.max()).astype(np.float32)
    e = np.exp(shifted).astype(np.float32)
    p = (e / e.sum(dtype=np.float32)).astype(np.float32)
    loss = float(-np.log(max(p[y], np.float32(1e-30))))
    delta = p.copy()
    delta[y] -= np.float32(1.0)
    grads: list[np.ndarray] = [None] * (2 * len(shapes))  # type: ignore[list-item]
    for l in range(len(shapes) - 1, -1, -1):
        grads[2 * l] = np.outer(delta, activations[l]).astype(np.float32).reshape(-1)
        grads[2 * l + 1] = delta.astype(np.float32)
        if l > 0:
            delta = ((weights[l].T @ delta) * (pre[l - 1] > 0)).astype(np.float32)
    return grads, loss


def _noise(rng: np.random.Generator | None, kind: NoiseKind, scale: float, n: int) -> np.ndarray:
    if rng is None:
        raise ValueError("the oracle needs an rng to simulate noise")
    if kind == NoiseKind.GAUSSIAN:
        return rng.normal(0.0, scale, n).astype(np.float32)
    return rng.laplace(0.0, scale, n).astype(np.float32)


def train_round(layers: list[DenseLayer], x: np.ndarray, y: np.ndarray, config: TrainConfig,
                rng: np.random.Generator | None = None) -> OracleRound:
    """One round from global weights ``layers`` on features ``x`` (N, F) and labels ``y``."""
    shapes = [(layer.weights.shape[1], layer.weights.shape[0]) for layer in layers]
    params = flatten_layers(layers)
    velocity = [np.zeros_like(p) for p in params]
    delta = [np.zeros_like(p) for p in params]
    lr, mu = np.float32(config.learning_rate), np.float32(config.momentum)
    schedule = batch_schedule(len(x), config)
    loss = 0.0
    for batch in schedule:
        total = [np.zeros_like(p) for p in params]
        losses = []
        for i in batch:
            g, l_i = example_gradient(params, shapes, x[i], int(y[i]))
            losses.append(l_i)
            if config.clip_mode == ClipMode.PER_EXAMPLE:
                factor = clip_scale(global_norm(g), config.clip_norm)
                g = [(t * factor).astype(np.float32) for t in g]
            total = [(a + b).astype(np.float32) for a, b in zip(total, g)]
        if config.noise_mode == NoiseMode.STEP and config.noise_kind != NoiseKind.NONE:
            scale = config.noise_multiplier * config.clip_norm
            total = [(t + _noise(rng, config.noise_kind, scale, len(t))).astype(np.float32) for t in total]
        count = np.float32(len(batch))
        for k in range(len(params)):
            grad = (total[k] / count).astype(np.float32)
            velocity[k] = (mu * velocity[k] + grad).astype(np.float32)
            step = (-lr * velocity[k]).astype(np.float32)
            params[k] = (params[k] + step).astype(np.float32)
            delta[k] = (delta[k] + step).astype(np.float32)
        loss = float(np.mean(losses))
    pre_clip = global_norm(delta)
    if config.clip_mode == ClipMode.UPDATE:
        factor = clip_scale(pre_clip, config.clip_norm)
        delta = [(d * factor).astype(np.float32) for d in delta]
    if config.noise_mode == NoiseMode.UPDATE and config.noise_kind != NoiseKind.NONE:
        scale = config.noise_multiplier * config.clip_norm
        delta = [(d + _noise(rng, config.noise_kind, scale, len(d))).astype(np.float32) for d in delta]
    sent = []
    for d in delta:
        if config.sparsify == Sparsify.TOP_K:
            keep = np.zeros(len(d), bool)
            keep[top_k_indices(d, config.sparsify_fraction)] = True
            d = np.where(keep, d, np.float32(0)).astype(np.float32)
        elif config.sparsify == Sparsify.RANDOM:
            if rng is None:
                raise ValueError("the oracle needs an rng to simulate random masking")
            keep = np.zeros(len(d), bool)
            keep[rng.choice(len(d), max(1, math.ceil(config.sparsify_fraction * len(d))), replace=False)] = True
            d = np.where(keep, d, np.float32(0)).astype(np.float32)
        sent.append(encode_decode(d, config.encoding))
    return OracleRound(tuple(sent), pre_clip, loss, len(schedule))
