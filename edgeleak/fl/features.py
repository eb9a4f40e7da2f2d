"""Feature vectors (the head's input) of windows, computed with the TFLite Micro reference up to the cut."""

from __future__ import annotations

import functools

import numpy as np

from edgeleak.core.model import ModelDir
from edgeleak.train.oracle import features_from_cut


def cut_features(model: ModelDir, inputs_int8: np.ndarray) -> np.ndarray:
    """``(n, F)`` float32 features of int8 inputs, bit-exact with what the device computes."""
    ref = _reference(model.tflite)
    if len(inputs_int8) == 0:
        return np.zeros((0, int(np.prod(model.cut_shape))), np.float32)
    cut = np.stack([ref.tensor_after_run(x, model.cut_tflite_index) for x in inputs_int8])
    return features_from_cut(cut, model.cut_scale, model.cut_zero_point)


@functools.lru_cache(maxsize=4)
def _reference(tflite: bytes):
    """One interpreter per model, reused across calls (an attack run asks once per record)."""
    from edgeleak.reference.interpreters import TflmReference

    return TflmReference(tflite, preserve_tensors=True)
