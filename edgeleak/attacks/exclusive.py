"""Batch reconstruction from neurons that one sample activates alone (neuron exclusivity, Pan et al. 2022).

Threat model: honest-but-curious. The server knows the model and the global weights it sent; it reads one update
(or, behind secure aggregation, the sum of a round's updates). Nothing else.

Every local step adds ``-c δ_ij x_i`` to row ``j`` of the first dense layer's weight delta and ``-c δ_ij`` to its
bias delta, for every sample ``i`` of the batch that activates hidden unit ``j`` (ReLU). A unit that exactly one
sample activates, in every step, is *exclusive* to it, and the row's ratio ``ΔW0_j / Δb0_j`` is that sample
exactly, whatever the batch size, momentum, number of steps or update clipping (a common scale cancels). A unit
two samples share gives an affine mixture of them instead.

Telling the two apart without the ground truth:

* **Agreement**: two or more exclusive units of the same sample give the same ratio, to the precision of the
  update's encoding. Mixtures agree too when their samples' error signals are alike (two windows the model gets
  wrong the same way, with saturated predictions, mix in the same proportion at every unit they share).
* **Magnitude**: the server knows the step size ``c`` (learning rate, batch and momentum from the reported
  hyperparameters, ``label_counts.sample_weights``), so for a lone sample ``x`` the bias deltas of its units are
  ``-c δ_j(x, y)`` for one label ``y`` (within 1%, 10% after several steps); a mixture's deltas are a sum of
  several samples' and miss. Checked when the update was not clipped (clipping rescales by a factor the server
  does not know); measured on the other-wrist task at batch 4, about 95% of the ratios that pass are a window
  exactly.
* **Consistency**: a ratio activates its own units at the global weights.

A ratio is *verified* when its units agree (two or more) or its magnitude fits a label, and it is consistent;
verified ratios are returned first, then consistent ones by the size of their bias delta, up to the number of
samples behind the update. Noise on the update breaks both checks: then nothing verifies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeleak.attacks.analytic import features_to_windows
from edgeleak.attacks.base import AttackInput, Reconstruction, register
from edgeleak.train.config import Encoding

MAGNITUDE = 0.01  # relative mismatch of a lone sample's bias deltas with -c δ(x, y) accepted after one step
MAGNITUDE_STEPS = 0.1  # ... after several steps, whose moving weights change δ a little
AGREEMENT = {Encoding.FLOAT32: 1e-3, Encoding.FLOAT16: 1e-2, Encoding.INT8: 6e-2}
"""Relative distance within which two rows' ratios are the same sample, per update encoding (float32 differs in
rounding only; float16 and int8 carry about 3 and 2 significant digits per coordinate)."""


@dataclass(frozen=True)
class Exclusivity:
    """The first layer's ratios grouped by sample: ``features[k]`` came from ``rows[k]``; ``verified[k]`` when two
    or more rows agree."""

    features: np.ndarray  # (m, F) float32
    rows: tuple[tuple[int, ...], ...]
    verified: np.ndarray  # (m,) bool
    labels: np.ndarray  # (m,) int64: the label whose magnitude fits, -1 when not checked or none fits

    @property
    def exact(self) -> int:
        return int(self.verified.sum())


def _ratios(target: AttackInput, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows whose weight and bias deltas were sent whole and whose bias delta is above ``floor`` of the largest:
    their indices, ratios and bias deltas."""
    w0 = target.global_layers[0].weights
    dw = np.asarray(target.delta[0], np.float64).reshape(w0.shape)
    db = np.asarray(target.delta[1], np.float64)
    whole = np.asarray(target.sent[0]).reshape(w0.shape).all(axis=1) & np.asarray(target.sent[1])
    live = whole & (np.abs(db) > floor * max(float(np.abs(db).max(initial=0.0)), 1e-30))
    rows = np.flatnonzero(live)
    return rows, dw[rows] / db[rows, None], db[rows]


