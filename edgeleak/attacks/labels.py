"""Label recovery from the output layer's bias delta (iDLG, Zhao et al. 2020, and counts for batches).

With softmax cross-entropy the output bias gradient of a sample is ``p - onehot(y)``: negative only at the
label. A delta is ``-lr`` times the summed gradients, so for one sample its only positive entry is the
label; for a batch of B samples over K steps, ``delta_c / lr ≈ Σ (onehot - p)``, which estimates how many
samples of each class the device trained on, given the mean prediction.
"""

from __future__ import annotations

import numpy as np

from edgeleak.attacks.base import AttackInput, Reconstruction, register


def largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Non-negative ``values`` rounded to integers that add up to ``total`` (Hamilton's method); all equal when
    none is positive."""
    values = np.clip(values, 0, None)
    if values.sum() <= 0:
        values = np.ones_like(values)
    scaled = values / values.sum() * total
    counts = np.floor(scaled).astype(np.int64)
    for c in np.argsort(-(scaled - counts))[: total - counts.sum()]:
        counts[c] += 1
    return counts


def labels_from_output_bias(target: AttackInput) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample label guesses (largest counts first) and the estimated count per class."""
    db = target.delta[2 * len(target.global_layers) - 1].astype(np.float64)
    samples_seen = target.batch_size * max(1, target.meta.steps) * target.aggregated
    if target.meta.samples == 1 and target.aggregated == 1:
        label = int(np.argmax(db))
        counts = np.zeros(len(db), np.int64)
        counts[label] = 1
        return np.array([label]), counts
    # delta_c ≈ (lr / B) Σ (onehot - p): with the mean prediction taken as uniform, count = B·delta_c/lr + B/K.
    per_step = target.batch_size
    estimate = db / target.meta.learning_rate * per_step / max(1, target.meta.steps) + per_step / len(db)
    counts = largest_remainder(estimate * target.aggregated, per_step * target.aggregated)
    labels = np.repeat(np.arange(len(db)), counts)
    return labels[:samples_seen], counts


@register("labels")
class LabelAttack:
    description = "recover labels from the sign of the output-layer bias delta (iDLG); label counts for batches"

    def applicable(self, target: AttackInput) -> str | None:
        if not target.sent[-1].all():
            return "the output-layer bias was not sent whole (sparsified)"
        return None

    def run(self, target: AttackInput) -> Reconstruction:
        labels, counts = labels_from_output_bias(target)
        return Reconstruction(labels=labels, label_counts=counts)
