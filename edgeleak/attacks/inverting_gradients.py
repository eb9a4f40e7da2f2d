"""Inverting Gradients (Geiping et al. 2020) on device updates, with a smoothness prior for time series.

Candidate windows (through ``backbone.py`` when the model has an int8 backbone) are fitted with Adam on the sign
of the gradient to minimise ``1 - cos(simulated update, observed update)`` over the coordinates the device sent,
plus ``tv_weight`` times the total variation along time; the replica replays every local step of the round (and
``K`` devices for an aggregate). Labels are soft and learnt jointly.

Two attacks under two names (docs/attacks.md), the restart with the lowest objective returned by each:

* ``inverting_gradients``: as published, from small random windows, with labels from the output-bias delta
  (``labels_from_output_bias``, as iDLG names the label from the last layer's gradient).
* ``inverting_gradients_from_analytic``: when the head reads the inputs directly, each row of the first layer's
  delta divided by its bias delta is an affine combination of the samples' features (a sample itself when one
  sample alone activates the unit); the samples the exclusivity analysis verifies (``exclusive.py``) are held
  fixed, and the choices of rows whose activation patterns best explain the layer (``replica.row_consistency``)
  start the others, with soft labels first fitted from the model's own prediction.
  A refinement of the analytic attack, named as one. (Through a backbone both start at random.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

from edgeleak.attacks.backbone import feature_map, total_variation
from edgeleak.attacks.base import AttackInput, Reconstruction, nothing_sent, register
from edgeleak.attacks.exclusive import exclusive_features
from edgeleak.attacks.replica import TargetReplica, head_logits, initial_labels, row_starts


@dataclass(frozen=True)
class Fit:
    value: float
    variables: tuple[np.ndarray, ...]
    iterations: int


def adam_fit(objective: Callable[..., tf.Tensor], initial: list[np.ndarray], *, iterations: int, learning_rate: float,
             bounds: list[tuple[float, float] | None] | None = None, signed: bool = True) -> Fit:
    """Minimise ``objective(*variables)`` with Adam (on the sign of the gradient when ``signed``, as in Inverting
    Gradients), the learning rate decayed by 10 at 3/8, 5/8 and 7/8 of the budget; variables are projected onto
    ``bounds``. Returns the final variables and their objective."""
    variables = [tf.Variable(v.astype(np.float32)) for v in initial]
    schedule = tf.keras.optimizers.schedules.PiecewiseConstantDecay(
        [int(iterations * f) for f in (3 / 8, 5 / 8, 7 / 8)], [learning_rate * 10.0 ** -k for k in range(4)])
    optimizer = tf.keras.optimizers.Adam(schedule)
    bounds = bounds or [None] * len(variables)

    optimizer.build(variables)  # its moments exist before the loop: a graph loop cannot create variables

    def step():
        with tf.GradientTape() as tape:
            loss = objective(*variables)
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
        if signed:
            grads = [tf.sign(g) for g in grads]
        optimizer.apply_gradients(zip(grads, variables))
        for v, b in zip(variables, bounds):
            if b is not None:
                v.assign(tf.clip_by_value(v, b[0], b[1]))

    @tf.function
    def run(steps):
        for _ in tf.range(steps):  # one graph loop, not a Python call per step
            step()

    run(tf.constant(iterations, tf.int32))
    final = float(objective(*variables))
    return Fit(final if np.isfinite(final) else np.inf, tuple(v.numpy() for v in variables), iterations)


def window_bounds(target: AttackInput) -> tuple[float, float]:
    """The float window values the model's int8 input can represent."""
    k = target.knowledge
    return k.input_scale * (-128 - k.input_zero_point), k.input_scale * (127 - k.input_zero_point)


@dataclass(frozen=True, kw_only=True)
class FitOptions:
    """The budget and knobs of one optimisation of candidate inputs against a target's update."""

    iterations: int = 400  # Adam steps refining inputs and labels together, per restart
    restarts: int = 2
    learning_rate: float = 0.1
    tv_weight: float = 1e-2  # total variation along time (windows only)
    learn_labels: bool = True
    signed: bool = True
    rowwise: bool = False  # 1 - cosine per weight row instead of over the whole update
    row_init: bool = True  # start from rows of the first layer's delta (when the inputs are the head's features)
    refine: float = 0.01  # learning-rate factor when starting from rows
    screen: int = 128  # choices of rows ranked by row_consistency
    label_iterations: int = 200  # Adam steps fitting the soft labels alone to a row start
    label_logit: float = 3.0  # strength of the output-bias label guess for random starts
    seed: int = 0

    def __post_init__(self) -> None:
        if self.iterations < 0 or self.restarts < 1 or self.tv_weight < 0 or not self.learning_rate > 0:
            raise ValueError("iterations must be >= 0, restarts >= 1, learning_rate > 0 and tv_weight >= 0")


