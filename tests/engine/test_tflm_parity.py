"""End-to-end bit-exactness: the C engine against the TFLite Micro Python interpreter.

Each case builds a tiny Keras model, converts it to a full-int8 TFLite model, exports the firmware
artifact with the project's exporter and compares the int8 outputs byte for byte on random inputs.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

N_INPUTS = 200


def _layers():
    import keras

    return keras.layers


def _case_models():
    """name -> (input shape without batch, builder returning a list of layers or a callable)."""
    L = _layers()
    return {
        "conv1d_same_stride2_relu": ((32, 3), lambda: [L.Conv1D(8, 5, strides=2, padding="same", activation="relu")]),
        "conv1d_valid_dilation2": ((30, 4), lambda: [L.Conv1D(6, 3, dilation_rate=2, padding="valid")]),
        "conv1d_same_even_kernel_relu6": ((17, 2), lambda: [L.Conv1D(5, 4, strides=3, padding="same", activation="relu6")]),
        "depthwise1d_same_mult2_relu6": ((24, 4), lambda: [L.DepthwiseConv1D(3, depth_multiplier=2, padding="same", activation="relu6")]),
        "depthwise1d_valid_stride2": ((25, 5), lambda: [L.DepthwiseConv1D(5, strides=2, padding="valid")]),
        "maxpool1d_same_stride2": ((21, 3), lambda: [L.Conv1D(4, 1), L.MaxPooling1D(3, strides=2, padding="same")]),
        "maxpool1d_valid": ((20, 3), lambda: [L.Conv1D(4, 1), L.MaxPooling1D(2)]),
        "avgpool1d_same_stride2": ((21, 3), lambda: [L.Conv1D(4, 1), L.AveragePooling1D(4, strides=2, padding="same")]),
        "avgpool1d_valid_stride3": ((22, 3), lambda: [L.Conv1D(4, 1), L.AveragePooling1D(3, strides=3, padding="valid")]),
        "avgpool2d_same": ((9, 7, 3), lambda: [L.Conv2D(4, 1), L.AveragePooling2D((3, 2), strides=(2, 2), padding="same")]),
        "maxpool2d_same": ((9, 7, 3), lambda: [L.Conv2D(4, 1), L.MaxPooling2D((3, 3), strides=(2, 1), padding="same")]),
        "global_avgpool1d": ((40, 6), lambda: [L.Conv1D(8, 3, activation="relu"), L.GlobalAveragePooling1D()]),
        "global_avgpool1d_raw": ((37, 5), lambda: [L.GlobalAveragePooling1D()]),
        "global_avgpool2d": ((6, 5, 4), lambda: [L.Conv2D(8, 3), L.GlobalAveragePooling2D()]),
        "dense_relu": ((20,), lambda: [L.Dense(12, activation="relu")]),
        "dense_relu6": ((20,), lambda: [L.Dense(12, activation="relu6")]),
        "dense_none": ((33,), lambda: [L.Dense(7)]),
        "dense_per_tensor_relu": ((24,), lambda: [L.Dense(9, activation="relu"), L.Dense(6)]),
        "softmax": ((10,), lambda: [L.Softmax()]),
        "dense_softmax": ((16,), lambda: [L.Dense(5), L.Softmax()]),
        "whole_model": ((64, 3), lambda: [
            L.Conv1D(8, 5, strides=2, padding="same", activation="relu"),
            L.DepthwiseConv1D(3, padding="same", activation="relu6"),
            L.MaxPooling1D(2),
            L.Conv1D(12, 3, padding="same", activation="relu"),
            L.AveragePooling1D(2),
            L.GlobalAveragePooling1D(),
            L.Dense(16, activation="relu"),
            L.Dense(4),
            L.Softmax(),
        ]),
    }


def _case_names():
    # Names are listed without importing keras at collection time.
    return ["conv1d_same_stride2_relu", "conv1d_valid_dilation2", "conv1d_same_even_kernel_relu6",
            "depthwise1d_same_mult2_relu6", "depthwise1d_valid_stride2", "maxpool1d_same_stride2", "maxpool1d_valid",
            "avgpool1d_same_stride2", "avgpool1d_valid_stride3", "avgpool2d_same", "maxpool2d_same",
            "global_avgpool1d", "global_avgpool1d_raw", "global_avgpool2d", "dense_relu", "dense_relu6", "dense_none",
            "dense_per_tensor_relu",
            "softmax", "dense_softmax", "whole_model"]


def _build(name: str, seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    shape, make = _case_models()[name]
    x = keras.Input(shape=shape)
    y = x
    for layer in make():
        y = layer(y)
    model = keras.Model(x, y)
    # Spread weights and biases so requantization sees varied multipliers and rounding.
    rng = np.random.default_rng(seed)
    for w in model.weights:
        value = rng.normal(0.0, 0.5, w.shape).astype(np.float32)
        w.assign(value)
    return model, shape


@pytest.fixture(scope="module")
def tflm_runtime():
    pytest.importorskip("tensorflow")
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    # edgeleak's own exporter: an ImportError here is a bug, never a reason to skip
    from edgeleak.quantize.artifact import export_artifact  # noqa: F401
    from edgeleak.quantize.convert import convert_int8  # noqa: F401
    from edgeleak.quantize.tflite_graph import parse_tflite  # noqa: F401
    return runtime


def _convert_per_tensor_dense(model, calibration: np.ndarray) -> bytes:
    """Full-int8 conversion with per-tensor (not per-channel) FULLY_CONNECTED weights."""
    import contextlib
    import io

    import keras
    import tensorflow as tf

    fixed_input = keras.Input(batch_shape=(1, *calibration.shape[1:]))
    fixed = keras.Model(fixed_input, model(fixed_input))
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([calibration[i:i + 1]] for i in range(len(calibration)))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def _tflm_outputs(runtime, tflite_model: bytes, inputs: np.ndarray) -> list[bytes]:
    interp = runtime.Interpreter.from_bytes(tflite_model)
    outs = []
    for x in inputs:
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(np.ascontiguousarray(interp.get_output(0)).tobytes())
    return outs


@pytest.mark.parametrize("name", _case_names())
def test_engine_matches_tflite_micro(engine, tflm_runtime, name):
    from edgeleak.quantize.artifact import export_artifact
    from edgeleak.quantize.convert import convert_int8
    from edgeleak.quantize.tflite_graph import parse_tflite

    seed = sum(map(ord, name))
    model, shape = _build(name, seed)
    rng = np.random.default_rng(seed)
    calibration = rng.normal(0.0, 1.0, (64, *shape)).astype(np.float32)
    if "per_tensor" in name:
        tflite_model = _convert_per_tensor_dense(model, calibration)
        graph = parse_tflite(tflite_model)
        assert all(len(graph.tensors[op.inputs[1]].scales) == 1 for op in graph.ops if op.name == "FULLY_CONNECTED")
    else:
        tflite_model = convert_int8(model, calibration)
        graph = parse_tflite(tflite_model)
    exported = export_artifact(graph, [])

    inputs = rng.integers(-128, 128, (N_INPUTS, 1, *shape), dtype=np.int8)
    expected = _tflm_outputs(tflm_runtime, tflite_model, inputs)

    status, keep = engine.load(exported.artifact)
    assert status == 0, f"el_model_load failed with status {status}"
    mismatches = []
    for i, x in enumerate(inputs):
        status, got = engine.run(x)
        assert status == 0, f"el_model_invoke failed with status {status}"
        if got != expected[i]:
            a = np.frombuffer(got, dtype=np.int8).astype(int)
            b = np.frombuffer(expected[i], dtype=np.int8).astype(int)
            mismatches.append((i, int(np.sum(a != b)), int(np.max(np.abs(a - b))) if a.shape == b.shape else -1))
    assert not mismatches, f"{len(mismatches)}/{N_INPUTS} inputs differ (index, #bytes, max |diff|): {mismatches[:10]}"
    del keep
