"""The model directory ``edgeleak quantize`` writes, as typed records: what ``model.json`` holds and how it reads back.

``model.json`` (docs/output-formats.md) is ``ModelMeta.to_json()``; every reader goes through ``ModelMeta.from_json``,
so the file is written and checked in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.core.quant import quantize_int8
from edgeleak.errors import EdgeleakError

MODEL_TFLITE = "model.tflite"
MODEL_ARTIFACT = "model.elm"
MODEL_KERAS = "model.keras"
MODEL_META = "model.json"
META_SCHEMA = 2  # 1: "dataset" was a registry name; 2: a DatasetSource object and the normalisation

DATASET_FORMATS = ("packaged", "npz", "csv")


@dataclass(frozen=True)
class DatasetSource:
    """Where a data set's windows come from, precisely enough to load the same windows again.

    A packaged data set is its registry name. A user's file is its path, the SHA-256 of its bytes (a changed file is
    refused, not silently reloaded) and, for a CSV recording, how it was cut into windows (docs/data-format.md)."""

    name: str
    format: str = "packaged"
    path: str | None = None
    sha256: str | None = None
    window: int | None = None  # CSV: time steps per window
    stride: int | None = None  # CSV: steps between window starts
    channels: tuple[str, ...] = ()  # CSV: the columns read, in order (empty: every numeric column)
    label_column: str | None = None
    subject_column: str | None = None
    time_column: str | None = None

    def __post_init__(self) -> None:
        if self.format not in DATASET_FORMATS:
            raise EdgeleakError(f"unknown data set format {self.format!r}; one of {', '.join(DATASET_FORMATS)}")

    @property
    def packaged(self) -> bool:
        return self.format == "packaged"

    def describe(self) -> str:
        if self.packaged:
            return self.name
        shown = f"{self.path} ({self.format}, sha256 {str(self.sha256)[:12]}"
        if self.format == "csv":
            shown += f", window {self.window}, stride {self.stride}"
        return shown + ")"

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, ())}
        if self.channels:
            out["channels"] = list(self.channels)
        return out

    @classmethod
    def from_json(cls, value: Any) -> "DatasetSource":
        if isinstance(value, str):  # schema 1: a registry name
            return cls(name=value)
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise EdgeleakError("model.json: 'dataset' must be a data set name or an object with a 'name'")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise EdgeleakError(f"model.json: unknown data set keys {', '.join(unknown)}")
        args = dict(value)
        if "channels" in args:
            args["channels"] = tuple(str(c) for c in args["channels"])
        return cls(**args)


@dataclass(frozen=True)
class Normalisation:
    """Per-channel standardisation ``(x - mean) / std`` with the training split's statistics; travels with the model so
    raw sensor windows can be fed to it later."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if x.shape[-1] != len(self.mean):
            raise EdgeleakError(f"windows have {x.shape[-1]} channels; the model's normalisation has {len(self.mean)}")
        return ((x - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)

    def to_json(self) -> dict[str, list[float]]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_json(cls, value: Any) -> "Normalisation | None":
        if value is None:
            return None
        try:
            mean, std = tuple(float(v) for v in value["mean"]), tuple(float(v) for v in value["std"])
        except (KeyError, TypeError, ValueError):
            raise EdgeleakError("model.json: 'normalisation' needs numeric 'mean' and 'std' lists") from None
        if len(mean) != len(std) or not all(s > 0 for s in std):
            raise EdgeleakError("model.json: 'normalisation' mean and std differ in length or a std is not positive")
        return cls(mean, std)


@dataclass(frozen=True)
class QuantizeReport:
    """What ``edgeleak quantize`` measured and made."""

    dataset: str
    model: str
    cut: str
    float_test_accuracy: float | None
    int8_test_accuracy: float
    tflite_bytes: int
    artifact_bytes: int
    arena_bytes: int
    macs: int
    sha256: str
    seconds: float


@dataclass(frozen=True)
class ModelMeta:
    """``model.json``: the tensors' shapes and quantization, where the head begins, and the data the model is for."""

    report: QuantizeReport
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    input_scale: float
    input_zero_point: int
    cut_shape: tuple[int, ...]  # the tensor the trainable head reads
    cut_tflite_index: int
    cut_scale: float
    cut_zero_point: int
    head_shapes: tuple[tuple[int, int], ...]  # (in, out) per head layer
    backbone_ops: int
    dataset: DatasetSource
    normalisation: Normalisation | None = None
    schema_version: int = field(default=META_SCHEMA)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": META_SCHEMA, "report": asdict(self.report),
            "input_shape": list(self.input_shape), "output_shape": list(self.output_shape),
            "input_scale": float(self.input_scale), "input_zero_point": int(self.input_zero_point),
            "cut_shape": list(self.cut_shape), "cut_tflite_index": int(self.cut_tflite_index),
            "cut_scale": float(self.cut_scale), "cut_zero_point": int(self.cut_zero_point),
            "head_shapes": [list(s) for s in self.head_shapes], "backbone_ops": int(self.backbone_ops),
            "dataset": self.dataset.to_json(),
            "normalisation": self.normalisation.to_json() if self.normalisation else None,
        }

    @classmethod
    def from_json(cls, meta: Any, where: str = MODEL_META) -> "ModelMeta":
        """Check and read a parsed ``model.json``; anything missing or mistyped is one line naming the key."""
        if not isinstance(meta, dict):
            raise EdgeleakError(f"{where} is not a JSON object; re-run 'edgeleak quantize'")
        required = ("report", "input_shape", "output_shape", "input_scale", "input_zero_point", "cut_shape",
                    "cut_tflite_index", "cut_scale", "cut_zero_point", "backbone_ops", "dataset")
        missing = [k for k in required if k not in meta]
        if missing:
            raise EdgeleakError(f"{where} lacks {', '.join(missing)} (made by an older edgeleak); re-run 'edgeleak quantize'")
        try:
            report = QuantizeReport(**meta["report"])
            return cls(
                report=report,
                input_shape=_ints(meta["input_shape"]), output_shape=_ints(meta["output_shape"]),
                input_scale=float(meta["input_scale"]), input_zero_point=int(meta["input_zero_point"]),
                cut_shape=_ints(meta["cut_shape"]), cut_tflite_index=int(meta["cut_tflite_index"]),
                cut_scale=float(meta["cut_scale"]), cut_zero_point=int(meta["cut_zero_point"]),
                head_shapes=tuple((int(a), int(b)) for a, b in meta.get("head_shapes", [])),
                backbone_ops=int(meta["backbone_ops"]),
                dataset=DatasetSource.from_json(meta["dataset"]),
                normalisation=Normalisation.from_json(meta.get("normalisation")),
                schema_version=int(meta.get("schema_version", 1)),
            )
        except (TypeError, ValueError) as exc:
            raise EdgeleakError(f"{where} has a malformed entry ({exc}); re-run 'edgeleak quantize'") from None


