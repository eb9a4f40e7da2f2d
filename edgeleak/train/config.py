"""The training configuration sent in CONFIGURE (docs/protocol.md), validated on the host side too."""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from enum import IntEnum

from edgeleak.errors import EdgeleakError


class ClipMode(IntEnum):
    NONE = 0
    UPDATE = 1
    PER_EXAMPLE = 2


class NoiseKind(IntEnum):
    NONE = 0
    GAUSSIAN = 1
    LAPLACE = 2


class NoiseMode(IntEnum):
    UPDATE = 0
    STEP = 1


class Sparsify(IntEnum):
    NONE = 0
    TOP_K = 1
    RANDOM = 2


class Encoding(IntEnum):
    FLOAT32 = 0
    FLOAT16 = 1
    INT8 = 2


_CONFIGURE = struct.Struct("<ffHHHBBffBBBBfQI")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    learning_rate: float = 0.01
    momentum: float = 0.0
    batch_size: int = 1
    local_steps: int = 1  # 0: use epochs
    epochs: int = 1
    clip_mode: ClipMode = ClipMode.NONE
    clip_norm: float = 0.0
    noise_kind: NoiseKind = NoiseKind.NONE
    noise_multiplier: float = 0.0
    noise_mode: NoiseMode = NoiseMode.UPDATE
    sparsify: Sparsify = Sparsify.NONE
    sparsify_fraction: float = 1.0
    encoding: Encoding = Encoding.FLOAT32
    seed: int | None = None
    round: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.learning_rate <= 10:
            problems.append(f"learning rate {self.learning_rate} must be in (0, 10]")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum {self.momentum} must be in [0, 1)")
        if not 1 <= self.batch_size <= 0xFFFF:
            problems.append(f"batch size {self.batch_size} must be at least 1")
        if not 0 <= self.local_steps <= 0xFFFF or (self.local_steps == 0 and not 1 <= self.epochs <= 1000):
            problems.append("give local steps >= 1, or local steps 0 and 1 to 1000 epochs")
        if (self.clip_mode != ClipMode.NONE or self.noise_kind != NoiseKind.NONE) and not self.clip_norm > 0:
            problems.append("clipping and noise need a clip norm > 0")
        if self.noise_multiplier < 0:
            problems.append("the noise multiplier must be >= 0")
        if self.noise_mode == NoiseMode.STEP and self.noise_kind != NoiseKind.NONE and self.clip_mode != ClipMode.PER_EXAMPLE:
            problems.append("noise at every step (DP-SGD) needs per-example clipping")
        if not 0 < self.sparsify_fraction <= 1:
            problems.append(f"sparsification fraction {self.sparsify_fraction} must be in (0, 1]")
        if self.seed is not None and not 0 <= self.seed < 2 ** 64:
            problems.append("the seed must fit 64 bits")
        if problems:
            raise EdgeleakError("invalid training configuration: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, raw: dict) -> "TrainConfig":
        """From a stored configuration (a capture's session.json): enum fields as codes or lower-case names."""
        enums = {"clip_mode": ClipMode, "noise_kind": NoiseKind, "noise_mode": NoiseMode, "sparsify": Sparsify,
                 "encoding": Encoding}
        values = {}
        for key, value in raw.items():
            if key in enums:
                value = enums[key](value) if isinstance(value, int) else enums[key][str(value).upper()]
            values[key] = value
        return cls(**values)

    def to_dict(self) -> dict:
        """For JSON: enum fields as their codes (``from_dict`` reads it back)."""
        return {f.name: (int(v) if isinstance(v, IntEnum) else v)
                for f in dataclasses.fields(self) for v in [getattr(self, f.name)]}

    def pack(self) -> bytes:
        return _CONFIGURE.pack(
            self.learning_rate, self.momentum, self.batch_size, self.local_steps, self.epochs,
            int(self.clip_mode), int(self.noise_kind), self.clip_norm, self.noise_multiplier, int(self.noise_mode),
            int(self.sparsify), int(self.encoding), int(self.seed is not None), self.sparsify_fraction,
            self.seed or 0, self.round & 0xFFFFFFFF)
