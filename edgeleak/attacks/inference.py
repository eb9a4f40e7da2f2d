"""Property and identity inference from device updates (in the manner of Melis et al. 2019).

Threat model: an honest-but-curious server. It knows the model (the int8 graph and the float head), the global
weights of every round, the hyperparameters each device reports with its update (learning rate, momentum, batch
size, steps, samples, clipping, encoding) and auxiliary data of the same task (its own recordings, never a
device's). For identity it also knows which device sent the updates of the enrollment rounds. It infers (a) the
activity mix of a device's session, the fraction π_c of its windows of each class c and the dominant class
argmax_c π_c, and (b) the sender of an update whose sender is hidden (e.g. behind a shuffler).

Why it works: for softmax cross-entropy the output layer's gradient of one sample is ``(p - e_y)[hᵀ, 1]``, so the
last layer's delta ``-lr Σ_steps (1/B) Σ_i (p_i - e_{y_i})[h_iᵀ, 1]`` carries the class counts of the batch and the
mean hidden features of each class. The server replays training with the numpy oracle (noise off) on batches drawn
from its auxiliary data under random mixes π ~ Dir(α·1) and fits multinomial logistic regressions from the
update's features φ(Δ) (``update_features``) to the dominant class and, with soft labels, to π (minimising the
cross-entropy -Σ_c π_c log q_c(φ)). A device's estimate is the sample-weighted mean over its rounds. Identity is a
multinomial logistic regression from φ(Δ) to the device, fitted on the enrollment rounds. The ground truth is read
only to score.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak import strict_json
from edgeleak.core.head import DenseLayer
from edgeleak.errors import EdgeleakError, NotApplicable
from edgeleak.train.config import ClipMode, NoiseKind, Sparsify, TrainConfig
from edgeleak.train.oracle import train_round
from edgeleak.train.update import UpdateMeta

SUMMARIES = ("last_layer_share", "last_bias_share", "bias_positive_fraction", "bias_peak")
"""The scale-free summaries that end ``update_features``, in order."""


@dataclass(frozen=True)
class InferenceResult:
    """One inferred property scored against the truth. ``accuracy``/``chance``: of the dominant activity per device
    (property "activity_mix") or of the sender per test update ("identity"); ``error``/``chance_error``: mean L1
    distance of the estimated mix to the true one, and of the auxiliary data's class prior (None for identity)."""

    property: str
    accuracy: float
    chance: float
    targets: int  # devices scored (activity mix) or test updates (identity)
    error: float | None
    chance_error: float | None
    notes: str

    def to_json(self) -> dict:
        """A plain dict, strict JSON: non-finite floats become None."""
        return strict_json.finite_or_none(dataclasses.asdict(self))


@dataclass(frozen=True)
class ObservedUpdate:
    """What the server holds of one update: sender, round, the global head it started from, the delta, and the
    configuration the device reported (noise off: the server replays the mechanism, not its noise)."""

    device: int
    round: int
    layers: tuple[DenseLayer, ...]
    delta: tuple[np.ndarray, ...]  # per tensor, flattened (W0, b0, W1, b1, ...)
    config: TrainConfig
    samples: int


def update_features(delta_tensors: Sequence[np.ndarray], layers: Sequence[DenseLayer]) -> np.ndarray:
    """φ(Δ) = [Δb_L/‖Δ‖, vec(ΔW_L)/‖Δ‖, s], with ‖Δ‖ the L2 norm over every tensor of the update and s the summaries
    ‖Δ_L‖²/‖Δ‖² (energy of the last layer), ‖Δb_L‖²/‖Δ‖², the fraction of positive Δb_L entries and
    max_c Δb_L,c / Σ_c |Δb_L,c| (0 when Δb_L = 0). ΔW_L is flattened ``(out, in)`` row-major.

    φ(cΔ) = φ(Δ) for every c > 0, so the learning rate and update clipping only matter through the training path.
    Non-finite entries count as 0; a zero update gives the zero vector. Length ``K(H + 1) + 4`` for ``K`` classes
    and ``H`` inputs of the last layer."""
    if len(delta_tensors) != 2 * len(layers) or not layers:
        raise ValueError(f"an update of a {len(layers)}-layer head has {2 * len(layers)} tensors, got {len(delta_tensors)}")
    out_dim, in_dim = layers[-1].weights.shape
    flat = [np.nan_to_num(np.asarray(t, np.float64).reshape(-1), nan=0.0, posinf=0.0, neginf=0.0) for t in delta_tensors]
    w, b = flat[-2], flat[-1]
    if w.size != out_dim * in_dim or b.size != out_dim:
        raise ValueError(f"the last layer's delta has {w.size} + {b.size} entries; the layer is {out_dim} x {in_dim}")
    energy = float(sum(np.dot(t, t) for t in flat))
    if energy <= 0.0:
        return np.zeros(out_dim * (in_dim + 1) + len(SUMMARIES))
    norm = math.sqrt(energy)
    bias_l1 = float(np.abs(b).sum())
    summaries = [(np.dot(w, w) + np.dot(b, b)) / energy, np.dot(b, b) / energy, float(np.mean(b > 0)),
                 float(b.max()) / bias_l1 if bias_l1 > 0 else 0.0]
    return np.concatenate([b / norm, w / norm, np.asarray(summaries, np.float64)])


