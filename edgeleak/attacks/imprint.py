"""A malicious server that crafts the weights it sends: an imprint (binning) module in the head's first layer.

Threat model: **malicious weights**. The server chooses the global weights of a round (LOAD_WEIGHTS) instead of
sending the model it aggregated; the device cannot tell. It needs its own data of the task (the held-out
evaluation split) to place the bins, and reads one update per device (Fowl et al., ICLR 2022, "Robbing the Fed";
the trap-weights idea of Boenisch et al. 2023 is the same lever: units that fire for few samples).

The crafted first layer gives every hidden unit the same direction ``a`` (a seeded random unit vector) and its own
threshold: unit ``i`` computes ``relu(α (⟨a, x⟩ - t_i))`` with ``t_i`` at the ``i/d`` quantile of ``⟨a, x⟩`` over the
server's data, so a window falls in one of ``d`` equally likely bins. Every hidden unit feeds class 0 alone with the
same weight, so a sample's error signal ``δ_n`` is the same at every unit it activates (and never zero: the logits
stay near 0, so ``p_0 ≈ 1/K`` differs from the label's indicator). Unit ``i``'s weight delta is then
``-c Σ_{n: ⟨a,x_n⟩ > t_i} δ_n x_n`` and its bias delta the same sum without ``x_n``: the difference of two
consecutive units is the sum over the windows of one bin, and a bin that holds one window gives it exactly,
``x = (ΔW_i - ΔW_{i+1}) / (Δb_i - Δb_{i+1})``, however large the batch. With ``d`` bins and a batch of ``B``, a window
is alone in its bin with probability about ``(1 - 1/d)^(B-1)``.

Update clipping scales every row alike and does not stop it; noise on the update does (docs/attacks.md).
"""

from __future__ import annotations

import numpy as np

from edgeleak.attacks.analytic import features_to_windows
from edgeleak.attacks.base import AttackInput, Reconstruction, register
from edgeleak.core.head import DenseLayer

PARALLEL = 1 - 1e-6  # rows of a crafted first layer: cosine with the first row at least this


def craft_imprint(layers: tuple[DenseLayer, ...] | list[DenseLayer], server_features: np.ndarray, *,
                  seed: int = 0) -> tuple[DenseLayer, ...]:
    """The imprint head for a two-layer head of the given shapes, its bins placed on ``server_features`` (n, F)."""
    if len(layers) != 2:
        raise ValueError(f"the imprint module needs a head of two dense layers, this one has {len(layers)}")
    hidden, width = layers[0].weights.shape
    classes = layers[1].weights.shape[0]
    rng = np.random.default_rng([seed, 0x1B7])
    direction = rng.normal(size=width)
    direction /= np.linalg.norm(direction)
    measure = np.asarray(server_features, np.float64).reshape(len(server_features), -1) @ direction
    thresholds = np.quantile(measure, np.arange(hidden) / hidden)
    spread = max(float(measure.max() - measure.min()), 1e-6)
    thresholds[0] = measure.min() - spread  # the first unit fires for every window: the top of the lowest bin
    alpha = 1.0 / (hidden * 2 * spread)  # the logit of class 0 stays below about 1
    w0 = np.tile(alpha * direction, (hidden, 1))
    b0 = -alpha * thresholds
    w1 = np.zeros((classes, hidden))
    w1[0] = 1.0
    return (DenseLayer(w0.astype(np.float32), b0.astype(np.float32)),
            DenseLayer(w1.astype(np.float32), np.zeros(classes, np.float32)))


def crafted(layers) -> bool:
    """Whether a head's first layer has the imprint structure: every row along one direction."""
    if len(layers) < 2:
        return False
    w0 = np.asarray(layers[0].weights, np.float64)
    norms = np.linalg.norm(w0, axis=1)
    if len(w0) < 2 or not np.all(norms > 0):
        return False
    units = w0 / norms[:, None]
    return bool(np.all(units @ units[0] >= PARALLEL))


def bin_windows(target: AttackInput, *, floor: float = 1e-3) -> tuple[np.ndarray, int]:
    """The windows of the bins that hold samples, from consecutive units' deltas; and how many bins did."""
    w0, b0 = target.global_layers[0].weights.astype(np.float64), target.global_layers[0].bias.astype(np.float64)
    norms = np.linalg.norm(w0, axis=1)
    direction = w0[0] / norms[0]
    thresholds = -b0 / norms
    order = np.argsort(thresholds)
    dw = np.asarray(target.delta[0], np.float64).reshape(w0.shape)[order]
    db = np.asarray(target.delta[1], np.float64)[order]
    whole = (np.asarray(target.sent[0]).reshape(w0.shape).all(axis=1) & np.asarray(target.sent[1]))[order]
    upper = np.append(thresholds[order][1:], np.inf)
    diff_w = dw - np.vstack([dw[1:], np.zeros((1, dw.shape[1]))])
    diff_b = db - np.append(db[1:], 0.0)
    live = np.abs(diff_b) > floor * max(float(np.abs(db).max(initial=0.0)), 1e-30)
    windows = []
    for i in np.flatnonzero(live & whole & np.append(whole[1:], True)):
        x = diff_w[i] / diff_b[i]
        s = float(x @ direction)
        margin = 1e-3 * (abs(s) + 1.0)
        if thresholds[order][i] - margin <= s <= upper[i] + margin:  # a lone window lies in its own bin
            windows.append(x)
    return np.array(windows, np.float32).reshape(len(windows), w0.shape[1]), int(live.sum())


@register("imprint")
class ImprintAttack:
    description = ("malicious weights: a crafted first layer sorts windows into bins by one projection; a bin "
                   "holding one window gives it exactly, whatever the batch (Fowl et al. 2022)")

    def applicable(self, target: AttackInput) -> str | None:
        if not crafted(target.global_layers):
            return "the weights the server sent were not crafted (no imprint module in the first layer)"
        return None  # a sum of several devices' updates is one larger batch: its bins work the same

    def run(self, target: AttackInput) -> Reconstruction:
        features, bins = bin_windows(target)
        notes = f"{len(features)} bins gave a window, {bins} bins held samples, of {target.meta.samples} samples"
        if not len(features):
            return Reconstruction(windows=np.zeros((0, *target.knowledge.input_shape[1:]), np.float32)
                                  if target.knowledge.whole_network_is_head else None,
                                  features=np.zeros((0, target.global_layers[0].weights.shape[1]), np.float32), notes=notes)
        return Reconstruction(windows=features_to_windows(features, target), features=features, notes=notes)
