"""The reference of on-device training: plain numpy, float32, the same samples in the same order and the
same operations as docs/training.md. The firmware's updates are tested against it, and attacks replay it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.train.config import ClipMode, NoiseKind, NoiseMode, Sparsify, TrainConfig
from edgeleak.train.defenses import clip_scale, encode_decode, global_norm, grid_noise, top_k_indices
from edgeleak.train.dgauss import GeneratorWords, Words


@dataclass(frozen=True)
class OracleRound:
    delta: tuple[np.ndarray, ...]  # per tensor (W0, b0, W1, b1, ...), flattened, as the server decodes it
    pre_clip_norm: float
    loss: float  # mean loss of the last batch, before its step
    steps: int
    norm_ok: bool = True  # False when the grid's exact norm check failed (zeros were noised)


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


def _split(flat: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
    out, at = [], 0
    for t in like:
        out.append(flat[at:at + len(t)].astype(np.float32))
        at += len(t)
    return out


def train_round(layers: list[DenseLayer], x: np.ndarray, y: np.ndarray, config: TrainConfig,
                rng: np.random.Generator | None = None, words: Words | None = None) -> OracleRound:
    """One round from global weights ``layers`` on features ``x`` (N, F) and labels ``y``.

    Gaussian noise with σ > 0 follows the device exactly: the grid, the clip at C_eff, the rounding and the
    discrete Gaussian draws in the device's order, from ``words`` (e.g. ``ChaChaWords(seed)`` to reproduce a
    seeded testing build) or from ``rng``."""
    from edgeleak.privacy.grid import make_grid

    shapes = [(layer.weights.shape[1], layer.weights.shape[0]) for layer in layers]
    theta0 = flatten_layers(layers)
    velocity = [np.zeros_like(p) for p in theta0]
    delta = [np.zeros_like(p) for p in theta0]
    lr, mu = np.float32(config.learning_rate), np.float32(config.momentum)
    grid = None
    if config.noise_kind == NoiseKind.GAUSSIAN and config.noise_multiplier > 0:
        grid = make_grid(config.clip_norm, config.noise_multiplier, sum(len(p) for p in theta0))
        if grid is None:
            raise ValueError("the noise multiplier and clip norm do not fit the device's noise grid")
        if words is None:
            if rng is None:
                raise ValueError("the oracle needs an rng or a word stream to simulate noise")
            words = GeneratorWords(rng)
    dpsgd = grid is not None and config.noise_mode == NoiseMode.STEP
    clip = grid.clip_eff if grid is not None else config.clip_norm
    schedule = batch_schedule(len(x), config)
    loss = 0.0
    for batch in schedule:
        params = [(p0 + d).astype(np.float32) for p0, d in zip(theta0, delta)]  # the step's weights: θ = θ_0 + d
        total = [np.zeros_like(p) for p in params]
        losses = []
        for i in batch:
            g, l_i = example_gradient(params, shapes, x[i], int(y[i]))
            losses.append(l_i)
            if config.clip_mode == ClipMode.PER_EXAMPLE:
                norm = global_norm(g)
                factor = clip_scale(norm, clip) if math.isfinite(norm) or not dpsgd else np.float32(0)
                g = [(t * factor).astype(np.float32) if math.isfinite(norm) or not dpsgd else np.zeros_like(t) for t in g]
            total = [(a + b).astype(np.float32) for a, b in zip(total, g)]
        count = np.float32(len(batch))
        if dpsgd:
            flat = np.concatenate(total)
            bound = np.float32(count * np.float32(grid.sens))
            noisy, _ = grid_noise(flat, grid, np.float32(1.0), bound, False, words)
            inv_count = np.float32(np.float32(1.0) / count)
            for k, t in enumerate(_split(noisy, params)):
                velocity[k] = (mu * velocity[k] + (t * inv_count).astype(np.float32)).astype(np.float32)
                delta[k] = (delta[k] + (-lr * velocity[k]).astype(np.float32)).astype(np.float32)
            loss = float(np.mean(losses))
            continue
        if config.noise_mode == NoiseMode.STEP and config.noise_kind != NoiseKind.NONE:
            scale = config.noise_multiplier * config.clip_norm
            total = [(t + _noise(rng, config.noise_kind, scale, len(t))).astype(np.float32) for t in total]
        for k in range(len(params)):
            grad = (total[k] / count).astype(np.float32)
            velocity[k] = (mu * velocity[k] + grad).astype(np.float32)
            delta[k] = (delta[k] + (-lr * velocity[k]).astype(np.float32)).astype(np.float32)
        loss = float(np.mean(losses))
    pre_clip = global_norm(delta)
    norm_ok = True
    if grid is not None and config.noise_mode == NoiseMode.UPDATE:
        noisy, norm_ok = grid_noise(np.concatenate(delta), grid, clip_scale(pre_clip, grid.clip_eff),
                                    np.float32(grid.sens), True, words)
        delta = _split(noisy, delta)
    elif grid is None:
        if config.clip_mode == ClipMode.UPDATE:
            factor = clip_scale(pre_clip, config.clip_norm)
            delta = [(d * factor).astype(np.float32) for d in delta]
        if config.noise_mode == NoiseMode.UPDATE and config.noise_kind not in (NoiseKind.NONE, NoiseKind.GAUSSIAN):
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
    return OracleRound(tuple(sent), pre_clip, loss, len(schedule), norm_ok)