def reported_config(meta: UpdateMeta) -> TrainConfig:
    """The training configuration a device reported with its update, with noise off."""
    if not (math.isfinite(meta.learning_rate) and math.isfinite(meta.momentum)):
        raise EdgeleakError(f"round {meta.round}: the update reports no finite learning rate or momentum")
    clip_ok = meta.clip_mode != ClipMode.NONE and math.isfinite(meta.clip_norm) and meta.clip_norm > 0
    fraction = meta.sparsify_fraction if math.isfinite(meta.sparsify_fraction) else 1.0
    return TrainConfig(learning_rate=meta.learning_rate, momentum=meta.momentum, batch_size=max(1, meta.batch_size),
                       local_steps=0 if meta.epochs else max(1, meta.steps), epochs=max(1, meta.epochs or 1),
                       clip_mode=meta.clip_mode if clip_ok else ClipMode.NONE, clip_norm=meta.clip_norm if clip_ok else 0.0,
                       noise_kind=NoiseKind.NONE, noise_multiplier=0.0, sparsify=meta.sparsify,
                       sparsify_fraction=fraction if meta.sparsify != Sparsify.NONE else 1.0, encoding=meta.encoding,
                       round=meta.round)


def simulate_updates(layers: Sequence[DenseLayer], features: np.ndarray, labels: np.ndarray, config: TrainConfig, *,
                     samples: int, count: int, rng: np.random.Generator, class_mix: np.ndarray | None = None,
                     concentration: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``count`` rounds of the oracle from ``layers`` on ``samples`` auxiliary windows each (head features
    ``features``, labels ``labels``): the class counts are Multinomial(samples, π) with π = ``class_mix`` or
    π ~ Dir(α·1) over the classes present in the auxiliary data, windows drawn uniformly within their class.
    Returns ``(X, mixes)``: φ of every update ``(count, K(H+1)+4)`` and the realised class fractions ``(count, K)``."""
    classes = layers[-1].weights.shape[0]
    labels = np.asarray(labels, np.int64)
    if samples < 1 or count < 1:
        raise ValueError("simulate at least one update of at least one sample")
    pools = [np.flatnonzero(labels == c) for c in range(classes)]
    present = np.array([len(p) > 0 for p in pools])
    if not present.any():
        raise EdgeleakError("the auxiliary data has no labelled window of the model's classes")
    if class_mix is not None:
        fixed = np.asarray(class_mix, np.float64)
        if fixed.shape != (classes,) or (fixed < 0).any() or fixed.sum() <= 0 or (fixed[~present] > 0).any():
            raise ValueError(f"the class mix must be {classes} non-negative weights on classes the auxiliary data has")
        fixed = fixed / fixed.sum()
    config = dataclasses.replace(config, noise_kind=NoiseKind.NONE, noise_multiplier=0.0)
    head = list(layers)
    rows, mixes = [], np.zeros((count, classes))
    for k in range(count):
        if class_mix is None:
            mix = np.zeros(classes)
            mix[present] = rng.dirichlet(np.full(int(present.sum()), concentration))
        else:
            mix = fixed
        counts = rng.multinomial(samples, mix)
        picks = np.concatenate([rng.choice(pools[c], n) for c, n in enumerate(counts) if n])
        picks = picks[rng.permutation(len(picks))]
        delta = train_round(head, features[picks], labels[picks], config, rng=rng).delta
        rows.append(update_features(delta, head))
        mixes[k] = counts / samples
    return np.stack(rows), mixes


def _fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tiny enrollment sets
        model.fit(x, y, logisticregression__sample_weight=weight)
    return model


def _proba(model, x: np.ndarray, classes: int) -> np.ndarray:
    """Class probabilities ``(n, classes)``, zero for classes the model never saw."""
    out = np.zeros((len(x), classes))
    out[:, model.classes_.astype(np.int64)] = model.predict_proba(x)
    return out


@dataclass(frozen=True)
class DeviceEstimate:
    device: int
    dominant: np.ndarray  # (K,) mean probability of each class being the round's dominant one
    mix: np.ndarray  # (K,) estimated class fractions, on the simplex


def estimate_mixes(observed: Sequence[ObservedUpdate], aux_features: np.ndarray, aux_labels: np.ndarray, *,
                   simulations: int = 600, concentration: float = 0.5,
                   rng: np.random.Generator) -> tuple[tuple[DeviceEstimate, ...], int]:
    """Fit both models on ``simulations`` oracle rounds, split evenly over the (round, configuration, samples) of the
    observed updates, and estimate every device's dominant class and mix (sample-weighted means over its rounds).
    Returns the estimates and the number of rounds simulated."""
    if not observed:
        raise EdgeleakError("no update to infer from")
    classes = observed[0].layers[-1].weights.shape[0]
    groups: dict[tuple, ObservedUpdate] = {}
    for u in observed:
        groups.setdefault((u.round, u.config, u.samples), u)
    per_group = max(1, math.ceil(simulations / len(groups)))
    xs, ms = [], []
    for u in groups.values():
        x, m = simulate_updates(u.layers, aux_features, aux_labels, u.config, samples=u.samples, count=per_group,
                                rng=rng, concentration=concentration)
        xs.append(x)
        ms.append(m)
    x, mixes = np.concatenate(xs), np.concatenate(ms)
    dominant = np.argmax(mixes, axis=1)
    if len(np.unique(dominant)) < 2:
        raise EdgeleakError("the simulated updates have a single dominant class; the auxiliary data needs two classes")
    classifier = _fit_logistic(x, dominant)
    # Soft labels: each simulated update once per class, weighted by that class's fraction.
    rows, cols = np.nonzero(mixes > 0)
    mixer = _fit_logistic(x[rows], cols, mixes[rows, cols])
    estimates = []
    for device in sorted({u.device for u in observed}):
        mine = [u for u in observed if u.device == device]
        phi = np.stack([update_features(u.delta, u.layers) for u in mine])
        weight = np.array([max(1, u.samples) for u in mine], np.float64)[:, None]
        p_dom = (_proba(classifier, phi, classes) * weight).sum(0) / weight.sum()
        p_mix = (_proba(mixer, phi, classes) * weight).sum(0) / weight.sum()
        estimates.append(DeviceEstimate(device, p_dom, p_mix))
    return tuple(estimates), len(x)


def score_mixes(estimates: Sequence[DeviceEstimate], true_mixes: Mapping[int, np.ndarray], prior: np.ndarray,
                notes: str = "") -> InferenceResult:
    """Accuracy of the dominant class (correct when the guessed class has the device's largest true fraction, so ties
    count for every tied class) vs always guessing the prior's most common class (averaged over tied modes); mean L1
    error ‖π̂ - π‖₁ vs ‖prior - π‖₁."""
    scored = [e for e in estimates if e.device in true_mixes]
    if not scored:
        raise EdgeleakError("the ground truth covers none of the devices that sent updates")
    prior = np.asarray(prior, np.float64)

    def hit(mix: np.ndarray, guess: int) -> float:
        return float(mix[guess] >= mix.max() - 1e-12)

    modes = np.flatnonzero(prior >= prior.max() - 1e-12)
    truth = [np.asarray(true_mixes[e.device], np.float64) for e in scored]
    accuracy = float(np.mean([hit(t, int(np.argmax(e.dominant))) for e, t in zip(scored, truth)]))
    chance = float(np.mean([[hit(t, int(m)) for m in modes] for t in truth]))
    error = float(np.mean([np.abs(e.mix - t).sum() for e, t in zip(scored, truth)]))
    chance_error = float(np.mean([np.abs(prior - t).sum() for t in truth]))
    return InferenceResult("activity_mix", accuracy, chance, len(scored), error, chance_error, notes)


def activity_mix_attack(observed: Sequence[ObservedUpdate], aux_features: np.ndarray, aux_labels: np.ndarray,
                        true_mixes: Mapping[int, np.ndarray], *, simulations: int = 600, concentration: float = 0.5,
                        seed: int = 0) -> InferenceResult:
    """Estimate each device's activity mix from its updates (``estimate_mixes``) and score it (``score_mixes``);
    the prior is the auxiliary data's class distribution. ``true_mixes`` (device -> fractions) is only scored."""
    classes = observed[0].layers[-1].weights.shape[0] if observed else 0
    estimates, simulated = estimate_mixes(observed, aux_features, aux_labels, simulations=simulations,
                                          concentration=concentration, rng=np.random.default_rng(seed))
    prior = np.bincount(np.asarray(aux_labels, np.int64), minlength=classes)[:classes] / len(aux_labels)
    notes = (f"{len(observed)} updates of {len(estimates)} devices; models fitted on {simulated} oracle rounds drawn "
             f"from {len(aux_labels)} auxiliary windows, mixes ~ Dirichlet({concentration:g})")
    return score_mixes(estimates, true_mixes, prior, notes)


def identity_attack(observed: Sequence[ObservedUpdate]) -> InferenceResult:
    """Enroll on the first half of the rounds (senders known), predict the sender of every update of the second
    half; accuracy vs max(1 / devices in the test half, the test half's most frequent device's share). A device
    never enrolled is always mispredicted."""
    rounds = sorted({u.round for u in observed})
    if len(rounds) < 2:
        raise NotApplicable(f"identity inference needs updates of at least 2 rounds (enrollment and test), "
                            f"the capture has {len(rounds)}", "fewer than 2 rounds")
    enrolled = set(rounds[: len(rounds) // 2])
    train = [u for u in observed if u.round in enrolled]
    test = [u for u in observed if u.round not in enrolled]
    devices = sorted({u.device for u in train})
    if len(devices) < 2:
        raise NotApplicable("identity inference needs at least 2 enrolled devices", "fewer than 2 devices")
    x = np.stack([update_features(u.delta, u.layers) for u in train])
    model = _fit_logistic(x, np.array([u.device for u in train]))
    predicted = model.predict(np.stack([update_features(u.delta, u.layers) for u in test]))
    senders = np.array([u.device for u in test])
    _, counts = np.unique(senders, return_counts=True)
    chance = max(1.0 / len(counts), float(counts.max()) / len(senders))
    notes = (f"enrolled {len(train)} updates of {len(devices)} devices from rounds {rounds[0]}-{max(enrolled)}; "
             f"tested {len(test)} updates of {len(counts)} devices from rounds {min(u.round for u in test)}-{rounds[-1]}")
    return InferenceResult("identity", float(np.mean(predicted == senders)), chance, len(test), None, None, notes)


def observed_updates(capture) -> tuple[ObservedUpdate, ...]:
    """Every update of a capture with the global head of its round and its reported configuration."""
    from edgeleak.attacks.targets import sent_layers

    return tuple(ObservedUpdate(u.device, u.round, sent_layers(capture, u.round), tuple(u.tensors),
                                reported_config(u.meta), u.meta.samples) for u in capture.updates)


def true_mixes(truth: Sequence, classes: int) -> dict[int, np.ndarray]:
    """Each device's class fractions over all its rounds, from ground-truth records (for scoring only)."""
    labels: dict[int, list[np.ndarray]] = {}
    for record in truth:
        labels.setdefault(record.device, []).append(np.asarray(record.labels, np.int64))
    out = {}
    for device, parts in labels.items():
        y = np.concatenate(parts)
        if len(y):
            out[device] = np.bincount(y, minlength=classes)[:classes] / len(y)
    return out


def infer_from_capture(capture_path: Path, *, model_path: Path | None = None, seed: int = 0,
                       simulations: int = 600) -> tuple[InferenceResult, InferenceResult]:
    """Load a capture and run both attacks: (activity mix, identity). Raises NotApplicable when the capture has
    fewer than 2 rounds or enrolled devices, EdgeleakError when it has no ground truth to score against."""
    from edgeleak.attacks.targets import auxiliary_data, capture_dataset, capture_model, server_knowledge
    from edgeleak.capture.records import CaptureWarning
    from edgeleak.capture.store import TRUTH_FILE, load_capture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureWarning)
        capture = load_capture(capture_path)
    if not (capture_path / TRUTH_FILE).exists():
        raise EdgeleakError(f"{capture_path} has no ground truth to score inference against; capture in replay mode")
    observed = observed_updates(capture)
    if not observed:
        raise EdgeleakError(f"{capture_path} holds no update")
    identity = identity_attack(observed)
    model = capture_model(capture, model_path)
    aux = auxiliary_data(model, capture_dataset(model, capture.session))
    if aux is None:
        raise EdgeleakError(f"the server has no auxiliary data: data set {capture.session.get('dataset')!r} cannot be loaded")
    classes = server_knowledge(model, aux).num_classes
    mix = activity_mix_attack(observed, aux.features, aux.labels, true_mixes(capture.truth(), classes),
                              simulations=simulations, seed=seed)
    return dataclasses.replace(mix, notes=f"{mix.notes} ({aux.source})"), identity
