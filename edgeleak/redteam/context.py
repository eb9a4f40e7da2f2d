"""What every attack works with: the device link, the model's head, and the samples the red team stored itself
(replay mode) with their noise-free oracle updates. Device refusals come back as error-code names, not exceptions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.core.model import ModelDir
from edgeleak.errors import EdgeleakError
from edgeleak.link.client import DeviceClient, DeviceError, LinkTimeout
from edgeleak.link.messages import ErrorCode
from edgeleak.redteam.results import DeviceFacts
from edgeleak.redteam.score import head_shapes
from edgeleak.train.config import ClipMode, NoiseKind, TrainConfig
from edgeleak.train.oracle import flatten_layers, train_round
from edgeleak.train.update import Update

T = TypeVar("T")

PACED_SIGMA = 4.0
"""Noise multiplier of the rounds an attack needs released under a budget (about 1/8 zCDP each: nine at ε = 8)."""

@dataclass(frozen=True, kw_only=True)
class RedteamPlan:
    """How hard the red team tries. Defaults suit the command line; tests pass fewer rounds."""

    samples: int = 4  # windows the red team stores (replay mode)
    seed: int = 0  # of the windows and labels
    rounds: int = 300  # most rounds the averaging attack asks for
    probe_values: int = 32  # stored values the metadata attack tries to recover
    attacks: tuple[str, ...] = ()  # attack names to run; empty: all

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.samples <= 32:
            problems.append(f"samples {self.samples} must be 1 to 32")
        if self.rounds < 2:
            problems.append(f"rounds {self.rounds} must be at least 2")
        if self.probe_values < 1:
            problems.append(f"probe values {self.probe_values} must be at least 1")
        if problems:
            raise EdgeleakError("invalid red-team plan: " + "; ".join(problems))


def error_name(exc: DeviceError) -> str:
    try:
        return ErrorCode(exc.code).name
    except ValueError:
        return f"code {exc.code}"


def replay_windows(input_bytes: int, classes: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random int8 windows and labels: the private samples of replay mode."""
    rng = np.random.default_rng(seed)
    windows = rng.integers(-128, 128, (count, input_bytes)).astype(np.int8)
    labels = rng.integers(0, classes, count).astype(np.int64)
    return windows, labels


class AttackContext:
    """The device and the red team's own copy of the samples it stored. Stateless for attacks apart from the
    device itself: :meth:`fresh` returns the device to a known state (new samples, fresh budget, head weights)."""

    def __init__(self, client: DeviceClient, facts: DeviceFacts, model: ModelDir, layers: list[DenseLayer],
                 plan: RedteamPlan, features: Callable[[np.ndarray], np.ndarray],
                 progress: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.facts = facts
        self.model = model
        self.layers = layers
        self.shapes = head_shapes(layers)
        self.params = np.concatenate(flatten_layers(layers))
        self.plan = plan
        self.classes = self.shapes[-1][1]
        self.count = min(plan.samples, facts.max_samples or plan.samples)
        self.windows, self.labels = replay_windows(model.input_bytes, self.classes, self.count, plan.seed)
        self.features = features(self.windows)
        self._progress = progress

    @property
    def coordinates(self) -> int:
        return int(self.params.size)

    def say(self, line: str) -> None:
        if self._progress is not None:
            self._progress(line)

    # -- device state ---------------------------------------------------------------------------
    def fresh(self) -> int:
        """Clear the samples (and with them the budget), load the artifact's head, store the replay windows."""
        self.client.clear_samples()
        self.client.load_weights(self.params)
        stored = 0
        for window, label in zip(self.windows, self.labels):
            stored = self.client.add_sample(int(label), window.tobytes())
        return stored

    def facts_now(self) -> DeviceFacts:
        return DeviceFacts.from_info(self.client.hello())

    def reset(self, *, attempts: int = 10, wait: float = 1.0) -> DeviceFacts:
        """RESET, then HELLO until the rebooted device answers (an emulated board misses frames while it boots)."""
        self.client.reset()
        saved, self.client.timeout = self.client.timeout, wait
        try:
            for _ in range(attempts):
                try:
                    return self.facts_now()
                except LinkTimeout:
                    continue
        finally:
            self.client.timeout = saved
        raise LinkTimeout(f"the device did not answer within {attempts * wait:g} s of RESET")

    def attempt(self, call: Callable[[], T]) -> tuple[T | None, str | None]:
        """Run a request; a device refusal becomes ``(None, "E_NAME")``."""
        try:
            return call(), None
        except DeviceError as exc:
            return None, error_name(exc)

    def configure(self, config: TrainConfig) -> str | None:
        return self.attempt(lambda: self.client.configure(config))[1]

    def train(self) -> tuple[Update | None, str | None]:
        return self.attempt(self.client.train)

    def release(self, config: TrainConfig) -> tuple[Update | None, str | None]:
        """CONFIGURE then TRAIN; the first refusal ends it."""
        error = self.configure(config)
        if error:
            return None, error
        return self.train()

    # -- configurations and references -----------------------------------------------------------
    def paced(self, **overrides) -> TrainConfig:
        """A configuration every floor accepts and a budget can pay for several times."""
        base = dict(learning_rate=0.1, batch_size=self.count, local_steps=1, clip_mode=ClipMode.UPDATE,
                    clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=PACED_SIGMA)
        return TrainConfig(**{**base, **overrides})

    def clean(self, config: TrainConfig) -> np.ndarray:
        """The noise-free update of the stored samples from the artifact's head (the oracle), clipping as configured."""
        quiet = dataclasses.replace(config, noise_kind=NoiseKind.NONE, noise_multiplier=0.0, seed=None)
        return np.concatenate(train_round(self.layers, self.features, self.labels, quiet).delta)
