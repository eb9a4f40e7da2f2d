"""A user's own model: a Keras file or SavedModel the test saves, quantized with --cut on the user's data, its head
the user's float weights, bit-exact with TFLite Micro on the device; and a line for each model the device cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.device.infer import run_inputs
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.device.verify import verification_inputs, verify_outputs
from edgeleak.quantize.artifact import read_head

from cli_run import cli, one_line_error


def _fit(model, data, epochs: int = 40):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data.x_train.reshape(-1, *model.input_shape[1:]), data.y_train, epochs=epochs, batch_size=8, verbose=0)
    return model


@pytest.fixture(scope="module")
def wearable(tmp_path_factory, basic_motions):
    """A model of the user's own design: conv and depthwise backbone, a three-layer dense head with its own names."""
    import keras

    keras.utils.set_random_seed(3)
    x_in = keras.Input(shape=(100, 6), name="imu")
    x = keras.layers.Conv1D(12, 5, strides=2, activation="relu", name="stem")(x_in)
    x = keras.layers.DepthwiseConv1D(3, activation="relu6", name="spread")(x)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    x = keras.layers.Dense(24, activation="relu", name="embed")(x)
    x = keras.layers.Dense(12, activation="relu", name="personal")(x)
    out = keras.layers.Dense(4, activation="softmax", name="activity")(x)
    model = _fit(keras.Model(x_in, out, name="wearable"), basic_motions)
    folder = tmp_path_factory.mktemp("user-model")
    model.save(folder / "wearable.keras")
    model.export(str(folder / "wearable_savedmodel"), format="tf_saved_model", verbose=False)
    return folder, model


def _float_head(model, first: str):
    names = [layer.name for layer in model.layers]
    return [(layer.get_weights()[0].T, layer.get_weights()[1]) for layer in model.layers[names.index(first):]]


def test_a_keras_model_cut_by_name_starts_the_device_from_the_users_float_weights(wearable, tmp_path):
    folder, model = wearable
    proc = cli("quantize", "--model", str(folder / "wearable.keras"), "--cut", "personal", "--dataset", "basic_motions",
                "--out", str(tmp_path / "m"), "--board", "host")
    assert proc.returncode == 0, proc.stderr
    assert "model wearable on basic_motions: cut at personal" in proc.stdout
    directory = load_model_dir(tmp_path / "m")
    head = read_head(directory.artifact)
    expected = _float_head(model, "personal")
    assert len(head) == 2
    for layer, (w, b) in zip(head, expected):
        assert np.array_equal(layer.weights, w.astype(np.float32)) and np.array_equal(layer.bias, b.astype(np.float32))
    assert directory.meta.head_shapes == ((24, 12), (12, 4))
    assert directory.meta.report.float_test_accuracy is not None and directory.meta.report.int8_test_accuracy > 0.5


def test_a_negative_cut_counts_layers_from_the_end(wearable, tmp_path):
    folder, _ = wearable
    by_index = cli("quantize", "--model", str(folder / "wearable.keras"), "--cut", "-3", "--dataset", "basic_motions",
                    "--out", str(tmp_path / "a"), "--board", "host")
    assert by_index.returncode == 0, by_index.stderr
    assert "cut at embed" in by_index.stdout
    default = cli("quantize", "--model", str(folder / "wearable.keras"), "--dataset", "basic_motions",
                   "--out", str(tmp_path / "b"), "--board", "host")
    assert default.returncode == 0 and "cut at embed" in default.stdout  # the trailing Dense layers, at most 3
    assert load_model_dir(tmp_path / "a").sha256 == load_model_dir(tmp_path / "b").sha256


def test_a_savedmodel_gives_the_same_artifact_as_its_keras_file(wearable, tmp_path):
    folder, _ = wearable
    for source, cut, out in (("wearable.keras", "personal", "k"), ("wearable_savedmodel", "-2", "s")):
        proc = cli("quantize", "--model", str(folder / source), "--cut", cut, "--dataset", "basic_motions",
                    "--out", str(tmp_path / out), "--board", "host")
        assert proc.returncode == 0, proc.stderr
    keras_dir, saved_dir = load_model_dir(tmp_path / "k"), load_model_dir(tmp_path / "s")
    for a, b in zip(read_head(keras_dir.artifact), read_head(saved_dir.artifact)):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)  # float, not dequantized int8
    assert saved_dir.sha256 == keras_dir.sha256


