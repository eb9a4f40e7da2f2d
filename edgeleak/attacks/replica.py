"""A differentiable replica of the device's round (docs/training.md) in TensorFlow, and the target's view of it.

The first half is pure math: :func:`simulate_round` maps global head weights, candidate features and labels to
the update the device would send (before noise, sparsification and encoding), with the documented batch order,
per-example clipping, momentum SGD with delta accumulation and update clipping, all in float32. It matches
``edgeleak.train.oracle.train_round`` and is differentiable with respect to the features and the labels, which
is what optimisation attacks need.

The second half, :class:`TargetReplica`, binds it to one :class:`AttackInput`: the observed delta, the mask of
coordinates that were sent, and one round per aggregated device (a sum of ``K`` updates is simulated as ``K``
rounds over consecutive groups of candidate samples, all from the same global weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import tensorflow as tf

from edgeleak.attacks.base import AttackInput
from edgeleak.core.head import DenseLayer
from edgeleak.train.config import ClipMode, TrainConfig
from edgeleak.train.oracle import batch_schedule


@dataclass(frozen=True, kw_only=True)
class RoundSpec:
    """The hyperparameters of one device's round and its batch order (sample indices of every step)."""

    learning_rate: float
    momentum: float
    schedule: tuple[tuple[int, ...], ...]
    samples: int
    clip_mode: ClipMode = ClipMode.NONE
    clip_norm: float = 0.0

    def __post_init__(self) -> None:
        if not self.schedule or any(not batch for batch in self.schedule):
            raise ValueError("a round needs at least one step and every step at least one sample")
        if any(not 0 <= i < self.samples for batch in self.schedule for i in batch):
            raise ValueError(f"the schedule indexes samples outside 0..{self.samples - 1}")
        if self.clip_mode != ClipMode.NONE and not self.clip_norm > 0:
            raise ValueError("clipping needs clip_norm > 0")

    @classmethod
    def build(cls, *, samples: int, learning_rate: float, momentum: float = 0.0, batch_size: int = 1,
              local_steps: int = 1, epochs: int = 1, clip_mode: ClipMode = ClipMode.NONE,
              clip_norm: float = 0.0) -> "RoundSpec":
        """The documented batch order for ``local_steps`` steps (or, with ``local_steps=0``, ``epochs`` epochs)."""
        config = TrainConfig(learning_rate=learning_rate, momentum=momentum, batch_size=batch_size,
                             local_steps=local_steps, epochs=epochs)
        schedule = tuple(tuple(b) for b in batch_schedule(samples, config))
        return cls(learning_rate=learning_rate, momentum=momentum, schedule=schedule, samples=samples,
                   clip_mode=ClipMode(clip_mode), clip_norm=clip_norm)

    @classmethod
    def from_config(cls, config: TrainConfig, samples: int) -> "RoundSpec":
        return cls.build(samples=samples, learning_rate=config.learning_rate, momentum=config.momentum,
                         batch_size=config.batch_size, local_steps=config.local_steps, epochs=config.epochs,
                         clip_mode=config.clip_mode, clip_norm=config.clip_norm)

    @property
    def seen(self) -> tuple[int, ...]:
        """Indices of the samples some step used (the others leave no trace in the update)."""
        return tuple(sorted({i for batch in self.schedule for i in batch}))


def head_tensors(layers: Sequence[DenseLayer]) -> list[tuple[tf.Tensor, tf.Tensor]]:
    """``(W [out, in], b [out])`` float32 constants per layer."""
    return [(tf.constant(l.weights, tf.float32), tf.constant(l.bias, tf.float32)) for l in layers]


def head_logits(layers: Sequence[DenseLayer], features: np.ndarray) -> np.ndarray:
    """The head's logits ``(n, classes)`` for features ``(n, F)`` at the given weights."""
    h = np.asarray(features, np.float32)
    for k, layer in enumerate(layers):
        h = h @ layer.weights.T + layer.bias
        if k < len(layers) - 1:
            h = np.maximum(h, 0)
    return h.astype(np.float32)


