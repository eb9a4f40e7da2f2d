"""The shared types: one float→int8 rule, and model.json written and read through one typed record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeleak.core.model import DatasetSource, ModelMeta, Normalisation, QuantizeReport
from edgeleak.core.quant import quantize_int8
from edgeleak.errors import EdgeleakError


def test_halves_round_away_from_zero_as_the_device_does():
    # roundf: 0.5 → 1, -0.5 → -1, 2.5 → 3 (numpy's round would give 0, -0, 2)
    q = quantize_int8(np.array([0.5, -0.5, 2.5, -2.5, 1.49999, 300.0, -300.0]), 1.0, 0)
    assert q.tolist() == [1, -1, 3, -3, 1, 127, -128]


def test_the_quotient_is_taken_in_float32_like_the_firmware():
    # x / s in float32 can land exactly on a half where float64 does not; the device sees the float32 quotient
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, 20000).astype(np.float32)
    scale, zero = 0.0237, -3
    q32 = np.asarray(x, np.float32) / np.float32(scale)
    expected = np.clip(np.where(q32 >= 0, np.floor(q32.astype(np.float64) + 0.5), np.ceil(q32.astype(np.float64) - 0.5)) + zero,
                       -128, 127)
    assert np.array_equal(quantize_int8(x, scale, zero), expected.astype(np.int8))


def _meta(dataset: DatasetSource) -> ModelMeta:
    report = QuantizeReport(dataset=dataset.name, model="mlp", cut="dense", float_test_accuracy=None, int8_test_accuracy=0.5,
                            tflite_bytes=1, artifact_bytes=2, arena_bytes=3, macs=4, sha256="ab" * 32, seconds=0.1)
    return ModelMeta(report=report, input_shape=(1, 100, 6), output_shape=(1, 4), input_scale=0.05, input_zero_point=-2,
                     cut_shape=(1, 32), cut_tflite_index=7, cut_scale=0.1, cut_zero_point=-128, head_shapes=((32, 4),),
                     backbone_ops=3, dataset=dataset, normalisation=Normalisation((0.0, 1.0), (1.0, 2.0)))


def test_model_json_round_trips_through_strict_json():
    source = DatasetSource(name="walk", format="csv", path="rec.csv", sha256="0" * 64, window=50, stride=25,
                           channels=("ax", "ay"), label_column="activity")
    meta = _meta(source)
    text = json.dumps(meta.to_json(), allow_nan=False)
    assert ModelMeta.from_json(json.loads(text)) == meta


def test_a_schema_1_model_json_names_a_packaged_data_set():
    raw = _meta(DatasetSource("basic_motions")).to_json()
    raw["dataset"] = "basic_motions"
    del raw["schema_version"], raw["normalisation"]
    meta = ModelMeta.from_json(raw)
    assert meta.dataset == DatasetSource("basic_motions") and meta.dataset.packaged and meta.normalisation is None


@pytest.mark.parametrize("mutate, message", [
    (lambda m: m.pop("cut_shape"), "lacks cut_shape"),
    (lambda m: m.update(input_scale="x"), "malformed entry"),
    (lambda m: m.update(dataset={"name": "a", "format": "xlsx"}), "unknown data set format 'xlsx'"),
    (lambda m: m.update(dataset={"name": "a", "colour": 1}), "unknown data set keys colour"),
    (lambda m: m.update(normalisation={"mean": [0.0], "std": [0.0]}), "std is not positive"),
])
def test_a_damaged_model_json_is_one_line_naming_the_key(mutate, message):
    raw = _meta(DatasetSource("basic_motions")).to_json()
    mutate(raw)
    with pytest.raises(EdgeleakError, match=message):
        ModelMeta.from_json(raw)
