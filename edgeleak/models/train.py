"""Deterministic host-side training of zoo models, and the cut that splits backbone from head."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.data.datasets import Dataset
from edgeleak.errors import EdgeleakError
from edgeleak.models.zoo import ModelSpec


@dataclass(frozen=True)
class TrainedModel:
    model: object  # keras.Model
    train_accuracy: float
    test_accuracy: float


def train_model(spec: ModelSpec, data: Dataset, *, seed: int = 0, epochs: int | None = None) -> TrainedModel:
    """Train with fixed seeds and deterministic ops; returns the model and its float accuracies."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = spec.build(data.input_shape, data.num_classes)
    model.compile(optimizer=keras.optimizers.Adam(spec.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = data.base()
    model.fit(x, y, epochs=epochs or spec.epochs, batch_size=spec.batch_size, shuffle=True, verbose=0)
    return TrainedModel(model, _accuracy(model, x, y), _accuracy(model, data.x_test, data.y_test))


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y))


def head_layers(model, cut: str) -> list[DenseLayer]:
    """Float weights of the Dense layers from ``cut`` to the end; the cut must start a dense-only tail."""
    import keras

    names = [layer.name for layer in model.layers]
    if cut not in names:
        raise EdgeleakError(f"cut layer {cut!r} does not exist in model {model.name}; layers: {', '.join(names)}")
    tail = model.layers[names.index(cut):]
    for layer in tail:
        if not isinstance(layer, keras.layers.Dense):
            raise EdgeleakError(f"cut {cut!r} is not followed by dense layers only: {layer.name} is a {type(layer).__name__}")
    if not 1 <= len(tail) <= 3:
        raise EdgeleakError(f"the head after cut {cut!r} has {len(tail)} dense layers; the device trains 1 to 3")
    for layer in tail[:-1]:
        if layer.activation.__name__ != "relu":
            raise EdgeleakError(f"hidden head layer {layer.name} uses {layer.activation.__name__}; the device trains ReLU hidden layers")
    if tail[-1].activation.__name__ not in ("softmax", "linear"):
        raise EdgeleakError(f"the last head layer {tail[-1].name} must output softmax or logits")
    layers = []
    for layer in tail:
        kernel, bias = layer.get_weights()
        layers.append(DenseLayer(np.ascontiguousarray(kernel.T, np.float32), np.asarray(bias, np.float32)))
    return layers