def _soft(labels: tf.Tensor, classes: int) -> tf.Tensor:
    labels = tf.convert_to_tensor(labels)
    if labels.dtype.is_integer:
        return tf.one_hot(labels, classes, dtype=tf.float32)
    return tf.cast(labels, tf.float32)


def batch_gradient(params: Sequence[tf.Tensor], x: tf.Tensor, y: tf.Tensor, clip_norm: float | None) -> list[tf.Tensor]:
    """Sum over the batch of each sample's softmax cross-entropy gradient (``params`` = W0, b0, W1, b1, ...),
    each sample's gradient scaled by ``min(1, C / ||g_i||)`` when ``clip_norm`` is given. ``y`` are (soft) label
    distributions ``(n, classes)``; the gradient of the logits is ``p - y``."""
    n_layers = len(params) // 2
    acts, pres = [x], []
    for l in range(n_layers):
        h = tf.matmul(acts[-1], params[2 * l], transpose_b=True) + params[2 * l + 1]
        pres.append(h)
        if l < n_layers - 1:
            acts.append(tf.nn.relu(h))
    delta = tf.nn.softmax(pres[-1]) - y
    deltas: list[tf.Tensor] = [None] * n_layers  # type: ignore[list-item]
    for l in range(n_layers - 1, -1, -1):
        deltas[l] = delta
        if l > 0:
            delta = tf.matmul(delta, params[2 * l]) * tf.cast(pres[l - 1] > 0, tf.float32)
    if clip_norm is not None:
        # ||δ aᵀ||² = ||δ||² ||a||²: the per-sample norm without materialising per-sample gradients
        sq = tf.add_n([tf.reduce_sum(tf.square(d), 1) * (tf.reduce_sum(tf.square(a), 1) + 1.0)
                       for d, a in zip(deltas, acts)])
        norm = tf.sqrt(sq)
        c = tf.constant(clip_norm, tf.float32)
        factor = tf.where(norm > c, c / tf.where(norm > c, norm, c), tf.ones_like(norm))
        deltas = [d * factor[:, None] for d in deltas]
    grads = []
    for d, a in zip(deltas, acts):
        grads += [tf.matmul(d, a, transpose_a=True), tf.reduce_sum(d, 0)]
    return grads


def _global_norm(tensors: Sequence[tf.Tensor]) -> tf.Tensor:
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(t)) for t in tensors]))


def simulate_round(layers: Sequence[tuple[tf.Tensor, tf.Tensor]], features: tf.Tensor, labels: tf.Tensor,
                   spec: RoundSpec) -> list[tf.Tensor]:
    """The flattened update per tensor (W0, b0, W1, b1, ...) of one round on ``features`` ``(n, F)`` with integer
    labels ``(n,)`` or label distributions ``(n, classes)``, before noise, sparsification and encoding."""
    params = [t for pair in layers for t in pair]
    x = tf.cast(features, tf.float32)
    y = _soft(labels, int(params[-1].shape[0]))
    lr = tf.constant(spec.learning_rate, tf.float32)
    mu = tf.constant(spec.momentum, tf.float32)
    clip = spec.clip_norm if spec.clip_mode == ClipMode.PER_EXAMPLE else None
    velocity = [tf.zeros_like(p) for p in params]
    delta = [tf.zeros_like(p) for p in params]
    for batch in spec.schedule:
        index = tf.constant(batch, tf.int32)
        total = batch_gradient(params, tf.gather(x, index), tf.gather(y, index), clip)
        count = tf.constant(float(len(batch)), tf.float32)
        velocity = [mu * v + g / count for v, g in zip(velocity, total)]
        steps = [-lr * v for v in velocity]
        params = [p + s for p, s in zip(params, steps)]
        delta = [d + s for d, s in zip(delta, steps)]
    if spec.clip_mode == ClipMode.UPDATE:
        norm = _global_norm(delta)
        c = tf.constant(spec.clip_norm, tf.float32)
        factor = tf.where(norm > c, c / tf.where(norm > c, norm, c), 1.0)
        delta = [d * factor for d in delta]
    return [tf.reshape(d, [-1]) for d in delta]


