"""How many samples of each class a batch update was trained on: LLG*-style and iLRG-style label counts.

Threat model: honest-but-curious. The server knows the model, the global weights it sent, the hyperparameters the
device reports, and holds data of its own for the task (``ServerKnowledge.auxiliary``: the recordings its base
model was trained on). It reads one update, or the sum of a round's updates behind secure aggregation.

The last dense layer's gradient for a sample ``x`` of label ``y`` is ``(p(x) - e_y) h(x)ᵀ`` for the weights and
``p(x) - e_y`` for the bias (``h`` the layer's input, ``p`` the softmax). An update is ``-s`` times a sum of such
gradients over the samples (``s`` takes in the learning rate, the batch mean, the momentum over the steps and any
update clipping; it is common to all samples and is not needed). With the global weights and its own data, the
server computes each class's expected contribution, a *template* ``T_c = -E[g(x, c) | y = c]``, and reads the
counts ``n`` off the observed layer ``L ≈ s Σ_c n_c T_c`` by non-negative least squares, scaled to the number of
samples the device reported.

* ``llg_star`` (Wainakh et al. 2022, LLG+/LLG*): the statistic is the sum over each row of the last layer's weight
  delta; the per-class impacts and offsets (a K×K matrix) are estimated on the server's data at the current
  weights. Rows of a layer after a ReLU sum non-negative inputs, which is what makes the sums informative.
* ``ilrg`` (in the manner of iLRG, Ma et al. 2023, which restores labels sample by sample from each sample's
  posterior): the whole last layer is fitted, weights and bias. Where iLRG recovers each sample's embedding from
  the gradient's low rank (possible only when the batch is smaller than the number of classes, never the case for
  activity tasks with 4-6 classes), here the embeddings of the samples the exclusivity analysis recovers exactly
  (``exclusive.py``) enter the fit one column per candidate label, so those samples get their own label; the rest
  are counted by the templates.

Both work on deltas after one or several steps, with momentum or clipping, and on sums of several devices' updates.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from edgeleak.attacks.base import AttackInput, Reconstruction, register
from edgeleak.attacks.labels import largest_remainder
from edgeleak.core.head import DenseLayer
from edgeleak.train.config import ClipMode, NoiseKind
from edgeleak.train.oracle import example_gradient, flatten_layers

PER_CLASS = 64  # server samples per class the templates average over


def _forward(layers, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The last layer's input ``h`` (n, d) and the softmax ``p`` (n, K) at the given weights."""
    h = np.asarray(features, np.float64)
    for layer in layers[:-1]:
        h = np.maximum(h @ layer.weights.T.astype(np.float64) + layer.bias, 0.0)
    logits = h @ layers[-1].weights.T.astype(np.float64) + layers[-1].bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return h, p / p.sum(axis=1, keepdims=True)


