"""What an attack receives (only what the server knows) and what it returns; the registry of attacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.errors import EdgeleakError
from edgeleak.train.update import UpdateMeta


@dataclass(frozen=True)
class Auxiliary:
    """Data the server holds itself (its own recordings of the task, never a device's): the head's input features
    of its windows and their labels. Label-count, property and crafted-weights attacks calibrate on it."""

    features: np.ndarray  # (n, F) float32, as the device computes them up to the cut
    labels: np.ndarray  # (n,) int64
    source: str = ""  # which data: "basic_motions_other_wrist: the server's base recordings"


@dataclass(frozen=True)
class ServerKnowledge:
    """The model as the server built it: the int8 graph, the cut and the head's shape."""

    tflite: bytes  # the full-integer model the firmware runs
    input_shape: tuple[int, ...]  # (1, steps, channels)
    input_scale: float
    input_zero_point: int
    cut_tflite_index: int
    cut_scale: float
    cut_zero_point: int
    whole_network_is_head: bool  # the cut is the (flattened) input window: features are the window
    num_classes: int
    auxiliary: Auxiliary | None = None  # the server's own data, when it has some


@dataclass(frozen=True)
class AttackInput:
    """One target: an update (or the sum of several), the global weights it started from, the hyperparameters
    the device reported. Nothing here comes from the ground truth."""

    knowledge: ServerKnowledge
    global_layers: tuple[DenseLayer, ...]
    meta: UpdateMeta
    delta: tuple[np.ndarray, ...]  # per tensor, flattened (W0, b0, W1, b1, ...)
    sent: tuple[np.ndarray, ...]  # masks of the coordinates the device sent
    aggregated: int = 1  # how many devices' updates were summed into ``delta``
    target: dict = field(default_factory=dict)  # where it came from: {"round": r, "devices": [...]}

    @property
    def batch_size(self) -> int:
        return max(1, min(self.meta.batch_size, self.meta.samples))


@dataclass(frozen=True)
class Reconstruction:
    """What an attack recovered; any part may be absent. Windows are in the data set's normalised units."""

    windows: np.ndarray | None = None  # (n, steps, channels) float32
    features: np.ndarray | None = None  # (n, F) float32, the head's input
    labels: np.ndarray | None = None  # (n,) int64, best guess per recovered sample
    label_counts: np.ndarray | None = None  # (classes,) estimated samples per class
    iterations: int = 0
    notes: str = ""


class Attack(Protocol):
    name: str
    description: str

    def applicable(self, target: AttackInput) -> str | None:
        """None when the attack can run on this target, else why not (one line)."""

    def run(self, target: AttackInput) -> Reconstruction: ...


def nothing_sent(target: AttackInput) -> str | None:
    """The reason an update cannot be attacked by optimization when it carries no coordinates at all."""
    return None if any(np.any(m) for m in target.sent) else "the update carries no coordinates"


ATTACKS: dict[str, Callable[[], Attack]] = {}


def register(name: str) -> Callable:
    """Class decorator: make an attack available by ``name``."""
    def wrap(cls):
        cls.name = name
        ATTACKS[name] = cls
        return cls
    return wrap


def get_attack(name: str, **options) -> Attack:
    from edgeleak.attacks import registry  # noqa: F401  (imports every attack module)

    try:
        return ATTACKS[name](**options)
    except KeyError:
        raise EdgeleakError(f"unknown attack {name!r}; choose one of: {', '.join(sorted(ATTACKS))}") from None
