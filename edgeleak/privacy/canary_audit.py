"""An empirical audit of a device's ε (docs/privacy.md, "Auditing the device's ε"): the server plays the membership
game against the device's own noise and accounting, and turns what it wins into lower bounds on ε.

The auditor is the malicious server at its sharpest. It sends head weights it crafted: the last layer's weights are
zero and its bias puts the canary window exactly between two classes a and b (equal logits, the rest far below),
so the round's update on the window labelled a is the exact negative of the update on the window labelled b, both
larger than the clip. Each of m rounds stores one window, the canary labelled a (included, S = +1) or labelled b
(S = −1), chosen by a fair coin: the two stored sets are neighbours under replacement, the unit the device accounts
for, and a fresh set each round (CLEAR_SAMPLES), so each round costs the device one release. The server knows
both noise-free updates on the device's grid (the host's bit-exact twin), scores each release by its projection on
their difference, guesses S, and bounds ε from the guesses (edgeleak.privacy.audit_math). A bound above the ε the
device accounted means the noise, the clipping or the accounting is wrong.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.core.model import ModelDir
from edgeleak.errors import EdgeleakError
from edgeleak.link.client import DeviceClient
from edgeleak.privacy.audit_math import GdpEstimate, OneRun, gdp_bound, one_run_bound
from edgeleak.privacy.grid import NoiseGrid, epsilon_zcdp, make_grid, release_rho
from edgeleak.train.config import ClipMode, NoiseKind, TrainConfig
from edgeleak.train.defenses import clip_scale, global_norm, grid_round
from edgeleak.train.oracle import flatten_layers, train_round

LOGIT = 8.0  # the crafted bias: classes a and b at +LOGIT, the others at −LOGIT
LEARNING_RATE = 5.0  # large enough that both updates are clipped


@dataclass(frozen=True, kw_only=True)
class AuditPlan:
    canaries: int = 1000  # rounds of the game, one canary each
    clip_norm: float = 1.0
    noise_multiplier: float = 2.0
    confidence: float = 0.95
    seed: int = 0  # of the coin flips and the canary window
    device_seed: int | None = None  # seeds the device's noise (testing builds only): a repeatable game

    def __post_init__(self) -> None:
        problems = []
        if self.canaries < 20:
            problems.append(f"canaries {self.canaries} must be at least 20")
        if not (self.clip_norm > 0 and math.isfinite(self.clip_norm)):
            problems.append(f"clip norm {self.clip_norm} must be a finite number > 0")
        if not (self.noise_multiplier > 0 and math.isfinite(self.noise_multiplier)):
            problems.append(f"noise multiplier {self.noise_multiplier} must be a finite number > 0")
        if not 0.5 <= self.confidence < 1:
            problems.append(f"confidence {self.confidence} must be in [0.5, 1)")
        if problems:
            raise EdgeleakError("invalid audit plan: " + "; ".join(problems))

    def config(self) -> TrainConfig:
        return TrainConfig(learning_rate=LEARNING_RATE, batch_size=1, local_steps=1, clip_mode=ClipMode.UPDATE,
                           clip_norm=self.clip_norm, noise_kind=NoiseKind.GAUSSIAN,
                           noise_multiplier=self.noise_multiplier, seed=self.device_seed)


@dataclass(frozen=True)
class AuditResult:
    canaries: int
    included: int
    clip_norm: float
    noise_multiplier: float
    delta: float  # the device's δ
    accounted_epsilon: float  # what the device charged for one release (its UPDATE metadata)
    twin_epsilon: float  # the host twin's figure for the same release
    mu_accounted: float  # 2B/s: the Gaussian μ the accounting assumes
    one_run: OneRun
    gdp: GdpEstimate
    confidence: float
    seconds: float

    @property
    def violated(self) -> bool:
        """An audited lower bound above the accounted ε: the device leaks more than it charges."""
        return self.one_run.epsilon > self.accounted_epsilon or self.gdp.epsilon_lower > self.accounted_epsilon

    def lines(self) -> list[str]:
        level = f"{self.confidence:.0%}"
        verdict = ("VIOLATION: an audited bound exceeds the accounted epsilon" if self.violated
                   else "consistent: no audited bound exceeds the accounted epsilon")
        return [f"{self.canaries} canaries ({self.included} included), clip {self.clip_norm:g}, "
                f"sigma {self.noise_multiplier:g}, delta {self.delta:g}",
                f"accounted epsilon = {self.accounted_epsilon:.3f} per release (host twin {self.twin_epsilon:.3f}), "
                f"mu = {self.mu_accounted:.3f}",
                f"audited epsilon >= {self.one_run.epsilon:.3f} at {level} (one run: {self.one_run.correct} of "
                f"{self.one_run.guesses} guesses right; no assumption on the mechanism)",
                f"audited epsilon >= {self.gdp.epsilon_lower:.3f} at {level} (Gaussian DP: mu = {self.gdp.mu:.3f}, "
                f"at least {self.gdp.mu_lower:.3f})",
                verdict]

    def to_json(self) -> dict:
        raw = dataclasses.asdict(self)
        raw["violated"] = self.violated
        return raw


def crafted_head(layers: list[DenseLayer], a: int, b: int) -> list[DenseLayer]:
    """The head with its last layer's weights zeroed and a bias of +LOGIT on classes a and b, −LOGIT elsewhere."""
    last = layers[-1]
    bias = np.full(last.bias.shape, -LOGIT, np.float32)
    bias[[a, b]] = LOGIT
    return [*layers[:-1], DenseLayer(np.zeros_like(last.weights), bias)]


