"""Check a board's int8 outputs against TFLite Micro (must be identical) and LiteRT (differences counted)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeleak.core.model import ModelDir
from edgeleak.device.infer import BoardOutputs


@dataclass(frozen=True)
class Agreement:
    """How a board's outputs compare with one reference interpreter."""

    reference: str
    inputs: int
    differing_inputs: int
    differing_values: int
    max_abs_difference: int

    @property
    def identical(self) -> bool:
        return self.differing_inputs == 0


def verification_inputs(model: ModelDir, windows: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Real windows first (quantized), then random int8 tensors up to ``count`` inputs."""
    real = model.quantize(windows)[:count]
    rng = np.random.default_rng(seed)
    shape = (count - len(real), *model.input_shape[1:])
    random = rng.integers(-128, 128, size=shape, dtype=np.int16).astype(np.int8)
    return np.concatenate([real, random]) if len(random) else real


def reference_outputs(reference, inputs: np.ndarray) -> np.ndarray:
    return np.stack([reference.run(x).astype(np.int8) for x in inputs])


def compare(name: str, board: np.ndarray, reference: np.ndarray) -> Agreement:
    diff = np.abs(board.astype(np.int16) - reference.reshape(board.shape).astype(np.int16))
    return Agreement(name, len(board), int(np.count_nonzero(diff.any(axis=1))), int(np.count_nonzero(diff)),
                     int(diff.max(initial=0)))


def verify_outputs(model: ModelDir, inputs: np.ndarray, board: BoardOutputs) -> tuple[Agreement, Agreement]:
    """Agreement of the board with TFLite Micro and with LiteRT on the same inputs."""
    from edgeleak.reference.interpreters import LiteRtReference, TflmReference

    tflm = compare("TFLite Micro", board.outputs, reference_outputs(TflmReference(model.tflite), inputs))
    litert = compare("LiteRT", board.outputs, reference_outputs(LiteRtReference(model.tflite), inputs))
    return tflm, litert
