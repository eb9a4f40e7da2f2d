"""Feature vectors (the head's input) of windows, computed with the TFLite Micro reference up to the cut."""

from __future__ import annotations

import json

import numpy as np

from edgeleak.device.model_dir import ModelDir
from edgeleak.train.oracle import features_from_cut


def cut_features(model: ModelDir, inputs_int8: np.ndarray) -> np.ndarray:
    """``(n, F)`` float32 features of int8 inputs, bit-exact with what the device computes."""
    from edgeleak.reference.interpreters import TflmReference

    meta = json.loads((model.path / "model.json").read_text())
    ref = TflmReference(model.tflite, preserve_tensors=True)
    cut = np.stack([ref.tensor_after_run(x, meta["cut_tflite_index"]) for x in inputs_int8]) if len(inputs_int8) else np.zeros((0, 0), np.int8)
    return features_from_cut(cut, meta["cut_scale"], meta["cut_zero_point"])