@pytest.mark.qemu
def test_a_users_model_is_bit_exact_with_tflite_micro_on_the_device(wearable, basic_motions, tmp_path):
    folder, _ = wearable
    proc = cli("quantize", "--model", str(folder / "wearable.keras"), "--cut", "personal", "--dataset", "basic_motions",
                "--out", str(tmp_path / "m"))
    assert proc.returncode == 0, proc.stderr
    model = load_model_dir(tmp_path / "m")
    inputs = verification_inputs(model, np.concatenate([basic_motions.x_test, basic_motions.x_train]), 300, seed=2)
    with open_device(load_boards().get("mps2-an386"), model) as session:
        assert session.info.model_hash == model.sha256
        outputs = run_inputs(session, inputs)
    tflm, _ = verify_outputs(model, inputs, outputs)
    assert tflm.identical, tflm
    assert len(np.unique(outputs.outputs.argmax(axis=1))) > 1


def test_a_model_with_a_trailing_channel_axis_takes_the_data_sets_windows(basic_motions, tmp_path):
    """A Conv2D model over (steps, channels, 1) runs on (steps, channels) windows: the same values in the same order."""
    import keras

    keras.utils.set_random_seed(1)
    x_in = keras.Input(shape=(100, 6, 1))
    x = keras.layers.Conv2D(8, (5, 6), activation="relu", name="grid")(x_in)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    out = keras.layers.Dense(4, activation="softmax", name="out")(x)
    _fit(keras.Model(x_in, out, name="image_like"), basic_motions, epochs=20).save(tmp_path / "image_like.keras")
    proc = cli("quantize", "--model", str(tmp_path / "image_like.keras"), "--dataset", "basic_motions",
                "--out", str(tmp_path / "m"), "--board", "host")
    assert proc.returncode == 0, proc.stderr
    model = load_model_dir(tmp_path / "m")
    assert model.input_shape == (1, 100, 6, 1)
    assert model.quantize(basic_motions.x_test[:3]).shape == (3, 100, 6, 1)


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory):
    import keras

    folder = tmp_path_factory.mktemp("bad-models")
    x_in = keras.Input(shape=(100, 6))
    squash = keras.layers.Conv1D(8, 5, activation="tanh", name="squash")(x_in)
    keras.Model(x_in, keras.layers.Dense(4, activation="softmax", name="o")(keras.layers.GlobalAveragePooling1D()(squash))
                ).save(folder / "tanh.keras")
    recurrent = keras.layers.LSTM(8, name="memory")(x_in)
    keras.Model(x_in, keras.layers.Dense(4, activation="softmax", name="o")(recurrent)).save(folder / "lstm.keras")
    pooled = keras.layers.GlobalAveragePooling1D(name="pool")(x_in)
    keras.Model(x_in, keras.layers.Dense(3, activation="softmax", name="o")(pooled)).save(folder / "three.keras")
    keras.Model(x_in, keras.layers.Dense(4, activation="tanh", name="o")(pooled)).save(folder / "tanh_out.keras")
    (folder / "garbage.keras").write_bytes(b"not a zip file")
    return folder


@pytest.mark.parametrize("name, cut, message", [
    ("tanh.keras", None, "layer 'squash': op TANH .* not supported by the firmware engine; supported: Conv1D"),
    ("lstm.keras", None, "layer 'memory' is a LSTM, which the firmware does not run; supported: Conv1D"),
    ("three.keras", None, "the model's last layer has 3 outputs; data set basic_motions has 4 classes"),
    ("tanh_out.keras", None, "the last head layer o must output softmax or logits"),
    ("garbage.keras", None, "cannot load Keras model .*garbage.keras"),
    ("three.keras", "pool", "cut 'pool' is not followed by dense layers only"),
    ("three.keras", "nowhere", "cut layer 'nowhere' does not exist in model"),
    ("three.keras", "7", "--cut 7 is outside the model's 3 layers"),
    ("missing.keras", None, "model file .*missing.keras does not exist"),
])
def test_a_model_the_device_cannot_run_is_one_line(bad_models, tmp_path, name, cut, message):
    args = ["quantize", "--model", str(bad_models / name), "--dataset", "basic_motions", "--out", str(tmp_path / "m"),
            "--board", "host"] + (["--cut", cut] if cut else [])
    one_line_error(cli(*args), message, regex=True)


def test_windows_of_another_shape_are_refused(wearable, tmp_path):
    folder, _ = wearable
    proc = cli("quantize", "--model", str(folder / "wearable.keras"), "--dataset", "digits", "--out", str(tmp_path / "m"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("edgeleak: error: model wearable.keras takes windows of shape (100, 6); "
                                   "data set digits has windows of shape (8, 8)")