def simulate_sum(layers: Sequence[tuple[tf.Tensor, tf.Tensor]], features: tf.Tensor, labels: tf.Tensor,
                 specs: Sequence[RoundSpec]) -> list[tf.Tensor]:
    """The sum of several devices' updates from the same global weights; device ``k`` trained on the next
    ``specs[k].samples`` rows of ``features``."""
    total, start = None, 0
    for spec in specs:
        part = simulate_round(layers, features[start:start + spec.samples], labels[start:start + spec.samples], spec)
        total = part if total is None else [a + b for a, b in zip(total, part)]
        start += spec.samples
    return total


# --- the replica of a target ---------------------------------------------------------------------------------


def device_specs(target: AttackInput, *, epochs_mode: bool = False) -> list[RoundSpec]:
    """One round per device summed into the target. ``meta.samples`` is the total over the devices (split evenly
    when the target is an aggregate). The update reports the number of steps, not how the server configured the
    round: by default the steps are taken as ``local_steps``; with ``epochs_mode`` as whole epochs."""
    meta, k = target.meta, max(1, target.aggregated)
    epochs_mode = epochs_mode or meta.epochs > 0  # devices report whether the round ran in epochs
    total = max(k, meta.samples)
    counts = [total // k + (1 if i < total % k else 0) for i in range(k)]
    specs = []
    for n in counts:
        if epochs_mode:
            per_epoch = -(-n // max(1, meta.batch_size))
            if meta.steps % per_epoch:
                raise ValueError(f"{meta.steps} steps are not whole epochs of {n} samples in batches of {meta.batch_size}")
            spec = RoundSpec.build(samples=n, learning_rate=meta.learning_rate, momentum=meta.momentum,
                                   batch_size=meta.batch_size, local_steps=0, epochs=meta.steps // per_epoch,
                                   clip_mode=meta.clip_mode, clip_norm=meta.clip_norm)
        else:
            spec = RoundSpec.build(samples=n, learning_rate=meta.learning_rate, momentum=meta.momentum,
                                   batch_size=meta.batch_size, local_steps=max(1, meta.steps),
                                   clip_mode=meta.clip_mode, clip_norm=meta.clip_norm)
        specs.append(spec)
    return specs


class TargetReplica:
    """The simulated update of a target as a function of candidate features and labels, and distances to the
    observed update over the coordinates the device sent."""

    def __init__(self, target: AttackInput, *, epochs_mode: bool = False) -> None:
        self.layers = head_tensors(target.global_layers)
        self.specs = device_specs(target, epochs_mode=epochs_mode)
        self.samples = sum(s.samples for s in self.specs)
        self.classes = int(target.global_layers[-1].bias.shape[0])
        self.feature_size = int(target.global_layers[0].weights.shape[1])
        masks = [np.asarray(m, bool).reshape(-1) for m in target.sent]
        self.masks = [tf.constant(m.astype(np.float32)) for m in masks]
        self.observed = [tf.constant(np.where(m, np.asarray(d, np.float32).reshape(-1), 0.0), tf.float32)
                         for d, m in zip(target.delta, masks)]
        self.row_shapes = []
        for layer in target.global_layers:
            self.row_shapes += [tuple(layer.weights.shape), (1, int(layer.bias.shape[0]))]
        self.row_norms = [tf.constant(np.linalg.norm(o.numpy().reshape(r), axis=1).astype(np.float32))
                          for o, r in zip(self.observed, self.row_shapes)]
        self.live_rows = [tf.cast(n > 0, tf.float32) for n in self.row_norms]
        self.live_count = float(sum(float(tf.reduce_sum(l)) for l in self.live_rows))
        self.observed_norm = float(np.sqrt(sum(float(tf.reduce_sum(tf.square(o))) for o in self.observed)))
        offsets, seen = 0, []
        for spec in self.specs:
            seen += [offsets + i for i in spec.seen]
            offsets += spec.samples
        self.seen = np.array(seen, np.int64)  # candidate rows that reach the update

    def simulate(self, features: tf.Tensor, labels: tf.Tensor) -> list[tf.Tensor]:
        return simulate_sum(self.layers, features, labels, self.specs)

    def squared_distance(self, features: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        """``||m ⊙ (sim - obs)||² / ||obs||²`` (scale-free)."""
        sim = self.simulate(features, labels)
        err = tf.add_n([tf.reduce_sum(tf.square(s * m - o)) for s, m, o in zip(sim, self.masks, self.observed)])
        return err / max(self.observed_norm ** 2, 1e-30)

    def cosine_distance(self, features: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        """``1 - cos(m ⊙ sim, obs)`` over all tensors together."""
        sim = [s * m for s, m in zip(self.simulate(features, labels), self.masks)]
        dot = tf.add_n([tf.reduce_sum(s * o) for s, o in zip(sim, self.observed)])
        norm = _global_norm(sim)
        return 1.0 - dot / (norm * max(self.observed_norm, 1e-30) + 1e-30)

    def rowwise_cosine_distance(self, features: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        """Mean of ``1 - cos`` over the rows of every weight matrix (one row per output unit) and over every
        bias vector, skipping rows that were not observed (all zero). Every unit counts the same whatever its
        magnitude, so samples that move the weights little are not drowned by those that move them much."""
        sim = [s * m for s, m in zip(self.simulate(features, labels), self.masks)]
        terms = []
        for s, o, rows, live, o_norm in zip(sim, self.observed, self.row_shapes, self.live_rows, self.row_norms):
            s2 = tf.reshape(s, rows)
            cos = tf.reduce_sum(s2 * tf.reshape(o, rows), 1) / (tf.norm(s2, axis=1) * o_norm + 1e-30)
            terms.append(tf.reduce_sum(live * (1.0 - cos)))
        return tf.add_n(terms) / max(self.live_count, 1.0)


def initial_labels(target: AttackInput, samples: int) -> np.ndarray:
    """A first label per candidate sample from the output-bias delta (``labels_from_output_bias``), cycled over
    the samples when it gives fewer labels than there are samples."""
    from edgeleak.attacks.labels import labels_from_output_bias

    labels, counts = labels_from_output_bias(target)
    if len(labels) == 0:
        labels = np.array([int(np.argmax(counts))])
    return np.resize(np.asarray(labels, np.int64), samples)



def row_ratios(target: AttackInput, *, floor: float = 1e-3) -> np.ndarray:
    """Each row of the first layer's weight delta divided by its bias delta, ``(rows, F)``, for the rows whose bias
    delta was sent and is above ``floor`` times the largest.

    Every step adds ``c δ_ij x_i`` to row ``j`` of ``ΔW0`` and ``c δ_ij`` to ``Δb0_j`` for every sample ``i`` of its
    batch (whatever the momentum and clipping), so each ratio is an affine combination of the samples' features
    (weights summing to one), and a hidden unit active for only one sample gives that sample exactly: good
    starting points for an optimisation (the analytic attack is the one-sample case). Unsent weight coordinates
    count as zero.
    """
    w0 = target.global_layers[0].weights
    dw = np.where(np.asarray(target.sent[0]).reshape(w0.shape), np.asarray(target.delta[0], np.float64).reshape(w0.shape), 0.0)
    db = np.where(np.asarray(target.sent[1]), np.asarray(target.delta[1], np.float64), 0.0)
    live = np.abs(db) > floor * max(float(np.abs(db).max()), 1e-30)
    return (dw[live] / db[live, None]).astype(np.float32)




def distinct_rows(rows: np.ndarray, *, similarity: float = 0.98) -> np.ndarray:
    """``rows`` without near-duplicates (cosine similarity above ``similarity`` to a row kept before): hidden
    units active for the same single sample all give that sample."""
    units = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-30)
    keep: list[int] = []
    for i, unit in enumerate(units):
        if all(float(unit @ units[k]) < similarity for k in keep):
            keep.append(i)
    return rows[keep]



def row_consistency(candidates: np.ndarray, target: AttackInput) -> float:
    """How well candidate features ``(n, F)`` explain the first layer's delta: row ``j`` of ``[ΔW0 | Δb0]`` must be
    a combination of ``[x_i | 1]`` over the candidates that activate hidden unit ``j`` (at the global weights).
    Returns the mean relative least-squares residual over the rows (0: fully explained); unsent coordinates are
    left out. The activation pattern is what tells true samples from mixtures of them."""
    w0, b0 = target.global_layers[0].weights, target.global_layers[0].bias
    wmask = np.asarray(target.sent[0]).reshape(w0.shape)
    bmask = np.asarray(target.sent[1])
    dw = np.asarray(target.delta[0], np.float64).reshape(w0.shape)
    db = np.asarray(target.delta[1], np.float64)
    x = candidates.astype(np.float64)
    active = (x @ w0.T.astype(np.float64) + b0) > 0  # (n, rows)
    weight = np.sqrt(w0.shape[1])  # the bias coordinate counts like a whole row
    total, counted = 0.0, 0
    for j in range(w0.shape[0]):
        keep = np.append(wmask[j], bmask[j])
        goal = np.append(dw[j], weight * db[j])[keep]
        norm = float(goal @ goal)
        if norm == 0:
            continue
        counted += 1
        rows = x[active[:, j]]
        if len(rows) == 0:
            total += 1.0
            continue
        design = np.concatenate([rows, np.full((len(rows), 1), weight)], 1)[:, keep].T
        coef, *_ = np.linalg.lstsq(design, goal, rcond=None)
        residual = goal - design @ coef
        total += float(residual @ residual) / norm
    return total / max(counted, 1)


def row_subsets(rows: int, count: int, limit: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Choices of ``count`` row indices among ``rows``: all of them when there are at most ``limit``, else
    ``limit`` distinct random ones (with repeats allowed only when ``rows < count``)."""
    import itertools
    import math

    if rows < count:
        return [tuple(np.resize(np.arange(rows), count))]
    if math.comb(rows, count) <= limit:
        return list(itertools.combinations(range(rows), count))
    seen: set[tuple[int, ...]] = set()
    for _ in range(50 * limit):
        seen.add(tuple(sorted(rng.choice(rows, count, replace=False).tolist())))
        if len(seen) >= limit:
            break
    return sorted(seen)


def row_starts(target: AttackInput, samples: int, count: int, *, screen: int = 128,
               rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Up to ``count`` starting feature sets ``(samples, F)`` for an optimisation: the samples the exclusivity
    analysis verified (``exclusive.py``) in every start, completed by choices of distinct first-layer rows
    (``row_ratios``) ranked by ``row_consistency``, best first; empty when no row is usable."""
    from edgeleak.attacks.exclusive import exclusive_features

    exact = exclusive_features(target)[:samples]
    rows = distinct_rows(row_ratios(target))
    if len(rows) == 0:
        return []
    need = samples - len(exact)
    if need == 0:
        return [exact]
    subsets = row_subsets(len(rows), need, screen, rng or np.random.default_rng(0))
    starts = [np.concatenate([exact, rows[list(subset)]]) for subset in subsets]
    scores = [row_consistency(start, target) for start in starts]
    return [starts[i] for i in np.argsort(scores)[:count]]
