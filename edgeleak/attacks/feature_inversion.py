"""Two-stage reconstruction when only the head trains: the head's input features from the update, then the raw
window through the int8 backbone.

Stage 1 (features): for one sample and one step, the analytic inversion of the first dense layer
(``analytic.invert_dense``); otherwise the Inverting-Gradients fit (``inverting_gradients.fit_update``) over
feature vectors, started from the first layer's rows. Stage 2 (windows): Adam on windows so that the backbone
replica (``backbone.py``) maps them to the recovered features (squared error relative to the features' norm)
plus a total-variation prior along time; the best of a few restarts. When the whole network is the head the
features are the window and stage 2 is a reshape.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from edgeleak.attacks.analytic import invert_dense
from edgeleak.attacks.backbone import build_backbone, total_variation
from edgeleak.attacks.base import AttackInput, Reconstruction, nothing_sent, register
from edgeleak.attacks.inverting_gradients import FitOptions, adam_fit, fit_update, window_bounds
from edgeleak.attacks.replica import TargetReplica


@dataclass(frozen=True, kw_only=True)
class WindowOptions:
    iterations: int = 600  # Adam steps per restart
    restarts: int = 3
    learning_rate: float = 0.05
    tv_weight: float = 3e-3
    fake_quant: bool = False  # round activations to their int8 grid (straight-through) in the backbone
    seed: int = 0

    def __post_init__(self) -> None:
        if self.iterations < 1 or self.restarts < 1 or self.tv_weight < 0 or not self.learning_rate > 0:
            raise ValueError("window iterations and restarts must be >= 1, learning_rate > 0, tv_weight >= 0")


def windows_from_features(tflite: bytes, cut_index: int, features: np.ndarray, window_shape: tuple[int, ...],
                          bounds: tuple[float, float], options: WindowOptions) -> tuple[np.ndarray, float, int]:
    """Windows ``(n, *window_shape)`` whose backbone features match ``features`` ``(n, F)``; returns the windows,
    the relative feature error and the iterations done."""
    backbone = build_backbone(tflite, cut_index, fake_quant=options.fake_quant)
    goal = tf.constant(features, tf.float32)
    scale = float(np.sum(features.astype(np.float64) ** 2)) or 1.0
    tv = options.tv_weight

    def objective(windows):
        return tf.reduce_sum(tf.square(backbone.forward(windows) - goal)) / scale + tv * total_variation(windows)

    rng = np.random.default_rng(options.seed)
    shape = (len(features), *window_shape)
    best, iterations = None, 0
    for _ in range(options.restarts):
        fit = adam_fit(objective, [rng.normal(0.0, 0.5, shape).astype(np.float32)], iterations=options.iterations,
                       learning_rate=options.learning_rate, bounds=[bounds], signed=False)
        iterations += fit.iterations
        if best is None or fit.value < best[1]:
            best = (fit.variables[0], fit.value)
    error = float(tf.reduce_sum(tf.square(backbone.forward(best[0]) - goal)) / scale) ** 0.5
    return best[0], error, iterations


@register("feature_inversion")
class FeatureInversionAttack:
    description = ("recover the head's input features from the update (analytic for one sample and step, else "
                   "by optimisation), then the raw window through the int8 backbone replica")

    def __init__(self, *, windows: bool = True, epochs_mode: bool = False, window_iterations: int = 600,
                 window_restarts: int = 3, window_tv_weight: float = 3e-3, fake_quant: bool = False, **fit_options) -> None:
        self.fit = FitOptions(**{"tv_weight": 0.0, **fit_options})
        self.window = WindowOptions(iterations=window_iterations, restarts=window_restarts,
                                    tv_weight=window_tv_weight, fake_quant=fake_quant, seed=self.fit.seed)
        self.windows, self.epochs_mode = windows, epochs_mode

    def applicable(self, target: AttackInput) -> str | None:
        if target.knowledge.whole_network_is_head:
            return "the head reads the window itself: there is no backbone to invert (use inverting_gradients)"
        return nothing_sent(target)

    def run(self, target: AttackInput) -> Reconstruction:
        start = time.perf_counter()
        k = target.knowledge
        replica = TargetReplica(target, epochs_mode=self.epochs_mode)
        n, size = replica.samples, replica.feature_size
        lo, hi = k.cut_scale * (-128 - k.cut_zero_point), k.cut_scale * (127 - k.cut_zero_point)
        if n == 1 and target.meta.steps == 1 and target.aggregated == 1:
            w0 = target.global_layers[0].weights
            features = invert_dense(target.delta[0].reshape(w0.shape), target.delta[1],
                                    np.asarray(target.sent[0]).reshape(w0.shape), np.asarray(target.sent[1]))[None, :]
            from edgeleak.attacks.labels import labels_from_output_bias

            labels = labels_from_output_bias(target)[0][:1]
            iterations, how = 0, "analytic"
        else:
            features, logits, value, iterations = fit_update(
                target, replica, tf.identity, (n, size), (lo, hi), self.fit, rows_are_inputs=True, time_series=False)
            labels = np.argmax(logits, 1)
            how = f"fit, objective {value:.3g}"
        features = np.clip(features, lo, hi).astype(np.float32)
        windows, notes = None, f"features: {how}"
        if k.whole_network_is_head:
            windows = features.reshape((n, *k.input_shape[1:]))
        elif self.windows:
            windows, error, it = windows_from_features(k.tflite, k.cut_tflite_index, features, tuple(k.input_shape[1:]),
                                                       window_bounds(target), self.window)
            iterations += it
            notes += f"; windows: backbone feature error {error:.3g} (relative)"
        notes += f"; {time.perf_counter() - start:.1f} s"
        labels = np.asarray(labels, np.int64)
        return Reconstruction(windows=None if windows is None else windows.astype(np.float32), features=features,
                              labels=labels, label_counts=np.bincount(labels, minlength=replica.classes),
                              iterations=iterations, notes=notes)