def fit_update(target: AttackInput, replica: TargetReplica, to_features: Callable[[tf.Tensor], tf.Tensor],
               shape: tuple[int, ...], bounds: tuple[float, float], options: FitOptions, *,
               rows_are_inputs: bool, time_series: bool) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Inputs ``shape`` and label logits whose replayed round best matches the update (1 - cosine, plus the TV
    prior for time series). With ``rows_are_inputs`` (the inputs are the head's features, reshaped), the starts
    are the choices of first-layer rows that best explain the layer; otherwise small random inputs. Returns
    ``(inputs, logits, objective, iterations)`` of the best restart."""
    n, classes = shape[0], replica.classes
    first = initial_labels(target, n)
    rng = np.random.default_rng(options.seed)
    lo, hi = bounds

    def objective(inputs, logits):
        labels = tf.nn.softmax(logits) if options.learn_labels else tf.constant(first)
        distance = replica.rowwise_cosine_distance if options.rowwise else replica.cosine_distance
        value = distance(to_features(inputs), labels)
        return value + options.tv_weight * total_variation(inputs) if time_series else value

    # rows of the first layer are affine combinations of the samples, often a sample itself: the choices of n
    # rows whose activation patterns best explain the layer are the starts
    rows = row_starts(target, n, options.restarts, screen=options.screen, rng=rng) if rows_are_inputs and options.row_init else []
    if rows:
        starts = [np.clip(r, lo, hi).reshape(shape) for r in rows]
    else:
        starts = [rng.normal(0.0, 0.1, shape).astype(np.float32) for _ in range(options.restarts)]
    # samples the exclusivity analysis verified are exact: every start holds them, and the fit leaves them alone
    frozen = exclusive_features(target)[:n].reshape(-1, *shape[1:]) if rows else np.zeros((0, *shape[1:]), np.float32)
    held = tf.constant(frozen.astype(np.float32))

    def whole(free):
        return tf.concat([held, free], 0)

    def free_objective(free, logits):
        return objective(whole(free), logits)

    best: tuple[np.ndarray, np.ndarray, float] | None = None
    iterations = 0
    for start in starts:
        if rows:
            # soft labels start at the model's prediction for the start (each sample's gradient near zero)
            logits = head_logits(target.global_layers, to_features(tf.constant(start)).numpy())
            if options.learn_labels and options.label_iterations:
                fixed = tf.constant(start)
                fit = adam_fit(lambda lg: objective(fixed, lg), [logits], iterations=options.label_iterations,
                               learning_rate=options.learning_rate, signed=False)
                logits, iterations = fit.variables[0], iterations + fit.iterations
            lr = options.learning_rate * options.refine
        else:
            logits = options.label_logit * np.eye(classes, dtype=np.float32)[first]
            lr = options.learning_rate
        if len(frozen) == n:  # every sample verified: nothing left to fit
            value = float(objective(tf.constant(start), tf.constant(logits)))
            candidate = (start, logits, value)
        else:
            fit = adam_fit(free_objective, [start[len(frozen):], logits],
                           iterations=options.iterations, learning_rate=lr, bounds=[(lo, hi), None], signed=options.signed)
            iterations += fit.iterations
            candidate = (whole(tf.constant(fit.variables[0])).numpy(), fit.variables[1], fit.value)
        if best is None or candidate[2] < best[2]:
            best = candidate
    return best[0], best[1], best[2], iterations


@register("inverting_gradients")
class InvertingGradientsAttack:
    description = ("Inverting Gradients as published: Adam from random windows on 1 - cosine between replayed and "
                   "observed updates with a total-variation prior along time; labels from the output-bias delta (iDLG)")

    def __init__(self, *, epochs_mode: bool = False, **options) -> None:
        self.options = FitOptions(**{"row_init": False, **options})
        self.epochs_mode = epochs_mode

    def applicable(self, target: AttackInput) -> str | None:
        return nothing_sent(target)

    def run(self, target: AttackInput) -> Reconstruction:
        start = time.perf_counter()
        replica = TargetReplica(target, epochs_mode=self.epochs_mode)
        to_features, through_backbone = feature_map(target.knowledge)
        shape = (replica.samples, *target.knowledge.input_shape[1:])
        windows, logits, value, iterations = fit_update(
            target, replica, to_features, shape, window_bounds(target), self.options,
            rows_are_inputs=not through_backbone, time_series=True)
        labels = np.argmax(logits, 1) if self.options.learn_labels else initial_labels(target, replica.samples)
        features = to_features(tf.constant(windows)).numpy()
        unseen = replica.samples - len(replica.seen)
        notes = (f"objective {value:.3g}, {self.options.restarts} restarts, {time.perf_counter() - start:.1f} s"
                 + (f"; {unseen} samples no step used" if unseen else ""))
        return Reconstruction(windows=windows.astype(np.float32), features=features.astype(np.float32),
                              labels=labels.astype(np.int64), label_counts=np.bincount(labels, minlength=replica.classes),
                              iterations=iterations, notes=notes)


@register("inverting_gradients_from_analytic")
class InvertingGradientsFromAnalyticAttack(InvertingGradientsAttack):
    description = ("Inverting Gradients' fit started from the analytic attack's first-layer rows with labels at the "
                   "model's prediction (a refinement of the analytic attack)")

    def __init__(self, *, epochs_mode: bool = False, **options) -> None:
        super().__init__(epochs_mode=epochs_mode, **{"row_init": True, **options})
