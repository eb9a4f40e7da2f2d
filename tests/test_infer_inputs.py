"""Inputs for ``edgeleak infer`` (docs/data-format.md): .npy, .npz (by name), .csv, the shape the model expects in
the error, and --raw windows in sensor units normalised with the model's own statistics."""

import numpy as np
import pytest
from data_files import write_windows

from edgeleak.cli import main
from edgeleak.data.inputs import read_inputs
from edgeleak.errors import EdgeleakError

WINDOW = (20, 3)


def test_npy_one_window_or_many(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, *WINDOW)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(read_inputs(str(tmp_path / "x.npy"), WINDOW), x)
    np.save(tmp_path / "one.npy", x[0])
    assert read_inputs(str(tmp_path / "one.npy"), WINDOW).shape == (1, *WINDOW)
    np.save(tmp_path / "q.npy", np.zeros((2, *WINDOW), np.int8))
    assert read_inputs(str(tmp_path / "q.npy"), WINDOW).dtype == np.int8


def test_npz_takes_windows_the_only_array_or_a_named_one(tmp_path):
    x = np.ones((2, *WINDOW), np.float32)
    np.savez(tmp_path / "a.npz", windows=x, labels=np.zeros(2))
    np.testing.assert_array_equal(read_inputs(str(tmp_path / "a.npz"), WINDOW), x)
    np.savez(tmp_path / "b.npz", mine=x * 2)
    np.testing.assert_array_equal(read_inputs(str(tmp_path / "b.npz"), WINDOW), x * 2)
    np.savez(tmp_path / "c.npz", first=x, second=x * 3)
    np.testing.assert_array_equal(read_inputs(f"{tmp_path / 'c.npz'}:second", WINDOW), x * 3)
    with pytest.raises(EdgeleakError, match="c.npz has no array 'windows'; it holds first, second"):
        read_inputs(str(tmp_path / "c.npz"), WINDOW)


def test_csv_rows_are_time_steps_and_windows_follow_each_other(tmp_path):
    x = np.arange(2 * 20 * 3, dtype=np.float32).reshape(40, 3)
    (tmp_path / "h.csv").write_text("timestamp,acc_x,acc_y,acc_z,label\n"
                                    + "".join(f"{i},{a},{b},{c},walk\n" for i, (a, b, c) in enumerate(x)))
    np.testing.assert_array_equal(read_inputs(str(tmp_path / "h.csv"), WINDOW), x.reshape(2, *WINDOW))
    np.savetxt(tmp_path / "plain.csv", x[:20], delimiter=",")  # no header: every column is a channel
    np.testing.assert_array_equal(read_inputs(str(tmp_path / "plain.csv"), WINDOW), x[None, :20])


@pytest.mark.parametrize("make,expected", [
    (lambda p: np.save(p / "x.npy", np.zeros((3, 10, 3), np.float32)) or "x.npy",
     "x.npy holds an array of shape (3, 10, 3); the model expects windows of shape (n, 20, 3)"),
    (lambda p: np.savez(p / "x.npz", windows=np.zeros(1)) or "x.npz", "shape (1,); the model expects windows of shape (n, 20, 3)"),
    (lambda p: np.savetxt(p / "x.csv", np.zeros((30, 3)), delimiter=",") or "x.csv",
     "x.csv holds 30 rows of 3 channel columns; the model expects windows of 20 rows of 3 channels"),
    (lambda p: (p / "x.csv").write_text("a,b,c\n1,2,x\n") and "x.csv", "line 2, column 'c': 'x' is not a number"),
    (lambda p: np.save(p / "x.npy", np.array([{"a": 1}], dtype=object)) or "x.npy", "pickled"),
    (lambda p: (p / "x.txt").write_text("1") and "x.txt", "give a .npy, .npz or .csv file"),
])
def test_bad_inputs_name_the_expected_shape(tmp_path, make, expected):
    name = make(tmp_path)
    with pytest.raises(EdgeleakError) as info:
        read_inputs(str(tmp_path / name), WINDOW)
    assert expected in str(info.value)


@pytest.fixture(scope="module")
def npz_model(tmp_path_factory):
    from edgeleak.data import load_dataset
    from edgeleak.quantize.pipeline import quantize_zoo_model

    folder = tmp_path_factory.mktemp("npz-model")
    arrays = write_windows(folder / "w.npz")
    quantize_zoo_model(load_dataset(str(folder / "w.npz")), "mlp", folder / "model", epochs=3)
    return folder / "model", arrays


def test_infer_on_a_host_board_with_raw_windows(npz_model, tmp_path, capsys):
    from edgeleak.device.model_dir import load_model_dir

    model_path, arrays = npz_model
    model = load_model_dir(model_path)
    raw = arrays["windows"][:3]
    norm = model.meta.normalisation
    assert norm is not None and len(norm.mean) == 3
    np.save(tmp_path / "norm.npy", norm.apply(raw))
    np.savez(tmp_path / "raw.npz", windows=raw)
    for args, out in ((["--input", str(tmp_path / "norm.npy")], "a.npy"), (["--input", str(tmp_path / "raw.npz"), "--raw"], "b.npy")):
        assert main(["infer", "--board", "host", "--model", str(model_path), *args, "--output", str(tmp_path / out)]) == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape[0] == 3 and a.dtype == np.int8
    np.testing.assert_array_equal(a, b)
    capsys.readouterr()
    np.save(tmp_path / "bad.npy", raw[:, :10])
    assert main(["infer", "--board", "host", "--model", str(model_path), "--input", str(tmp_path / "bad.npy"),
                 "--output", str(tmp_path / "c.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expects windows of shape (n, 20, 3)" in err[0]
