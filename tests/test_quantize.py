from pathlib import Path
import json
import subprocess
import sys

import numpy as np
import pytest

from edgeleak.errors import EdgeleakError
from edgeleak.quantize.artifact import export_artifact, read_head, read_header
from edgeleak.quantize.tflite_graph import parse_tflite

REPO = Path(__file__).resolve().parents[1]


def test_zoo_models_export_a_valid_artifact_with_the_keras_head(zoo_models):
    import keras

    for name, directory in zoo_models.items():
        artifact = (directory / "model.elm").read_bytes()
        header = read_header(artifact)
        meta = json.loads((directory / "model.json").read_text())
        assert header.sha256 == meta["report"]["sha256"]
        assert {"TENS", "OPS ", "DATA", "HEAD"} <= set(header.sections)
        model = keras.models.load_model(directory / "model.keras")
        head = read_head(artifact)
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        assert len(head) == len(dense) == 2
        for layer, stored in zip(dense, head):
            kernel, bias = layer.get_weights()
            np.testing.assert_array_equal(stored.weights, kernel.T)
            np.testing.assert_array_equal(stored.bias, bias)
        assert meta["report"]["int8_test_accuracy"] >= 0.6  # BasicMotions is easy; a broken conversion is not


def test_imu_cnn_cut_is_the_pooled_feature_vector(zoo_models):
    meta = json.loads((zoo_models["imu_cnn"] / "model.json").read_text())
    assert meta["cut_shape"] == [1, 24] and meta["head_shapes"] == [[24, 16], [16, 4]]
    mlp = json.loads((zoo_models["mlp"] / "model.json").read_text())
    assert mlp["cut_shape"] == [1, 600] and mlp["backbone_ops"] == 1  # the flatten reshape only


@pytest.mark.parametrize("flip", [70, 200, -1])
def test_corrupt_artifacts_are_refused(zoo_models, flip):
    artifact = bytearray((zoo_models["imu_cnn"] / "model.elm").read_bytes())
    artifact[flip] ^= 0x40
    with pytest.raises(EdgeleakError, match="corrupt"):
        read_header(bytes(artifact))
    with pytest.raises(EdgeleakError, match="truncated"):
        read_header(bytes(artifact[:-8]))
    with pytest.raises(EdgeleakError, match="bad magic"):
        read_header(b"TFL3" + bytes(artifact[4:]))


def test_models_with_ops_the_engine_lacks_are_named(tmp_path):
    import keras
    import tensorflow as tf

    from edgeleak.quantize.convert import convert_int8

    x_in = keras.Input((20, 3))
    h = keras.layers.Conv1D(4, 3, activation="tanh")(x_in)  # TANH is a separate int8 op
    h = keras.layers.GlobalAveragePooling1D()(h)
    model = keras.Model(x_in, keras.layers.Dense(2, activation="softmax")(h))
    tflite = convert_int8(model, np.random.default_rng(0).normal(size=(16, 20, 3)).astype(np.float32))
    with pytest.raises(EdgeleakError, match="op TANH .* not supported by the firmware engine"):
        from edgeleak.core.head import DenseLayer
        export_artifact(parse_tflite(tflite), [DenseLayer(np.zeros((2, 4), np.float32), np.zeros(2, np.float32))])
    float_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    with pytest.raises(EdgeleakError, match="not int8"):
        export_artifact(parse_tflite(float_model), [])


def test_a_cut_that_does_not_exist_is_a_clear_error(basic_motions, tmp_path):
    from edgeleak.quantize.pipeline import quantize_zoo_model

    with pytest.raises(EdgeleakError, match="cut layer 'nope' does not exist"):
        quantize_zoo_model(basic_motions, "mlp", tmp_path, cut="nope", epochs=1)
    with pytest.raises(EdgeleakError, match="not followed by dense layers only: features is a GlobalAveragePooling1D"):
        quantize_zoo_model(basic_motions, "imu_cnn", tmp_path, cut="features", epochs=1)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "edgeleak.cli", *args], capture_output=True, text=True)


def test_cli_refuses_malformed_model_files(tmp_path):
    garbage = tmp_path / "broken.tflite"
    garbage.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 4)
    proc = _cli("quantize", "--model", str(garbage), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("edgeleak: error: the TFLite model is malformed")
    notflite = tmp_path / "x.tflite"
    notflite.write_bytes(b"hello")
    proc = _cli("quantize", "--model", str(notflite), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "not a TFLite model" in proc.stderr


def test_cli_exports_an_existing_tflite_and_reports_the_budget(zoo_models, tmp_path):
    proc = _cli("quantize", "--model", str(zoo_models["imu_cnn"] / "model.tflite"), "--out", str(tmp_path / "m"))
    assert proc.returncode == 0, proc.stderr
    assert "mps2-an386 budget" in proc.stdout and "of   983,040 B" in proc.stdout
    original = read_header((zoo_models["imu_cnn"] / "model.elm").read_bytes())
    again = read_header((tmp_path / "m" / "model.elm").read_bytes())
    assert again.n_ops == original.n_ops and again.arena_size == original.arena_size


def test_a_model_too_big_for_the_board_is_refused(zoo_models, tmp_path):
    boards = tmp_path / "boards.yaml"
    import yaml

    doc = yaml.safe_load((REPO / "boards.yaml").read_text())
    doc["boards"]["mps2-an386"]["flash_kb"] = 16
    boards.write_text(yaml.safe_dump(doc))
    proc = _cli("--boards", str(boards), "quantize", "--model", str(zoo_models["mlp"] / "model.tflite"), "--out", str(tmp_path / "m"))
    assert proc.returncode == 2
    assert "does not fit mps2-an386: flash" in proc.stderr