def clip_factors(target: AttackInput, layers, features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-example clipping scales each sample's gradient to at most C: the factor per sample (1 without it)."""
    if target.meta.clip_mode != ClipMode.PER_EXAMPLE or not target.meta.clip_norm > 0:
        return np.ones(len(features))
    params = flatten_layers(list(layers))
    shapes = [(l.weights.shape[1], l.weights.shape[0]) for l in layers]
    norms = np.array([np.sqrt(sum(float(g @ g) for g in example_gradient(params, shapes, x, int(y))[0]))
                      for x, y in zip(features, labels)])
    return np.minimum(1.0, target.meta.clip_norm / np.maximum(norms, 1e-30))


def last_layer_columns(target: AttackInput, features: np.ndarray, label: int | np.ndarray) -> np.ndarray:
    """``-g`` of the last layer (weights row-major, then bias) per sample, for the given label(s): (n, K·d + K),
    averaged over the round's steps at the weights each step saw (``path``)."""
    labels = np.broadcast_to(np.asarray(label, np.int64), (len(features),))
    total = 0.0
    for layers, weight in path(target):
        h, p = _forward(layers, features)
        residual = np.eye(p.shape[1])[labels] - p  # -(p - e_y)
        scale = clip_factors(target, layers, features, labels)[:, None]
        weights = (residual[:, :, None] * h[:, None, :]).reshape(len(features), -1)
        total = total + weight * np.concatenate([weights, residual], axis=1) * scale
    return total


def path(target: AttackInput, *, points: int = 6) -> list[tuple[tuple, float]]:
    """The weights the round's steps saw and how much each step's gradients count in the delta (weights summing to
    one). One step sees the sent weights. Over ``K`` steps the weights move along the delta the server received:
    under momentum ``μ`` and a steady gradient, step ``t`` sees ``θ0 + f_t Δ`` with ``f_t`` the share of the
    distance covered before it, and its gradient is carried into the delta ``Σ_{t'≥t} μ^(t'-t)`` times. Noise on
    the update hides the end point, so a noisy update is read at the sent weights alone. At most ``points``
    positions (steps grouped evenly)."""
    steps, mu = max(1, target.meta.steps), target.meta.momentum
    layers = target.global_layers
    if steps == 1 or target.meta.noise_multiplier > 0 or target.aggregated > 1:
        return [(layers, 1.0)]
    velocity = np.array([sum(mu ** k for k in range(t + 1)) for t in range(steps)])
    covered = np.concatenate([[0.0], np.cumsum(velocity)[:-1]]) / velocity.sum()
    carried = np.array([sum(mu ** k for k in range(steps - t)) for t in range(steps)])
    groups = np.array_split(np.arange(steps), min(points, steps))
    out = []
    for group in groups:
        f = float(np.average(covered[group], weights=carried[group]))
        moved = tuple(DenseLayer((l.weights + f * np.asarray(target.delta[2 * k]).reshape(l.weights.shape)).astype(np.float32),
                                 (l.bias + f * np.asarray(target.delta[2 * k + 1])).astype(np.float32))
                      for k, l in enumerate(layers))
        out.append((moved, float(carried[group].sum() / carried.sum())))
    return out


def first_layer_error(layers, x: np.ndarray, label: int) -> np.ndarray:
    """The gradient of the loss with respect to the first layer's pre-activations for one sample and label."""
    activations, pre = [np.asarray(x, np.float64)], []
    for layer in layers:
        pre.append(activations[-1] @ layer.weights.T.astype(np.float64) + layer.bias)
        activations.append(np.maximum(pre[-1], 0.0))
    logits = pre[-1] - pre[-1].max()
    error = np.exp(logits) / np.exp(logits).sum() - np.eye(len(logits))[label]
    for k in range(len(layers) - 1, 0, -1):
        error = (layers[k].weights.T.astype(np.float64) @ error) * (pre[k - 1] > 0)
    return error


def class_columns(target: AttackInput, *, seed: int = 0) -> list[np.ndarray]:
    """Per class, the columns (``last_layer_columns``) of up to PER_CLASS of the server's own samples of the class.
    A class the server has no sample of gets the column of a sample with zero features."""
    aux = target.knowledge.auxiliary
    rng = np.random.default_rng(seed)
    out = []
    for c in range(target.knowledge.num_classes):
        pool = np.flatnonzero(aux.labels == c)
        if len(pool) == 0:
            pool_x = np.zeros((1, aux.features.shape[1]), np.float32)
        else:
            pool_x = aux.features[rng.choice(pool, min(PER_CLASS, len(pool)), replace=False)]
        out.append(last_layer_columns(target, pool_x, c))
    return out


def templates_of(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The templates ``T_c`` (K, m) and the per-coordinate variance of one sample about its class's template,
    pooled over the classes: how far a sum of real samples strays from the templates."""
    return np.array([c.mean(axis=0) for c in columns]), np.mean([c.var(axis=0) for c in columns], axis=0)


def observed_last_layer(target: AttackInput) -> tuple[np.ndarray, np.ndarray]:
    """The last layer's delta (weights row-major, then bias) and the mask of coordinates the device sent."""
    k = len(target.global_layers) - 1
    values = np.concatenate([np.asarray(target.delta[2 * k], np.float64), np.asarray(target.delta[2 * k + 1], np.float64)])
    sent = np.concatenate([np.asarray(target.sent[2 * k], bool), np.asarray(target.sent[2 * k + 1], bool)])
    return values, sent


def row_sums(columns: np.ndarray, classes: int) -> np.ndarray:
    """LLG's statistic: per class, the sum of its row of the weight part."""
    weights = columns[..., : columns.shape[-1] - classes]
    return weights.reshape(*columns.shape[:-1], classes, -1).sum(axis=-1)


def sample_weights(target: AttackInput) -> float:
    """The mean over a device's samples of ``Σ_steps (1/|batch|) Σ_{t'≥t} μ^(t'-t)`` for the steps that used the
    sample: with the learning rate, how much of one sample's gradient (at the sent weights) the delta carries. The
    batch order is the documented one (docs/training.md), so the server computes it from what the device reports.
    For a sum of devices' updates (``meta.samples`` is their total) the devices are taken to hold equal shares."""
    from edgeleak.train.config import TrainConfig
    from edgeleak.train.oracle import batch_schedule

    meta = target.meta
    config = TrainConfig(learning_rate=meta.learning_rate, momentum=meta.momentum, batch_size=meta.batch_size,
                         local_steps=0 if meta.epochs else meta.steps, epochs=meta.epochs or 1)
    samples = max(1, round(meta.samples / max(1, target.aggregated)))  # one device's (a sum reports the total)
    schedule = batch_schedule(samples, config)
    weight = np.zeros(samples)
    for t, batch in enumerate(schedule):
        carried = sum(meta.momentum ** k for k in range(len(schedule) - t))
        for i in batch:
            weight[i] += carried / len(batch)
    return float(weight.mean())


def update_scale(target: AttackInput, observed: np.ndarray, predicted: np.ndarray) -> float:
    """``s`` in ``delta ≈ -s Σ g``: the learning rate times ``sample_weights``, times the update clipping's factor
    when the update was clipped (its norm at the clip norm). That factor is not reported; it is the one that makes
    ``predicted`` (the unclipped ``Σ g`` the templates expect, up to sign) best match ``observed``."""
    base = target.meta.learning_rate * sample_weights(target)
    if target.meta.clip_mode != ClipMode.UPDATE or not target.meta.clip_norm > 0:
        return base
    norm = float(np.sqrt(sum(float(np.sum(np.square(d, dtype=np.float64))) for d in target.delta)))
    if norm < 0.999 * target.meta.clip_norm * target.aggregated:
        return base
    factor = float(observed @ predicted) / max(float(predicted @ predicted) * base, 1e-30)
    return base * min(1.0, max(factor, 1e-6))


def noise_variance(target: AttackInput, scale: float, summed: int = 1) -> float:
    """The variance the device's Gaussian noise adds to one coordinate (``summed`` coordinates added together) of
    the delta divided by ``scale``: ``(σ C)^2`` per coordinate and device (0 without noise)."""
    meta = target.meta
    if meta.noise_kind != NoiseKind.GAUSSIAN or not meta.noise_multiplier > 0:
        return 0.0
    return summed * target.aggregated * (meta.noise_multiplier * meta.clip_norm / scale) ** 2


def class_prior(target: AttackInput) -> np.ndarray:
    """The label distribution of the server's own data: what it expects of a device's samples before the update."""
    labels = target.knowledge.auxiliary.labels
    return np.bincount(labels, minlength=target.knowledge.num_classes)[: target.knowledge.num_classes] / max(len(labels), 1)


def _labels(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts).astype(np.int64)


def map_counts(design: np.ndarray, goal: np.ndarray, variance: np.ndarray, prior: np.ndarray, total: int,
               noise: float = 0.0) -> np.ndarray:
    """The most probable counts per class (columns of ``design``) given ``goal``, rounded to ``total``.

    The likelihood: ``goal ≈ design @ n`` with independent errors of variance ``total · variance + noise`` per
    coordinate (each sample strays from its class's template by ``variance``; ``noise`` is the device's noise on
    the update, in the units of ``goal``). The prior: the multinomial counts of
    ``total`` draws from ``prior``, in its Gaussian form (variance ``total · π_c`` per class). The counts add up to
    ``total`` (a heavily weighted row) and are non-negative; solved by non-negative least squares. The prior matters
    where the update says little: samples the model already predicts right with confidence leave almost no trace,
    and a fit without it would hand their whole number to whichever class's template is smallest."""
    if total <= 0:
        return np.zeros(design.shape[1], np.int64)
    keep = np.linalg.norm(design, axis=1) > 0
    noise = np.sqrt(total * (variance[keep] + 1e-12 * max(float(variance[keep].max(initial=0.0)), 1e-30)) + noise)
    pi = np.clip(np.asarray(prior, np.float64), 1e-3, None)
    pi = pi / pi.sum()
    spread = np.sqrt(total * pi)
    likelihood = (design[keep] / noise[:, None], goal[keep] / noise)
    belief = (np.diag(1.0 / spread), total * pi / spread)
    rows = np.vstack([likelihood[0], belief[0]])
    weight = 1e3 * max(float(np.abs(rows).max(initial=0.0)), 1.0)
    a = np.vstack([rows, np.full((1, design.shape[1]), weight)])
    b = np.concatenate([likelihood[1], belief[1], [weight * total]])
    coef, _ = nnls(a, b, maxiter=50 * design.shape[1])
    return largest_remainder(coef, total)


class _LabelCountAttack:
    @staticmethod
    def single(target: AttackInput) -> Reconstruction | None:
        """One sample, one device: the output-bias delta's only positive entry is the label (iDLG), exactly."""
        if target.meta.samples == 1 and target.aggregated == 1 and target.sent[-1].all():
            from edgeleak.attacks.labels import labels_from_output_bias

            labels, counts = labels_from_output_bias(target)
            return Reconstruction(labels=labels, label_counts=counts, notes="one sample: the sign of the output-bias delta")
        return None

    def applicable(self, target: AttackInput) -> str | None:
        if target.knowledge.auxiliary is None:
            return "needs the server's own data of the task (the capture's data set could not be loaded)"
        values, sent = observed_last_layer(target)
        if not sent.any() or not np.any(values[sent]):
            return "the last layer's delta was not sent or is zero"
        return None


@register("llg_star")
class LlgStarAttack(_LabelCountAttack):
    description = ("label counts from the row sums of the last layer's weight delta, with per-class impacts "
                   "estimated on the server's own data at the sent weights (LLG*, Wainakh et al. 2022)")

    def run(self, target: AttackInput) -> Reconstruction:
        if (one := self.single(target)) is not None:
            return one
        classes = target.knowledge.num_classes
        values, sent = observed_last_layer(target)
        total = target.meta.samples  # over the devices summed into the target
        templates, spread = templates_of([row_sums(np.where(sent, c, 0.0), classes) for c in class_columns(target)])
        goal = row_sums(np.where(sent, values, 0.0), classes)
        prior = class_prior(target)
        scale = update_scale(target, goal, total * prior @ templates)
        width = target.global_layers[-1].weights.shape[1]
        counts = map_counts(templates.T, goal / scale, spread, prior, total, noise_variance(target, scale, width))
        return Reconstruction(labels=_labels(counts), label_counts=counts,
                              notes=f"impacts from {target.knowledge.auxiliary.source}")


@register("ilrg")
class IlrgAttack(_LabelCountAttack):
    description = ("instance-wise labels for the samples the exclusivity analysis recovers and class templates for "
                   "the rest, fitted to the last layer's bias delta (in the manner of iLRG, Ma et al. 2023)")

    def run(self, target: AttackInput) -> Reconstruction:
        from edgeleak.attacks.exclusive import analyse

        if (one := self.single(target)) is not None:
            return one
        classes = target.knowledge.num_classes
        total = target.meta.samples  # over the devices summed into the target
        values, sent = observed_last_layer(target)
        bias = slice(len(values) - classes, None)
        if not sent[bias].all():
            bias = slice(0, len(values))  # a sparsified bias: fit the whole layer
        columns = [np.where(sent, c, 0.0)[:, bias] for c in class_columns(target)]
        templates, spread = templates_of(columns)
        goal = np.where(sent, values, 0.0)[bias]
        prior = class_prior(target)
        scale = update_scale(target, goal, total * prior @ templates)
        found = analyse(target) if len(target.global_layers) >= 2 else None
        known = [] if found is None else [(x, rows, y) for x, rows, ok, y in
                                          zip(found.features, found.rows, found.verified, found.labels) if ok]
        known = known[:total]
        labels = np.array([y if y >= 0 else self._own_label(target, x, rows) for x, rows, y in known], np.int64)
        design, goal = templates.T, goal / scale
        for (x, _, _), y in zip(known, labels):  # a recovered sample's contribution is known exactly
            goal = goal - np.where(sent, last_layer_columns(target, x[None], int(y))[0], 0.0)[bias]
        rest = map_counts(design, goal, spread, prior, total - len(known), noise_variance(target, scale))
        counts = np.bincount(labels, minlength=classes) + rest
        return Reconstruction(labels=np.concatenate([labels, _labels(rest)]), label_counts=counts,
                              notes=f"{len(known)} samples labelled one by one, {total - len(known)} counted by templates "
                                    f"from {target.knowledge.auxiliary.source}")

    @staticmethod
    def _own_label(target: AttackInput, x: np.ndarray, rows: tuple[int, ...]) -> int:
        """The label whose error signal ``W1ᵀ(p - e_y)`` on the sample's exclusive units points the way their bias
        deltas do (scale-free: the direction over the units, or the sign for a single unit)."""
        observed = -np.asarray(target.delta[1], np.float64)[list(rows)]  # -Δb0 ∝ +δ
        best, label = -np.inf, 0
        for y in range(target.knowledge.num_classes):
            signal = first_layer_error(target.global_layers, x, y)[list(rows)]
            score = float(signal @ observed) / max(np.linalg.norm(signal) * np.linalg.norm(observed), 1e-30)
            if score > best:
                best, label = score, y
        return label
