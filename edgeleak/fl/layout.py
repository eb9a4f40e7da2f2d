"""What a federated session fixes before its first round: who takes part when, each device's share of the data, the
head's shapes and the capture's session description. One definition, shared by the single-machine session
(``edgeleak train``) and the Flower fleet's server, so both send the same samples in the same order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.core.model import DatasetSource, ModelDir
from edgeleak.data.datasets import Dataset
from edgeleak.data.partition import partition
from edgeleak.errors import EdgeleakError
from edgeleak.fl.features import cut_features
from edgeleak.train.oracle import flatten_layers


@dataclass(frozen=True)
class SessionLayout:
    picked: list[np.ndarray]  # per round: the devices the server asks
    shares: list[np.ndarray]  # per device: indices into the training split
    shapes: list[tuple[int, int]]  # per head layer: (in, out)
    params: list[np.ndarray]  # the initial global head, per tensor (W0, b0, W1, b1, ...)
    test_features: np.ndarray  # the held-out split's features (the server's evaluation)


def participants_by_round(devices: int, rounds: int, participants: int | None, seed: int) -> list[np.ndarray]:
    """The devices the server picks for each round: all of them, or ``participants`` drawn uniformly without
    replacement, independently per round, from a generator seeded by the plan (the server knows its own picks, so
    the sampling gives no privacy amplification against it: docs/privacy.md)."""
    if participants is None or participants == devices:
        return [np.arange(devices)] * rounds
    rng = np.random.default_rng([seed, 0x5A3])
    return [np.sort(rng.choice(devices, participants, replace=False)) for _ in range(rounds)]


def round_samples(share: np.ndarray, turn: int, count: int) -> np.ndarray:
    """The device's samples for its ``turn``-th round: a cyclic window over its share, so its rounds walk through all
    of it."""
    if len(share) == 0:
        raise EdgeleakError("a device got no samples; use fewer devices or another partition")
    return share[(turn * count + np.arange(count)) % len(share)] if count < len(share) else share


def session_layout(model: ModelDir, data: Dataset, plan) -> SessionLayout:
    """``plan``: an ``edgeleak.fl.session.SessionPlan``."""
    picked = participants_by_round(plan.devices, plan.rounds, plan.participants, plan.seed)
    shares = partition(data.y_train, plan.devices, plan.partition, seed=plan.seed, subjects=data.subjects_train)
    head: list[DenseLayer] = list(model.head)
    if not head:
        raise EdgeleakError("the model has no trainable head; quantize it with a cut")
    shapes = [(l.weights.shape[1], l.weights.shape[0]) for l in head]
    test_features = cut_features(model, model.quantize(data.x_test))
    return SessionLayout(picked, shares, shapes, flatten_layers(head), test_features)


def session_meta(model: ModelDir, data: Dataset, plan, layout: SessionLayout, boards: Sequence[str]) -> dict:
    """The capture's session.json (docs/capture-format.md), before the devices' own reports are added."""
    return {
        "model_hash": model.sha256, "model_dir": str(model.path), "dataset": data.name,
        "dataset_source": (data.source or DatasetSource(data.name)).to_json(), "board": boards[0],
        "boards": list(boards), "participants": [p.tolist() for p in layout.picked],
        "devices": plan.devices, "rounds": plan.rounds, "partition": plan.partition, "seed": plan.seed,
        "config": plan.config.to_dict(),
        "shares": [s.tolist() for s in layout.shares], "head_shapes": [list(s) for s in layout.shapes],
        "build_flags": list(plan.all_build_flags()), "floor": plan.floor.to_json() if plan.floor else None,
        "replay": True, "channel_names": list(data.channel_names), "class_names": list(data.class_names),
        "crafted": plan.craft,
    }