def same_window(a, b) -> bool:
    """Shapes that hold the same values in the same order, size-1 axes aside: (100, 6) and (100, 6, 1)."""
    return tuple(int(d) for d in a if d != 1) == tuple(int(d) for d in b if d != 1)


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


@dataclass(frozen=True)
class ModelDir:
    """A quantized model as the other stages use it: its bytes, its hash, and ``model.json``."""

    path: Path
    artifact: bytes
    tflite: bytes
    sha256: str
    arena_bytes: int
    meta: ModelMeta
    head: tuple[DenseLayer, ...] = ()  # the float head the artifact carries: the weights every device starts from

    @property
    def dataset(self) -> DatasetSource:
        return self.meta.dataset

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.meta.input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.meta.output_shape

    @property
    def input_scale(self) -> float:
        return self.meta.input_scale

    @property
    def input_zero_point(self) -> int:
        return self.meta.input_zero_point

    @property
    def cut_shape(self) -> tuple[int, ...]:
        return self.meta.cut_shape

    @property
    def cut_tflite_index(self) -> int:
        return self.meta.cut_tflite_index

    @property
    def cut_scale(self) -> float:
        return self.meta.cut_scale

    @property
    def cut_zero_point(self) -> int:
        return self.meta.cut_zero_point

    @property
    def backbone_ops(self) -> int:
        return self.meta.backbone_ops

    @property
    def input_bytes(self) -> int:
        return int(np.prod(self.input_shape))

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float windows to int8 model inputs; int8 arrays pass through. Shape ``(n, *input_shape[1:])``."""
        x = np.asarray(x)
        window = tuple(self.input_shape[1:])
        if x.ndim and same_window(x.shape, window) and not same_window(x.shape[1:], window):
            x = x[None]  # one window without its batch axis
        if x.ndim < 2 or not same_window(x.shape[1:], window):
            raise EdgeleakError(f"inputs have shape {x.shape}; the model takes windows of shape {window} "
                                f"(n, {', '.join(map(str, window))})")
        x = x.reshape(len(x), *window)
        if x.dtype == np.int8:
            return x
        if not np.issubdtype(x.dtype, np.floating):
            raise EdgeleakError(f"inputs must be float windows or int8 tensors, got {x.dtype}")
        return quantize_int8(x, self.input_scale, self.input_zero_point)
