"""The model directory written by ``edgeleak quantize``, read back as a typed record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak.errors import EdgeleakError
from edgeleak.quantize.artifact import read_header
from edgeleak.quantize.pipeline import MODEL_ARTIFACT, MODEL_META, MODEL_TFLITE


REQUIRED_META = ("input_shape", "output_shape", "input_scale", "input_zero_point", "cut_shape", "cut_tflite_index",
                 "cut_scale", "cut_zero_point", "backbone_ops", "dataset", "report")


@dataclass(frozen=True)
class ModelDir:
    path: Path
    artifact: bytes
    tflite: bytes
    sha256: str
    arena_bytes: int
    dataset: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    input_scale: float
    input_zero_point: int
    cut_shape: tuple[int, ...]  # the tensor the trainable head reads
    cut_tflite_index: int
    cut_scale: float
    cut_zero_point: int
    backbone_ops: int

    @property
    def input_bytes(self) -> int:
        return int(np.prod(self.input_shape))

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float windows to int8 model inputs; int8 arrays pass through. Shape ``(n, *input_shape[1:])``."""
        x = np.asarray(x)
        window = tuple(self.input_shape[1:])
        if x.shape == window:
            x = x[None]
        if tuple(x.shape[1:]) != window:
            raise EdgeleakError(f"inputs have shape {x.shape}; the model takes windows of shape {window} (n, {', '.join(map(str, window))})")
        if x.dtype == np.int8:
            return x
        if not np.issubdtype(x.dtype, np.floating):
            raise EdgeleakError(f"inputs must be float windows or int8 tensors, got {x.dtype}")
        q = np.round(x.astype(np.float64) / self.input_scale) + self.input_zero_point
        return np.clip(q, -128, 127).astype(np.int8)


def load_model_dir(path: Path) -> ModelDir:
    """Read and check a model directory; a missing or corrupt file is a one-line error."""
    if not path.is_dir():
        raise EdgeleakError(f"model directory {path} does not exist; create it with 'edgeleak quantize --out {path}'")
    try:
        artifact = (path / MODEL_ARTIFACT).read_bytes()
        tflite = (path / MODEL_TFLITE).read_bytes()
        meta = json.loads((path / MODEL_META).read_text())
    except FileNotFoundError as exc:
        raise EdgeleakError(f"{path} lacks {Path(exc.filename).name}; re-run 'edgeleak quantize --out {path}'") from None
    except json.JSONDecodeError:
        raise EdgeleakError(f"{path / MODEL_META} is not valid JSON; re-run 'edgeleak quantize'") from None
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise EdgeleakError(f"{path / MODEL_META} lacks {', '.join(missing)} (made by an older edgeleak); re-run 'edgeleak quantize'")
    header = read_header(artifact)
    if meta.get("report", {}).get("sha256") != header.sha256:
        raise EdgeleakError(f"{path / MODEL_META} describes another model than {MODEL_ARTIFACT}; re-run 'edgeleak quantize'")
    return ModelDir(
        path=path, artifact=artifact, tflite=tflite, sha256=header.sha256, arena_bytes=header.arena_size,
        dataset=meta.get("dataset", ""), input_shape=tuple(meta["input_shape"]), output_shape=tuple(meta["output_shape"]),
        input_scale=float(meta["input_scale"]), input_zero_point=int(meta["input_zero_point"]),
        cut_shape=tuple(meta["cut_shape"]), cut_tflite_index=int(meta["cut_tflite_index"]),
        cut_scale=float(meta["cut_scale"]), cut_zero_point=int(meta["cut_zero_point"]),
        backbone_ops=int(meta["backbone_ops"]),
    )
