"""The int8 backbone's forward pass (input window to the cut tensor) rebuilt with TensorFlow float ops.

Weights and biases are dequantized from the ``.tflite`` graph (per-channel int8 weights, int32 biases), every
op's output is clamped to its int8 range (which also realises fused ReLU/ReLU6), and with ``fake_quant`` every
activation is rounded to its int8 grid with a straight-through gradient. The result is differentiable with
respect to the window, so an attacker can look for a window whose features match recovered features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

from edgeleak.errors import EdgeleakError
from edgeleak.quantize.tflite_graph import TfliteGraph, TfliteTensor, parse_tflite

_RESHAPES = {"RESHAPE", "EXPAND_DIMS", "SQUEEZE"}


def _int8_range(t: TfliteTensor) -> tuple[float, float]:
    return t.scale * (-128 - t.zero_point), t.scale * (127 - t.zero_point)


def fake_quantize(x: tf.Tensor, scale: float, zero_point: int) -> tf.Tensor:
    """Round to the int8 grid of ``(scale, zero_point)`` and saturate; the gradient passes straight through
    inside the range."""
    lo, hi = scale * (-128 - zero_point), scale * (127 - zero_point)
    clamped = tf.clip_by_value(x, lo, hi)
    rounded = (tf.round(clamped / scale + zero_point) - zero_point) * scale
    return clamped + tf.stop_gradient(rounded - clamped)


def _activation(x: tf.Tensor, name: str) -> tf.Tensor:
    if name in ("NONE", None):
        return x
    if name == "RELU":
        return tf.nn.relu(x)
    if name == "RELU6":
        return tf.clip_by_value(x, 0.0, 6.0)
    if name == "RELU_N1_TO_1":
        return tf.clip_by_value(x, -1.0, 1.0)
    raise EdgeleakError(f"fused activation {name} is not supported by the backbone replica")


def _dequantized_weights(t: TfliteTensor, axis: int) -> np.ndarray:
    scales = np.asarray(t.scales if len(t.scales) > 1 else t.scales * t.shape[axis], np.float64)
    zps = np.asarray(t.zero_points if len(t.zero_points) > 1 else (t.zero_points or (0,)) * t.shape[axis], np.float64)
    shape = [1] * t.data.ndim
    shape[axis] = -1
    return ((t.data.astype(np.float64) - zps.reshape(shape)) * scales.reshape(shape)).astype(np.float32)


def _bias(graph: TfliteGraph, index: int, channels: int) -> np.ndarray:
    if index < 0:
        return np.zeros(channels, np.float32)
    b = graph.tensors[index]
    if b.type_name == "float32":
        return b.data.astype(np.float32)
    scales = np.asarray(b.scales if len(b.scales) > 1 else b.scales * channels, np.float64)
    return (b.data.astype(np.float64) * scales).astype(np.float32)


@dataclass(frozen=True)
class Backbone:
    """``forward(windows (n, steps, channels) float) -> features (n, F)`` up to the cut, in float units of the
    cut tensor (the head's input). ``ops`` lists the op names it reproduces."""

    forward: Callable[[tf.Tensor], tf.Tensor]
    ops: tuple[str, ...]
    input_range: tuple[float, float]  # the float window values the int8 input can represent
    feature_range: tuple[float, float]


def build_backbone(tflite: bytes, cut_index: int, *, fake_quant: bool = False) -> Backbone:
    """The backbone of ``tflite`` from its input to tensor ``cut_index``."""
    graph = parse_tflite(tflite)
    producers = {out: op for op in graph.ops for out in op.outputs}
    if cut_index not in producers and cut_index not in graph.inputs:
        raise EdgeleakError(f"tensor {cut_index} is not produced by any op of the model")
    # the ops on the path from the input to the cut, in graph order
    needed, stack = set(), [cut_index]
    while stack:
        t = stack.pop()
        if t in producers and producers[t].index not in needed:
            needed.add(producers[t].index)
            stack += [i for i in producers[t].inputs if i >= 0 and not graph.tensors[i].is_constant]
    path = [op for op in graph.ops if op.index in needed]
    steps: list[Callable[[dict], None]] = []

    def quant(x: tf.Tensor, t: TfliteTensor) -> tf.Tensor:
        if not t.scales:
            return x
        if fake_quant:
            return fake_quantize(x, t.scale, t.zero_point)
        lo, hi = _int8_range(t)
        return tf.clip_by_value(x, lo, hi)

    for op in path:
        out_t = graph.tensors[op.outputs[0]]
        src = op.inputs[0]
        act = op.options.get("fusedActivationFunction", "NONE")
        if op.name in _RESHAPES:
            shape = [-1, *out_t.shape[1:]]
            steps.append(lambda env, src=src, dst=out_t.index, shape=shape: env.__setitem__(dst, tf.reshape(env[src], shape)))
        elif op.name == "CONV_2D":
            w = graph.tensors[op.inputs[1]]
            kernel = tf.constant(np.transpose(_dequantized_weights(w, 0), (1, 2, 3, 0)))  # (kh, kw, in, out)
            bias = tf.constant(_bias(graph, op.inputs[2] if len(op.inputs) > 2 else -1, w.shape[0]))
            strides = [1, op.options.get("strideH", 1), op.options.get("strideW", 1), 1]
            dil = [op.options.get("dilationHFactor", 1), op.options.get("dilationWFactor", 1)]

            def conv(env, src=src, t=out_t, kernel=kernel, bias=bias, strides=strides, dil=dil,
                     pad=op.options.get("padding", "SAME"), act=act):
                y = tf.nn.conv2d(env[src], kernel, strides, pad, dilations=dil) + bias
                env[t.index] = quant(_activation(y, act), t)
            steps.append(conv)
        elif op.name == "DEPTHWISE_CONV_2D":
            w = graph.tensors[op.inputs[1]]  # (1, kh, kw, in * multiplier)
            in_ch = graph.tensors[src].shape[-1]
            weights = _dequantized_weights(w, 3)[0]
            kernel = tf.constant(weights.reshape(w.shape[1], w.shape[2], in_ch, w.shape[3] // in_ch))
            bias = tf.constant(_bias(graph, op.inputs[2] if len(op.inputs) > 2 else -1, w.shape[3]))
            strides = [1, op.options.get("strideH", 1), op.options.get("strideW", 1), 1]
            dil = [op.options.get("dilationHFactor", 1), op.options.get("dilationWFactor", 1)]

            def dwconv(env, src=src, t=out_t, kernel=kernel, bias=bias, strides=strides, dil=dil,
                       pad=op.options.get("padding", "SAME"), act=act):
                y = tf.nn.depthwise_conv2d(env[src], kernel, strides, pad, dilations=dil) + bias
                env[t.index] = quant(_activation(y, act), t)
            steps.append(dwconv)
        elif op.name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            window = [op.options.get("filterHeight", 1), op.options.get("filterWidth", 1)]
            strides = [op.options.get("strideH", 1), op.options.get("strideW", 1)]
            pool = tf.nn.max_pool2d if op.name == "MAX_POOL_2D" else tf.nn.avg_pool2d

            def pooling(env, src=src, t=out_t, window=window, strides=strides, pad=op.options.get("padding", "VALID"),
                        pool=pool, act=act):
                env[t.index] = quant(_activation(pool(env[src], window, strides, pad), act), t)
            steps.append(pooling)
        elif op.name == "MEAN":
            axes = [int(a) % len(graph.tensors[src].shape) for a in np.atleast_1d(graph.tensors[op.inputs[1]].data)]

            def mean(env, src=src, t=out_t, axes=axes, keep=bool(op.options.get("keepDims", False))):
                env[t.index] = quant(tf.reduce_mean(env[src], axis=axes, keepdims=keep), t)
            steps.append(mean)
        elif op.name == "FULLY_CONNECTED":
            w = graph.tensors[op.inputs[1]]
            kernel = tf.constant(_dequantized_weights(w, 0).T)  # (in, out)
            bias = tf.constant(_bias(graph, op.inputs[2] if len(op.inputs) > 2 else -1, w.shape[0]))

            def dense(env, src=src, t=out_t, kernel=kernel, bias=bias, act=act,
                      keep=bool(op.options.get("keepNumDims", False))):
                x = env[src]
                y = tf.matmul(tf.reshape(x, [-1, kernel.shape[0]]), kernel) + bias
                if keep:
                    y = tf.reshape(y, [-1, *t.shape[1:]])
                env[t.index] = quant(_activation(y, act), t)
            steps.append(dense)
        else:
            raise EdgeleakError(f"op {op.name} in the backbone is not supported by the backbone replica")

    in_t = graph.tensors[graph.inputs[0]]
    input_shape = [-1, *in_t.shape[1:]]

    def forward(windows: tf.Tensor) -> tf.Tensor:
        env = {in_t.index: quant(tf.reshape(tf.cast(windows, tf.float32), input_shape), in_t)}
        for step in steps:
            step(env)
        out = env[cut_index]
        return tf.reshape(out, [tf.shape(out)[0], -1])

    return Backbone(forward=forward, ops=tuple(op.name for op in path), input_range=_int8_range(in_t),
                    feature_range=_int8_range(graph.tensors[cut_index]))


def feature_map(knowledge, *, fake_quant: bool = False) -> tuple[Callable[[tf.Tensor], tf.Tensor], bool]:
    """``windows -> head features`` for a model (``knowledge``: a ServerKnowledge), and whether it runs through a
    backbone (False when the whole network is the head: the features are the flattened window)."""
    if knowledge.whole_network_is_head:
        size = int(np.prod(knowledge.input_shape[1:]))
        scale, zp = knowledge.input_scale, knowledge.input_zero_point

        def flat(windows: tf.Tensor) -> tf.Tensor:
            x = tf.reshape(tf.cast(windows, tf.float32), [-1, size])
            return fake_quantize(x, scale, zp) if fake_quant else x
        return flat, False
    return build_backbone(knowledge.tflite, knowledge.cut_tflite_index, fake_quant=fake_quant).forward, True


def total_variation(windows: tf.Tensor) -> tf.Tensor:
    """Mean absolute difference between consecutive time steps of ``(n, steps, channels)`` windows: the
    smoothness prior for sensor time series."""
    return tf.reduce_mean(tf.abs(windows[:, 1:, :] - windows[:, :-1, :]))
