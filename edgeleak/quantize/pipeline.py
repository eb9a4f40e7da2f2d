"""The quantize stage: train (or load) a model, convert it to int8 TFLite, export the firmware artifact."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.core.model import (MODEL_ARTIFACT, MODEL_KERAS, MODEL_META, MODEL_TFLITE, DatasetSource, ModelMeta,
                                  Normalisation, QuantizeReport, same_window)
from edgeleak.data.datasets import Dataset
from edgeleak.errors import EdgeleakError
from edgeleak.quantize.artifact import ExportedModel, export_artifact
from edgeleak.quantize.convert import convert_int8, representative_windows
from edgeleak.quantize.tflite_graph import TfliteGraph, parse_tflite


def dequantized_head(graph: TfliteGraph, head_layers: int) -> list[DenseLayer]:
    """Float head weights recovered from the int8 FULLY_CONNECTED ops (for models given as .tflite)."""
    from edgeleak.quantize.artifact import find_head

    first = find_head(graph, head_layers)
    layers = []
    for op in graph.ops[first:first + head_layers]:
        w, b = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        scales = np.asarray(w.scales if len(w.scales) > 1 else w.scales * w.shape[0], np.float64)
        weights = (w.data.astype(np.float64) * scales[:, None]).astype(np.float32)
        in_scale = graph.tensors[op.inputs[0]].scale
        bias = (b.data.astype(np.float64) * in_scale * scales).astype(np.float32) if b is not None else np.zeros(w.shape[0], np.float32)
        layers.append(DenseLayer(weights, bias))
    return layers


def int8_accuracy(tflite_model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the int8 model under the TFLite Micro reference interpreter."""
    from edgeleak.reference.interpreters import TflmReference

    ref = TflmReference(tflite_model)
    q = ref.quantize_input(x)
    outputs = np.stack([ref.run(q[i]) for i in range(len(q))])
    return float(np.mean(np.argmax(outputs.reshape(len(q), -1), axis=1) == y))


def quantize_zoo_model(data: Dataset, model_name: str, out_dir: Path, *, cut: str | None = None, seed: int = 0,
                       epochs: int | None = None) -> tuple[QuantizeReport, ExportedModel]:
    """Train a zoo model on ``data`` with fixed seeds and write model.keras, model.tflite, model.elm, model.json."""
    from edgeleak.models.train import head_layers, train_model
    from edgeleak.models.zoo import get_model_spec

    start = time.perf_counter()
    spec = get_model_spec(model_name)
    cut_name = cut or spec.cut
    head_layers(spec.build(data.input_shape, data.num_classes), cut_name)  # a bad cut fails before training
    trained = train_model(spec, data, seed=seed, epochs=epochs)
    head = head_layers(trained.model, cut_name)
    tflite_model = convert_int8(trained.model, representative_windows(data.base()[0], seed=seed))
    out_dir.mkdir(parents=True, exist_ok=True)
    trained.model.save(out_dir / MODEL_KERAS)
    return _finish(data, model_name, cut_name, tflite_model, head, out_dir, trained.test_accuracy, start)


def quantize_user_model(data: Dataset, path: Path, out_dir: Path, *, cut: str | None, head_layers: int,
                        seed: int = 0) -> tuple[QuantizeReport, ExportedModel]:
    """A user's Keras file or SavedModel directory, calibrated on ``data``, its float head as the device's start."""
    from edgeleak.quantize.user_model import convert_keras_file, convert_saved_model

    start = time.perf_counter()
    if path.is_dir():
        converted = convert_saved_model(data, path, head_layers=_head_count(cut, head_layers), seed=seed)
    else:
        converted = convert_keras_file(data, path, cut=cut, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    if converted.keras_model is not None:
        converted.keras_model.save(out_dir / MODEL_KERAS)
    return _finish(data, converted.name, converted.cut, converted.tflite, converted.head, out_dir,
                   converted.float_accuracy, start)


def _head_count(cut: str | None, head_layers: int) -> int:
    """For graphs without Keras layers (.tflite, SavedModel) ``--cut -N`` means the last N dense layers."""
    if cut is None:
        return head_layers
    try:
        count = -int(cut)
    except ValueError:
        count = 0
    if count < 1:
        raise EdgeleakError(f"--cut {cut}: a .tflite or SavedModel has no layer names here; give --cut -N for a head of "
                            "the last N dense layers")
    return count


def quantize_tflite_file(data: Dataset, tflite_path: Path, out_dir: Path, *, head_layers: int,
                         cut: str | None = None) -> tuple[QuantizeReport, ExportedModel]:
    """Export an existing full-integer .tflite; the last ``head_layers`` dense layers become the float head."""
    start = time.perf_counter()
    try:
        tflite_model = tflite_path.read_bytes()
    except OSError as exc:
        raise EdgeleakError(f"cannot read model file {tflite_path}: {exc.strerror}") from None
    graph = parse_tflite(tflite_model)
    head_layers = _head_count(cut, head_layers)
    head = dequantized_head(graph, head_layers)
    out_dir.mkdir(parents=True, exist_ok=True)
    return _finish(data, tflite_path.stem, f"last {head_layers} dense", tflite_model, head, out_dir, None, start)


def _finish(data: Dataset, model_name: str, cut: str, tflite_model: bytes, head: list[DenseLayer], out_dir: Path,
            float_accuracy: float | None, start: float) -> tuple[QuantizeReport, ExportedModel]:
    graph = parse_tflite(tflite_model)
    exported = export_artifact(graph, head)
    if not same_window(exported.input_shape[1:], data.input_shape):
        raise EdgeleakError(f"model input {exported.input_shape[1:]} does not match data set {data.name} windows {data.input_shape}")
    if exported.output_shape[-1] != data.num_classes:
        raise EdgeleakError(f"the model has {exported.output_shape[-1]} outputs; data set {data.name} has {data.num_classes} classes")
    accuracy = int8_accuracy(tflite_model, data.x_test, data.y_test)
    _write_atomic(out_dir / MODEL_TFLITE, tflite_model)
    _write_atomic(out_dir / MODEL_ARTIFACT, exported.artifact)
    report = QuantizeReport(
        dataset=data.name, model=model_name, cut=cut, float_test_accuracy=float_accuracy, int8_test_accuracy=accuracy,
        tflite_bytes=len(tflite_model), artifact_bytes=len(exported.artifact), arena_bytes=exported.arena_size,
        macs=exported.total_macs, sha256=exported.sha256, seconds=time.perf_counter() - start,
    )
    meta = ModelMeta(
        report=report, input_shape=exported.input_shape, output_shape=exported.output_shape,
        input_scale=exported.input_scale, input_zero_point=exported.input_zero_point, cut_shape=exported.cut_shape,
        cut_tflite_index=exported.cut_tflite_index, cut_scale=exported.cut_scale, cut_zero_point=exported.cut_zero_point,
        head_shapes=exported.head_shapes, backbone_ops=exported.backbone_ops,
        dataset=data.source or DatasetSource(data.name),
        normalisation=Normalisation(tuple(np.ravel(data.mean).tolist()), tuple(np.ravel(data.std).tolist())),
    )
    _write_atomic(out_dir / MODEL_META, json.dumps(meta.to_json(), indent=2, allow_nan=False).encode())
    return report, exported


def _write_atomic(path: Path, content: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