def analyse(target: AttackInput, *, floor: float = 1e-4) -> Exclusivity:
    """Group the first layer's row ratios into samples (module docstring)."""
    w0, b0 = target.global_layers[0].weights.astype(np.float64), target.global_layers[0].bias.astype(np.float64)
    rows, ratios, db = _ratios(target, floor)
    tolerance = AGREEMENT.get(target.meta.encoding, AGREEMENT[Encoding.INT8])
    norms = np.linalg.norm(ratios, axis=1)
    groups: list[list[int]] = []
    for k in np.argsort(-np.abs(db)):  # the strongest rows first: they carry the least rounding error
        for group in groups:
            ref = group[0]
            if np.linalg.norm(ratios[k] - ratios[ref]) <= tolerance * max(norms[k], norms[ref], 1e-30):
                group.append(int(k))
                break
        else:
            groups.append([int(k)])
    features, members, verified, strength, labels = [], [], [], [], []
    step = _step(target)
    for group in groups:
        weights = np.abs(db[group])
        x = (ratios[group] * weights[:, None]).sum(0) / weights.sum()
        own = [int(rows[k]) for k in group]
        active = bool(((w0[own] @ x + b0[own]) > 0).all())
        if not active:
            continue
        label, fits = _magnitude_label(target, x, own, step)
        features.append(x)
        members.append(tuple(own))
        labels.append(label)
        verified.append(fits if step is not None else len(group) >= 2)
        strength.append(float(weights.max()))
    order = sorted(range(len(features)), key=lambda i: (not verified[i], -strength[i]))
    order = _distinct(order, features, verified)
    if not order:
        return Exclusivity(np.zeros((0, w0.shape[1]), np.float32), (), np.zeros(0, bool), np.zeros(0, np.int64))
    return Exclusivity(np.array([features[i] for i in order], np.float32), tuple(members[i] for i in order),
                       np.array([verified[i] for i in order], bool), np.array([labels[i] for i in order], np.int64))


def _distinct(order: list[int], features: list[np.ndarray], verified: list[bool], similarity: float = 0.999) -> list[int]:
    """``order`` without a verified sample found twice (its units split into two groups by rounding): a later
    verified ratio this close in direction to a kept one is the same window."""
    kept: list[int] = []
    for i in order:
        unit = features[i] / max(np.linalg.norm(features[i]), 1e-30)
        if verified[i] and any(verified[k] and float(unit @ features[k]) / max(np.linalg.norm(features[k]), 1e-30)
                               >= similarity for k in kept):
            continue
        kept.append(i)
    return kept


def _step(target: AttackInput) -> float | None:
    """The factor ``c`` of a lone sample's gradient in the delta, when the server can know it (no update clipping,
    no noise)."""
    from edgeleak.attacks.label_counts import sample_weights
    from edgeleak.train.config import ClipMode

    if target.meta.clip_mode == ClipMode.UPDATE or target.meta.noise_multiplier > 0:
        return None
    return target.meta.learning_rate * sample_weights(target)


def _magnitude_label(target: AttackInput, x: np.ndarray, units: list[int], step: float | None) -> tuple[int, bool]:
    """The label whose predicted bias deltas ``-c δ_j(x, y)`` on ``units`` best match the observed ones, and whether
    they match within MAGNITUDE (per-example clipping scales the prediction as the device would)."""
    from edgeleak.attacks.label_counts import clip_factors, first_layer_error

    if step is None:
        return -1, False
    observed = np.asarray(target.delta[1], np.float64)[units]
    best, label = np.inf, -1
    for y in range(target.knowledge.num_classes):
        factor = clip_factors(target, target.global_layers, x[None], np.array([y]))[0]
        predicted = -step * factor * first_layer_error(target.global_layers, x, y)[units]
        miss = float(np.linalg.norm(observed - predicted) / max(np.linalg.norm(observed), 1e-30))
        if miss < best:
            best, label = miss, y
    tolerance = MAGNITUDE if target.meta.steps <= 1 else MAGNITUDE_STEPS
    return (label, True) if best <= tolerance else (-1, False)


def exclusive_features(target: AttackInput) -> np.ndarray:
    """The verified samples' features, for attacks seeded from them (possibly none)."""
    found = analyse(target)
    return found.features[found.verified]


@register("exclusive_neurons")
class ExclusiveNeuronsAttack:
    description = ("neuron exclusivity on batches: a first-layer unit that one sample activates alone gives that "
                   "sample exactly; verified when two such units agree (Pan et al. 2022)")

    def applicable(self, target: AttackInput) -> str | None:
        if len(target.global_layers) < 2:
            return "the head has a single dense layer (no hidden ReLU units to be exclusive)"
        if not np.any(target.sent[1]):
            return "the first layer's bias delta was not sent"
        return None

    def run(self, target: AttackInput) -> Reconstruction:
        found = analyse(target)
        limit = target.meta.samples  # over the devices summed into the target
        features = found.features[:limit]
        notes = (f"{found.exact} samples verified by agreeing exclusive units, {len(found.features) - found.exact} "
                 f"consistent single units, of {limit} samples")
        return Reconstruction(windows=features_to_windows(features, target) if len(features) else None,
                              features=features if len(features) else None, notes=notes)
