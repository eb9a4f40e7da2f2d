"""Keras -> full-integer int8 TFLite with TFLiteConverter and a representative data set."""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings

import numpy as np

from edgeleak.errors import EdgeleakError
from edgeleak.quantize.artifact import SUPPORTED_TEXT, layer_of


@contextlib.contextmanager
def _silenced():
    """Hide what the converter prints: Keras' export signature on stdout, TFLite's calibration notes on fd 2."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def representative_windows(x_train: np.ndarray, count: int = 200, seed: int = 0) -> np.ndarray:
    """Up to ``count`` training windows in a seeded order: the calibration set for activation ranges."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_train))[:count]
    return x_train[order]


def convert_int8(model, calibration: np.ndarray) -> bytes:
    """Convert to a model whose every op, input and output is int8; raise EdgeleakError naming a bad op."""
    import tensorflow as tf

    # A fixed batch of one: the device runs one window at a time, and a static shape keeps
    # SHAPE/PACK ops (dynamic batch plumbing) out of the graph.
    import keras

    fixed_input = keras.Input(batch_shape=(1, *calibration.shape[1:]), name="window")
    fixed = keras.Model(fixed_input, model(fixed_input), name=model.name)
    return _convert(tf.lite.TFLiteConverter.from_keras_model(fixed), calibration)


def convert_concrete_int8(signature, window: tuple[int, ...], calibration: np.ndarray) -> bytes:
    """A SavedModel's serving signature at a fixed batch of one, converted as ``convert_int8`` does."""
    import tensorflow as tf

    name = next(iter(signature.structured_input_signature[1]))
    fixed = tf.function(lambda x: signature(**{name: x}), input_signature=[tf.TensorSpec((1, *window), tf.float32)])
    concrete = fixed.get_concrete_function()
    return _convert(tf.lite.TFLiteConverter.from_concrete_functions([concrete]), calibration)


def _convert(converter, calibration: np.ndarray) -> bytes:
    import tensorflow as tf

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([calibration[i:i + 1].astype(np.float32)] for i in range(len(calibration)))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    try:
        with _silenced():
            return converter.convert()
    except Exception as exc:  # the converter raises ConverterError and friends with multi-line MLIR text
        text = str(exc)
        match = re.search(r"'(tfl|tf)\.([A-Za-z0-9_]+)' op", text)
        what = f"op {match.group(2)}" if match else text.strip().splitlines()[0][:160]
        layer = re.search(r'loc\((?:callsite\()?(?:fused\[)?"([^"]+)"', text)
        where = f" in layer {layer_of(layer.group(1) + '/op')!r}" if layer else ""
        raise EdgeleakError(f"the model cannot be converted to full-integer int8 TFLite: {what}{where} is not supported; "
                            f"the firmware runs {SUPPORTED_TEXT}") from None

