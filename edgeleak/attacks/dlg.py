"""Deep Leakage from Gradients (Zhu et al. 2019) on device updates.

Dummy windows and soft labels are fitted by L-BFGS so that the replica of the device's round
(``replica.py``: every local step, momentum, clipping, and the sum of ``K`` devices for aggregates) produces the
observed update; the objective is the squared distance over the coordinates the device sent, divided by the
observed update's squared norm. For a model with an int8 backbone the windows pass through ``backbone.py``.

Two attacks under two names (docs/attacks.md):

* ``dlg``: as published, from random windows, with the labels inferred as iDLG does (Zhao et al. 2020: the sign of
  the last layer's gradient, here the output-bias delta, names the label) and held fixed while the windows are
  fitted.
* ``dlg_from_analytic``: the same fit started, when the head reads the window, from the choices of first-layer rows
  that best explain the layer (``replica.row_starts``, the analytic attack's rows) with soft labels at the model's
  prediction. A refinement of the analytic attack, not DLG: on a trained model random starts fall into the flat
  region where predictions are confident and the simulated update vanishes, and this start avoids it.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import tensorflow as tf

from edgeleak.attacks.backbone import feature_map, total_variation
from edgeleak.attacks.base import AttackInput, Reconstruction, nothing_sent, register
from edgeleak.attacks.replica import TargetReplica, head_logits, initial_labels, row_starts

IDLG_LOGIT = 3.0  # the logits that carry iDLG's fixed labels through the optimiser's vector


def lbfgs(fun: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]], x0: np.ndarray, iterations: int,
          lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> tuple[np.ndarray, float, int]:
    """Minimise ``fun(z) -> (value, gradient)`` (float32 TF) with scipy's L-BFGS-B for ``iterations`` steps;
    returns the minimiser, its value and the iterations done."""
    from scipy.optimize import minimize

    def wrapped(z: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = fun(tf.constant(z, tf.float32))
        value, grad = float(value), np.asarray(grad, np.float64)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e10, np.zeros_like(z)
        return value, grad

    bounds = None if lower is None else list(zip(lower, upper))
    result = minimize(wrapped, x0.astype(np.float64), jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": iterations, "maxfun": 2 * iterations, "ftol": 1e-14, "gtol": 1e-14,
                               "maxcor": 20})
    return result.x.astype(np.float32), float(result.fun), int(result.nit)


def window_shape(target: AttackInput) -> tuple[int, ...]:
    return tuple(target.knowledge.input_shape[1:])


@register("dlg")
class DlgAttack:
    description = ("DLG as published: fit random dummy windows by L-BFGS, with iDLG's labels, so the replayed round "
                   "reproduces the update")

    def __init__(self, *, iterations: int = 300, restarts: int = 2, tv_weight: float = 0.0, seed: int = 0,
                 start: str = "random", epochs_mode: bool = False) -> None:
        if iterations < 1 or restarts < 1 or tv_weight < 0:
            raise ValueError("iterations and restarts must be >= 1 and tv_weight >= 0")
        if start not in ("rows", "random"):
            raise ValueError("start must be 'rows' (first-layer rows, when the head reads the window) or 'random' (as in DLG)")
        self.iterations, self.restarts, self.tv_weight, self.seed = iterations, restarts, tv_weight, seed
        self.start, self.epochs_mode = start, epochs_mode

    def applicable(self, target: AttackInput) -> str | None:
        return nothing_sent(target)

    def run(self, target: AttackInput) -> Reconstruction:
        start = time.perf_counter()
        replica = TargetReplica(target, epochs_mode=self.epochs_mode)
        to_features, through_backbone = feature_map(target.knowledge)
        n, classes, shape = replica.samples, replica.classes, window_shape(target)
        size = n * int(np.prod(shape))
        tv = self.tv_weight
        idlg = self.start == "random"  # iDLG's labels, fixed: only the windows are fitted
        named = initial_labels(target, n) % classes
        fixed = tf.constant(np.eye(classes, dtype=np.float32)[named])

        @tf.function(reduce_retracing=True)
        def fun(z):
            with tf.GradientTape() as tape:
                tape.watch(z)
                windows = tf.reshape(z[:size], (n, *shape))
                labels = fixed if idlg else tf.nn.softmax(tf.reshape(z[size:], (n, classes)))
                loss = replica.squared_distance(to_features(windows), labels)
                if tv > 0:
                    loss += tv * total_variation(windows)
            return loss, tape.gradient(loss, z)

        lo, hi = target.knowledge.input_scale * np.array([-128 - target.knowledge.input_zero_point,
                                                          127 - target.knowledge.input_zero_point])
        lower = np.concatenate([np.full(size, lo), np.full(n * classes, -np.inf)])
        upper = np.concatenate([np.full(size, hi), np.full(n * classes, np.inf)])
        rng = np.random.default_rng(self.seed)
        rows = row_starts(target, n, self.restarts, rng=rng) if self.start == "rows" and not through_backbone else []
        starts = [np.clip(r, lo, hi).reshape(-1) for r in rows]
        starts += [rng.normal(size=size).astype(np.float32) for _ in range(self.restarts - len(starts))]
        best, iterations = None, 0
        for x0 in starts:
            if rows:  # soft labels at the model's prediction for the start
                logits = head_logits(target.global_layers, to_features(tf.constant(x0.reshape((n, *shape)))).numpy())
            else:  # iDLG's labels (fixed; their logits only carry them through)
                logits = IDLG_LOGIT * np.eye(classes, dtype=np.float32)[named]
            z, value, nit = lbfgs(fun, np.concatenate([x0, logits.reshape(-1)]), self.iterations, lower, upper)
            iterations += nit
            if best is None or value < best[1]:
                best = (z, value)
        z, value = best
        windows = z[:size].reshape((n, *shape))
        label_probs = np.eye(classes, dtype=np.float32)[named] if idlg else tf.nn.softmax(z[size:].reshape(n, classes)).numpy()
        features = to_features(tf.constant(windows)).numpy()
        unseen = n - len(replica.seen)
        notes = (f"squared distance {value:.3g} (relative to the update), {self.restarts} restarts, "
                 f"{time.perf_counter() - start:.1f} s" + (f"; {unseen} samples no step used" if unseen else ""))
        return Reconstruction(windows=windows.astype(np.float32), features=features.astype(np.float32),
                              labels=np.argmax(label_probs, 1).astype(np.int64),
                              label_counts=np.bincount(np.argmax(label_probs, 1), minlength=classes),
                              iterations=iterations, notes=notes)


@register("dlg_from_analytic")
class DlgFromAnalyticAttack(DlgAttack):
    description = ("DLG's fit of windows and soft labels started from the analytic attack's first-layer rows with labels "
                   "at the model's prediction (a refinement of the analytic attack)")

    def __init__(self, **options) -> None:
        super().__init__(**{"start": "rows", **options})