def clean_grid_update(layers: list[DenseLayer], features: np.ndarray, label: int, config: TrainConfig,
                      grid: NoiseGrid) -> np.ndarray:
    """The noise-free update of one stored window on the device's grid (int64 grid steps): the round, the clip at
    C_eff and the rounding exactly as the device does them."""
    quiet = dataclasses.replace(config, clip_mode=ClipMode.NONE, noise_kind=NoiseKind.NONE, noise_multiplier=0.0)
    delta = train_round(layers, features[None, :], np.array([label]), quiet).delta
    norm = global_norm(delta)
    if not norm > float(grid.clip_eff):
        raise EdgeleakError(f"the canary's update ({norm:.3g}) is not larger than the clip ({float(grid.clip_eff):.3g}): "
                            "the audit would not be sharp")
    q, ok = grid_round(np.concatenate(delta), grid, clip_scale(norm, grid.clip_eff), np.float32(grid.sens), True)
    if not ok:
        raise EdgeleakError("the canary's clipped update fails the device's exact norm check")
    return q


def run_audit(client: DeviceClient, model: ModelDir, layers: list[DenseLayer], plan: AuditPlan,
              features: Callable[[np.ndarray], np.ndarray], *, delta: float,
              progress: Callable[[str], None] | None = None) -> AuditResult:
    """Play the game on an open device whose model has head ``layers``; ``features`` maps int8 windows to the
    head's input as the device computes it."""
    start = time.perf_counter()
    config = plan.config()
    classes = layers[-1].bias.shape[0]
    if classes < 2:
        raise EdgeleakError("the head has one output: there are no two labels to play the game with")
    a, b = 0, 1
    head = crafted_head(layers, a, b)
    params = sum(layer.weights.size + layer.bias.size for layer in head)
    grid = make_grid(config.clip_norm, config.noise_multiplier, params)
    if grid is None:
        raise EdgeleakError(f"clip {plan.clip_norm:g} and sigma {plan.noise_multiplier:g} do not fit the device's noise grid")
    rng = np.random.default_rng(plan.seed)
    window = rng.integers(-128, 128, model.input_bytes).astype(np.int8)
    feats = features(window[None, :])[0]
    q_in = clean_grid_update(head, feats, a, config, grid)
    q_out = clean_grid_update(head, feats, b, config, grid)
    direction = (q_in - q_out).astype(np.float64)
    direction /= np.linalg.norm(direction)
    centre = (q_in + q_out).astype(np.float64) / 2.0
    truth = np.where(rng.random(plan.canaries) < 0.5, 1, -1)

    client.configure(config)
    client.load_weights(np.concatenate(flatten_layers(head)))
    scores = np.empty(plan.canaries)
    accounted = math.nan
    step = math.ldexp(1.0, -grid.exponent)
    for i, s in enumerate(truth):
        client.clear_samples()
        client.add_sample(a if s > 0 else b, window.tobytes())
        update = client.train()
        meta = update.meta
        if (meta.sensitivity_units, meta.noise_units, meta.grid_exponent) != (grid.sens, grid.scale, grid.exponent):
            raise EdgeleakError(f"the device's grid (B {meta.sensitivity_units}, s {meta.noise_units}, e "
                                f"{meta.grid_exponent}) is not the host twin's (B {grid.sens}, s {grid.scale}, e "
                                f"{grid.exponent})")
        accounted = float(meta.epsilon_total) if meta.epsilon_total is not None else math.inf
        z = np.rint(update.flat().astype(np.float64) * step)
        scores[i] = float(np.dot(z - centre, direction))
        if progress and (i + 1) % max(1, plan.canaries // 10) == 0:
            progress(f"{i + 1}/{plan.canaries} canaries")
    return AuditResult(
        canaries=plan.canaries, included=int((truth > 0).sum()), clip_norm=plan.clip_norm,
        noise_multiplier=plan.noise_multiplier, delta=delta, accounted_epsilon=accounted,
        twin_epsilon=epsilon_zcdp(release_rho(grid, 1), delta), mu_accounted=2.0 * grid.sens / grid.scale,
        one_run=one_run_bound(scores, truth, delta=delta, confidence=plan.confidence),
        gdp=gdp_bound(scores, truth, delta=delta, confidence=plan.confidence),
        confidence=plan.confidence, seconds=time.perf_counter() - start)


def audit_board(board, model_path, *, port: str | None = None, build_flags: tuple[str, ...] = (),
                plan: AuditPlan | None = None, progress: Callable[[str], None] | None = None) -> AuditResult:
    """Build and start ``board`` (emulated and host boards, with ``build_flags``) or open it on ``port``, and audit
    the ε it accounts for one release."""
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.device.session import open_device
    from edgeleak.fl.features import cut_features

    plan = plan or AuditPlan()
    model = load_model_dir(model_path)
    layers = list(model.head)
    if not layers:
        raise EdgeleakError(f"the model in {model_path} has no trainable head: its devices never train, nothing to audit")
    shape = tuple(model.input_shape[1:])
    if progress:
        progress(f"opening {board.name} with {model_path}" + (f" built with {' '.join(build_flags)}" if build_flags else ""))
    with open_device(board, model, port=port, build_flags=build_flags) as session:
        return run_audit(session.client, model, layers, plan,
                         lambda windows: cut_features(model, windows.reshape((len(windows), *shape))),
                         delta=float(session.info.floor_delta), progress=progress)
