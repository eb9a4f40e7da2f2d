"""Registry of zoo models. Each builder returns an uncompiled Keras model whose trailing Dense
layers, from the layer named by ``cut`` onward, form the trainable float head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from edgeleak.errors import EdgeleakError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    build: Callable[[tuple[int, int], int], "object"]  # (input_shape, num_classes) -> keras.Model
    cut: str  # name of the first head layer
    epochs: int
    batch_size: int
    learning_rate: float


def build_imu_cnn(input_shape: tuple[int, int], num_classes: int):
    """Conv1D backbone (int8 on the device) -> GlobalAveragePooling -> Dense head (float, trainable)."""
    import keras

    x_in = keras.Input(shape=input_shape, name="window")
    x = keras.layers.Conv1D(16, 5, padding="same", activation="relu", name="conv1")(x_in)
    x = keras.layers.MaxPooling1D(2, name="pool1")(x)
    x = keras.layers.Conv1D(24, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling1D(name="features")(x)
    x = keras.layers.Dense(16, activation="relu", name="head_hidden")(x)
    out = keras.layers.Dense(num_classes, activation="softmax", name="head_out")(x)
    return keras.Model(x_in, out, name="imu_cnn")


def build_mlp(input_shape: tuple[int, int], num_classes: int):
    """Dense layers directly on the flattened raw window; the whole network is the trainable head."""
    import keras

    x_in = keras.Input(shape=input_shape, name="window")
    x = keras.layers.Reshape((input_shape[0] * input_shape[1],), name="flatten")(x_in)
    x = keras.layers.Dense(16, activation="relu", name="head_hidden")(x)
    out = keras.layers.Dense(num_classes, activation="softmax", name="head_out")(x)
    return keras.Model(x_in, out, name="mlp")


MODELS: dict[str, ModelSpec] = {
    "imu_cnn": ModelSpec("imu_cnn", "Conv1D int8 backbone, global average pooling, 2-layer float head",
                         build_imu_cnn, cut="head_hidden", epochs=80, batch_size=8, learning_rate=3e-3),
    "mlp": ModelSpec("mlp", "2-layer MLP on the raw window; all of it trains on the device",
                     build_mlp, cut="head_hidden", epochs=60, batch_size=8, learning_rate=2e-3),
}


def get_model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise EdgeleakError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
