"""A user's own model for the device: a Keras file (``.keras``, ``.h5``) or a TensorFlow SavedModel directory.

The backbone is quantized to int8 with a representative set of the user's training windows; the trainable head the
device starts from is the user's float weights, read from the model (not the int8 weights dequantized).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.core.model import same_window
from edgeleak.data.datasets import Dataset
from edgeleak.errors import EdgeleakError
from edgeleak.quantize.artifact import SUPPORTED_TEXT, check_supported, find_head
from edgeleak.quantize.convert import convert_concrete_int8, convert_int8, representative_windows
from edgeleak.quantize.tflite_graph import parse_tflite

KERAS_SUFFIXES = (".keras", ".h5")


# Keras layers that convert to ops the firmware runs (the graph is checked op by op after conversion too). Others are
# refused before the converter sees them: some (recurrent layers) crash it instead of raising.
KERAS_LAYERS = ("InputLayer", "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "Dense", "MaxPooling1D",
                "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
                "Flatten", "Reshape", "Dropout", "ReLU", "Activation", "Softmax", "BatchNormalization")


@dataclass(frozen=True)
class ConvertedModel:
    """A user's model made ready for export: the int8 graph, the float head, and what to report."""

    name: str
    cut: str
    tflite: bytes
    head: list[DenseLayer]
    float_accuracy: float | None
    keras_model: object | None  # kept in the model directory when there is one


def is_user_model(spec: str) -> bool:
    """A Keras file or a SavedModel directory (as opposed to a zoo name or a .tflite)."""
    path = Path(spec)
    return path.suffix in KERAS_SUFFIXES or (path / "saved_model.pb").is_file()


def load_keras(path: Path):
    """The Keras model in ``path``; a file Keras cannot read is one line."""
    import keras

    if not path.is_file():
        raise EdgeleakError(f"model file {path} does not exist")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, TypeError and its own errors for bad files
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise EdgeleakError(f"cannot load Keras model {path}: {first}") from None


def check_layers(model) -> None:
    """Every layer is of a kind the firmware runs; else one line naming the first that is not."""
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in KERAS_LAYERS:
            raise EdgeleakError(f"layer {layer.name!r} is a {kind}, which the firmware does not run; supported: {SUPPORTED_TEXT}")


def cut_layer_name(model, cut: str | None) -> str:
    """``--cut`` as a layer name: a name, or an index into ``model.layers`` (negative counts from the end, so -2 is
    'the last two layers are the head'). Without one, the first of the trailing Dense layers (at most 3)."""
    import keras

    names = [layer.name for layer in model.layers]
    if cut is None:
        start = len(names)
        while start > 0 and isinstance(model.layers[start - 1], keras.layers.Dense) and len(names) - start < 3:
            start -= 1
        if start == len(names):
            raise EdgeleakError(f"model {model.name} does not end in Dense layers; the device trains a dense head")
        return names[start]
    try:
        index = int(cut)
    except ValueError:
        return cut  # checked by head_layers, which lists the names
    if not -len(names) <= index < len(names):
        raise EdgeleakError(f"--cut {index} is outside the model's {len(names)} layers (0..{len(names) - 1}, or negative from the end)")
    return names[index]


def _check_input(model_shape, data: Dataset, what: str) -> None:
    window = tuple(int(d) for d in model_shape[1:])
    if not same_window(window, data.input_shape):
        raise EdgeleakError(f"{what} takes windows of shape {window}; data set {data.name} has windows of shape "
                            f"{tuple(data.input_shape)}")


def convert_keras_file(data: Dataset, path: Path, *, cut: str | None, seed: int = 0) -> ConvertedModel:
    """The user's Keras model: int8 backbone calibrated on their windows, float head from their weights."""
    from edgeleak.models.train import head_layers

    model = load_keras(path)
    check_layers(model)
    _check_input(model.input_shape, data, f"model {path.name}")
    cut_name = cut_layer_name(model, cut)
    head = head_layers(model, cut_name)
    _check_classes(head, data)
    window = tuple(model.input_shape[1:])
    tflite_model = convert_int8(model, representative_windows(data.base()[0], seed=seed).reshape(-1, *window))
    check_supported(parse_tflite(tflite_model), tuple(layer.name for layer in model.layers))
    predicted = np.argmax(model.predict(data.x_test.reshape(-1, *window), verbose=0), axis=1)
    return ConvertedModel(path.stem, cut_name, tflite_model, head, float(np.mean(predicted == data.y_test)), model)


def convert_saved_model(data: Dataset, path: Path, *, head_layers: int, seed: int = 0) -> ConvertedModel:
    """A SavedModel directory; its last ``head_layers`` dense layers are the head, their float weights read from the
    SavedModel's variables."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(path))
        serving = loaded.signatures["serving_default"]
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "no serving_default signature"
        raise EdgeleakError(f"cannot load SavedModel {path}: {reason}") from None
    specs = list(serving.structured_input_signature[1].values())
    if len(specs) != 1:
        raise EdgeleakError(f"SavedModel {path} takes {len(specs)} inputs; the device runs models with one input window")
    _check_input(specs[0].shape, data, f"SavedModel {path.name}")
    window = tuple(int(d) for d in specs[0].shape[1:])
    tflite_model = convert_concrete_int8(serving, window, representative_windows(data.base()[0], seed=seed).reshape(-1, *window))
    head = saved_model_head(loaded, tflite_model, head_layers)
    _check_classes(head, data)
    return ConvertedModel(path.name, f"last {head_layers} dense", tflite_model, head, None, None)


def saved_model_head(loaded, tflite_model: bytes, head_layers: int) -> list[DenseLayer]:
    """The float kernels and biases of the graph's last dense layers, found among the SavedModel's variables by shape
    (in graph order when two layers share a shape)."""
    graph = parse_tflite(tflite_model)
    first = find_head(graph, head_layers)
    kernels = [v for v in loaded.variables if len(v.shape) == 2]
    biases = [v for v in loaded.variables if len(v.shape) == 1]
    used: set[int] = set()
    layers = []
    for op in graph.ops[first:first + head_layers]:
        out, inp = graph.tensors[op.inputs[1]].shape
        kernel = _take(kernels, (inp, out), used)
        bias = _take(biases, (out,), used, prefix=kernel.name.rsplit("/", 1)[0] if kernel is not None else None)
        if kernel is None:
            raise EdgeleakError(f"the SavedModel has no float kernel of shape ({inp}, {out}) for head layer {len(layers) + 1}; "
                                "export it from Keras (model.export) or quantize the .keras file")
        layers.append(DenseLayer(np.ascontiguousarray(kernel.numpy().T, np.float32),
                                 np.asarray(bias.numpy() if bias is not None else np.zeros(out), np.float32)))
    return layers


def _take(variables, shape, used: set[int], prefix: str | None = None):
    candidates = [v for v in variables if tuple(v.shape) == shape and id(v) not in used]
    if prefix:
        candidates = [v for v in candidates if v.name.startswith(prefix)] or candidates
    if not candidates:
        return None
    used.add(id(candidates[0]))
    return candidates[0]


def _check_classes(head: list[DenseLayer], data: Dataset) -> None:
    outputs = head[-1].weights.shape[0]
    if outputs != data.num_classes:
        raise EdgeleakError(f"the model's last layer has {outputs} outputs; data set {data.name} has {data.num_classes} classes")
