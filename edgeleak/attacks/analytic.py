"""Analytic inversion of the first dense layer of the head (Phong et al. 2017).

For one sample and one SGD step, ``dW0 = -lr δ xᵀ`` and ``db0 = -lr δ``: every row with a nonzero bias
entry is the input scaled by that entry. With encoding error, noise or sparsification the best estimate is
the least-squares fit over the rows that were sent: ``x_j = Σ_i db_i dW_ij / Σ_i db_i²``.
"""

from __future__ import annotations

import numpy as np

from edgeleak.attacks.base import AttackInput, Reconstruction, register


def invert_dense(dw: np.ndarray, db: np.ndarray, w_mask: np.ndarray | None = None, b_mask: np.ndarray | None = None) -> np.ndarray:
    """Least-squares input of a dense layer from its weight and bias deltas (``dw`` shaped ``(out, in)``)."""
    dw = dw.astype(np.float64)
    db = db.astype(np.float64)
    wm = np.ones_like(dw, bool) if w_mask is None else w_mask
    bm = np.ones_like(db, bool) if b_mask is None else b_mask
    weight = (db * bm)[:, None] * wm  # rows whose bias was sent, coordinates that were sent
    numerator = np.sum(weight * dw, axis=0)
    denominator = np.sum(weight * db[:, None], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(np.abs(denominator) > 0, numerator / denominator, 0.0)
    return x.astype(np.float32)


def features_to_windows(features: np.ndarray, target: AttackInput) -> np.ndarray | None:
    """When the head reads the raw window (all-dense models), the features are the window itself."""
    if not target.knowledge.whole_network_is_head:
        return None
    return features.reshape((len(features), *target.knowledge.input_shape[1:])).astype(np.float32)


@register("analytic")
class AnalyticAttack:
    description = "invert the first head layer from a single-sample, single-step update (exact up to encoding)"

    def applicable(self, target: AttackInput) -> str | None:
        if target.aggregated > 1:
            return "an aggregate of several updates mixes their inputs"
        if target.meta.samples != 1 or target.meta.steps != 1:
            return f"needs one sample and one step, the update has {target.meta.samples} samples and {target.meta.steps} steps"
        return None

    def run(self, target: AttackInput) -> Reconstruction:
        w0 = target.global_layers[0].weights
        dw = target.delta[0].reshape(w0.shape)
        features = invert_dense(dw, target.delta[1], target.sent[0].reshape(w0.shape), target.sent[1])[None, :]
        from edgeleak.attacks.labels import labels_from_output_bias

        labels, counts = labels_from_output_bias(target)
        return Reconstruction(windows=features_to_windows(features, target), features=features, labels=labels,
                              label_counts=counts)
