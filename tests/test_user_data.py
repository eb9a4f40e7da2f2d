"""A user's own data sets (docs/data-format.md): CSV recordings and NPZ windows through the loader, the hash that
pins them to a model, their one-line errors through the command line, and the listings of what is available."""

import dataclasses
import io

import numpy as np
import pytest
from data_files import ACTIVITIES, CHANNELS, write_recording, write_windows

from edgeleak.cli import main
from edgeleak.data import DATASETS, load_dataset
from edgeleak.data.spec import CsvOptions, source_for
from edgeleak.data.user_files import DataFileError
from edgeleak.data.windows import recording_runs, window_starts
from edgeleak.errors import EdgeleakError


def _csv(tmp_path, text: str, name: str = "rec.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _load(path, **options):
    return load_dataset(source_for(str(path), CsvOptions(**options)))


def test_csv_is_cut_into_windows_within_one_label_and_subject(tmp_path):
    raw = write_recording(tmp_path / "rec.csv")  # 3 subjects x 3 activities x 60 rows
    data = _load(tmp_path / "rec.csv", window=20, stride=10)
    # Per subject 180 rows give starts 0, 10, ..., 160 (17); those at 50 and 110 straddle two activities.
    assert len(data.x_train) + len(data.x_test) == 3 * 15
    assert data.input_shape == (20, 3) and data.channel_names == CHANNELS
    assert data.class_names == tuple(sorted(ACTIVITIES)) and data.num_classes == 3
    # Every window, back in sensor units, is 20 consecutive rows of the recording inside one activity segment.
    for x in np.concatenate([data.x_train, data.x_test]) * data.std + data.mean:
        start = int(np.argmin(np.abs(raw[:, 0] - x[0, 0]) + np.abs(raw[:, 1] - x[0, 1])))
        np.testing.assert_allclose(raw[start:start + 20], x, atol=1e-4)
        assert start // 60 == (start + 19) // 60
    assert sorted(set(data.subjects_train.tolist())) == [0, 1, 2]
    source = data.source
    assert (source.format, source.window, source.stride, source.label_column, source.subject_column,
            source.time_column) == ("csv", 20, 10, "activity", "subject", "timestamp")


def test_csv_default_window_and_stride(tmp_path):
    write_recording(tmp_path / "rec.csv", rows_per_segment=250)
    data = _load(tmp_path / "rec.csv")
    assert data.input_shape == (100, 3) and (data.source.window, data.source.stride) == (100, 50)
    assert len(data.x_train) + len(data.x_test) == 3 * 3 * 4  # per segment of 250 rows: starts 0, 50, 100, 150


def test_windows_never_cross_a_subject_or_a_restarted_recording():
    labels = np.array(["walk"] * 100)
    subjects = np.array(["a"] * 50 + ["b"] * 50)
    assert len(window_starts(labels, np.zeros(100, np.int64), 20, 10)[0]) == 9  # one run: starts 0, 10, ..., 80
    assert len(window_starts(labels, recording_runs(subjects, None), 20, 10)[0]) == 8
    times = np.concatenate([np.arange(50) * 0.02, np.arange(50) * 0.02])  # the clock restarts
    assert len(window_starts(labels, recording_runs(None, times), 20, 10)[0]) == 8
    gap = np.concatenate([np.arange(50) * 0.02, 60 + np.arange(50) * 0.02])  # a pause of a minute
    assert len(window_starts(labels, recording_runs(None, gap), 20, 10)[0]) == 8
    straddling = np.array(["walk"] * 55 + ["run"] * 45)
    starts, dropped = window_starts(straddling, np.zeros(100, np.int64), 20, 10)
    assert starts.tolist() == [0, 10, 20, 30, 60, 70, 80] and dropped == 2


def test_normalisation_comes_from_the_training_split_only(tmp_path):
    write_recording(tmp_path / "rec.csv")
    data = _load(tmp_path / "rec.csv", window=20, stride=10)
    train_raw = data.x_train * data.std + data.mean
    np.testing.assert_allclose(train_raw.mean(axis=(0, 1)), data.mean, atol=1e-4)
    np.testing.assert_allclose(data.x_train.mean(axis=(0, 1)), 0, atol=1e-4)
    np.testing.assert_allclose(data.x_train.std(axis=(0, 1)), 1, atol=1e-3)
    assert not np.allclose(data.x_test.mean(axis=(0, 1)), 0, atol=1e-3)  # the test windows did not set the statistics


def test_npz_round_trip_with_stratified_split_and_reload_by_source(tmp_path):
    arrays = write_windows(tmp_path / "w.npz", sample_rate_hz=np.float64(50))
    data = load_dataset(str(tmp_path / "w.npz"))
    assert data.name == "w.npz" and data.input_shape == (20, 3) and data.sample_rate_hz == 50
    assert len(data.y_test) == 3 * 2 and len(data.y_train) == 3 * 6  # 25% of each class's 8 windows held out
    assert np.bincount(data.y_test).tolist() == [2, 2, 2]
    assert data.channel_names == CHANNELS and data.subjects_train is not None
    raw = np.concatenate([data.x_train, data.x_test]) * data.std + data.mean
    assert np.allclose(np.sort(raw.ravel()), np.sort(arrays["windows"].ravel()), atol=1e-4)
    again = load_dataset(data.source)  # what a model directory records reloads the same windows
    np.testing.assert_array_equal(again.x_train, data.x_train)
    np.testing.assert_array_equal(again.y_test, data.y_test)


def test_npz_explicit_split_and_class_names(tmp_path):
    split = np.array(["train"] * 20 + ["test"] * 4)
    write_windows(tmp_path / "w.npz", split=split, class_names=np.array(["walk", "run", "sit"]))
    data = load_dataset(str(tmp_path / "w.npz"))
    assert (len(data.y_train), len(data.y_test)) == (20, 4)
    assert data.class_names == ("walk", "run", "sit") and data.y_test.tolist() == [2, 2, 2, 2]


def test_changed_or_missing_file_is_refused(tmp_path):
    path = tmp_path / "rec.csv"
    write_recording(path)
    source = _load(path, window=20, stride=10).source
    path.write_text(path.read_text() + "99.0,s3,sit,1,2,3\n")
    with pytest.raises(DataFileError, match="has changed since the model was made"):
        load_dataset(source)
    moved = tmp_path / "moved.csv"
    path.rename(moved)
    with pytest.raises(DataFileError, match="is missing"):
        load_dataset(source)
    write_recording(moved)  # the original bytes, under a new name
    found = source_for(str(moved), recorded=source)  # --dataset NEWPATH keeps the model's windowing
    assert found.sha256 == source.sha256 and found.window == 20 and found.path == str(moved)
    assert len(load_dataset(found).x_train) == len(load_dataset(dataclasses.replace(source, path=str(moved))).x_train)


HEADER = "timestamp,subject,activity,acc_x,acc_y,acc_z\n"


def _rows(n, activity="walk", start=0):
    return "".join(f"{(start + i) * 0.02:.2f},s1,{activity},{i % 7},{i % 5},{i % 3}\n" for i in range(n))


BAD_CSV = {
    "ragged": (HEADER + _rows(3) + "0.08,s1,walk,1,2\n" + _rows(40, "run", 4), ["line 5", "5 fields", "header has 6"]),
    "no-label": ("timestamp,acc_x,acc_y\n0,1,2\n", ["no label column", "--label-column"]),
    "not-a-number": (HEADER + _rows(3) + "0.08,s1,walk,1,abc,3\n" + _rows(40, "run", 4), ["line 5", "'acc_y'", "'abc'"]),
    "nan": (HEADER + _rows(3) + "0.08,s1,walk,1,NaN,3\n" + _rows(40, "run", 4), ["line 5", "'acc_y'", "not a finite"]),
    "empty": (HEADER + _rows(3) + "0.08,s1,walk,1,,3\n" + _rows(40, "run", 4), ["line 5", "'acc_y'", "empty cell"]),
    "single-class": (HEADER + _rows(80), ["single class", "'walk'"]),
    "too-few-windows": (HEADER + _rows(40) + _rows(10, "run", 40), ["class 'run' has 1 window", "at least 2"]),
    "no-window": (HEADER + _rows(9), ["no window of 10 rows"]),
}


def _cli_error(capsys, *args) -> str:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgeleak: error: ") and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_gives_one_line_through_the_cli(tmp_path, capsys, case):
    text, expected = BAD_CSV[case]  # too-few-windows: 40 rows of walk give 4 windows, 10 rows of run 1
    path = _csv(tmp_path, text)
    line = _cli_error(capsys, "quantize", "--dataset", str(path), "--window", "10", "--stride", "10",
                      "--model", "mlp", "--out", str(tmp_path / "m"))
    for part in expected:
        assert part in line, line
    assert not (tmp_path / "m").exists()


def test_unknown_channel_and_options_that_do_not_apply(tmp_path, capsys):
    write_recording(tmp_path / "rec.csv")
    line = _cli_error(capsys, "quantize", "--dataset", str(tmp_path / "rec.csv"), "--channels", "acc_x,gyro_q",
                      "--out", str(tmp_path / "m"))
    assert "no channel 'gyro_q'" in line and "acc_x, acc_y, acc_z" in line
    line = _cli_error(capsys, "quantize", "--dataset", "basic_motions", "--window", "50", "--out", str(tmp_path / "m"))
    assert "--window applies to a CSV data set" in line
    line = _cli_error(capsys, "quantize", "--dataset", str(tmp_path / "rec.txt"), "--out", str(tmp_path / "m"))
    assert "must end in .npz or .csv" in line
    line = _cli_error(capsys, "quantize", "--dataset", str(tmp_path / "gone.csv"), "--out", str(tmp_path / "m"))
    assert "does not exist" in line


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


GOOD = {"windows": np.random.default_rng(0).normal(size=(8, 5, 2)).astype(np.float32),
        "labels": np.array([0, 1] * 4)}
BAD_NPZ = {
    "no-labels": ({"windows": GOOD["windows"]}, "lacks the array 'labels'"),
    "flat-windows": ({**GOOD, "windows": np.zeros((8, 10), np.float32)}, "shape (n, steps, channels)"),
    "object-labels": ({**GOOD, "labels": np.array(["a", 1, "b", 2, "a", 1, "b", 2], dtype=object)}, "pickled"),
    "nan": ({**GOOD, "windows": np.where(np.arange(80).reshape(8, 5, 2) == 33, np.nan, GOOD["windows"])},
            "windows[3, 1, 1] is nan"),
    "one-class": ({**GOOD, "labels": np.zeros(8, np.int64)}, "single class"),
    "label-count": ({**GOOD, "labels": np.zeros(7, np.int64)}, "one per window (8,)"),
    "typo": ({**GOOD, "label": GOOD["labels"]}, "unknown arrays label"),
    "bad-split": ({**GOOD, "split": np.array(["train"] * 8)}, "0 in test"),
}


@pytest.mark.parametrize("case", sorted(BAD_NPZ))
def test_bad_npz_gives_one_line_through_the_cli(tmp_path, capsys, case):
    arrays, expected = BAD_NPZ[case]
    path = tmp_path / "w.npz"
    path.write_bytes(_npz_bytes(**arrays))
    line = _cli_error(capsys, "quantize", "--dataset", str(path), "--model", "mlp", "--out", str(tmp_path / "m"))
    assert expected in line, line


def test_load_dataset_takes_a_path_with_default_windowing(tmp_path):
    write_recording(tmp_path / "rec.csv", rows_per_segment=250)
    assert load_dataset(str(tmp_path / "rec.csv")).input_shape == (100, 3)
    with pytest.raises(EdgeleakError, match="unknown data set 'nope'"):
        load_dataset("nope")


def test_listings_come_from_the_registries(capsys):
    from edgeleak.attacks import registry  # noqa: F401
    from edgeleak.attacks.base import ATTACKS
    from edgeleak.models.zoo import MODELS

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name, loader in DATASETS.items():
        assert f"{name} " in out and loader.__doc__.split()[0] in out
    assert "docs/data-format.md" in out
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(f"{name} " in out and spec.description in out for name, spec in MODELS.items())
    assert main(["attacks"]) == 0
    out = capsys.readouterr().out
    assert all(out.count(f"{name} ") >= 1 for name in ATTACKS) and len(out.splitlines()) == len(ATTACKS) + 1


@pytest.mark.parametrize("command,registry", [("quantize", "datasets"), ("train", "datasets"), ("attack", "attacks")])
def test_help_names_the_registry_entries(capsys, command, registry):
    from edgeleak.attacks import registry as _  # noqa: F401
    from edgeleak.attacks.base import ATTACKS

    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    names = DATASETS if registry == "datasets" else ATTACKS
    assert all(name in text for name in names), text


def test_study_config_names_a_file_relative_to_itself(tmp_path):
    from edgeleak.core.model import DatasetSource
    from edgeleak.study.config import load_study_config

    (tmp_path / "data").mkdir()
    write_recording(tmp_path / "data" / "rec.csv")
    config = tmp_path / "study.yaml"
    config.write_text("dataset: data/rec.csv\n")
    study = load_study_config(config, "quick")
    assert isinstance(study.dataset, DatasetSource) and study.dataset.path == str(tmp_path / "data" / "rec.csv")
    config.write_text("dataset: {path: data/rec.csv, window: 20, stride: 10, channels: [acc_x, acc_z]}\n")
    study = load_study_config(config, "quick")
    assert (study.dataset.window, study.dataset.stride, study.dataset.channels) == (20, 10, ("acc_x", "acc_z"))
    assert load_dataset(study.dataset).input_shape == (20, 2)
    config.write_text("dataset: {path: data/rec.csv, windows: 20}\n")
    with pytest.raises(EdgeleakError, match="dataset has unknown keys windows"):
        load_study_config(config, "quick")
    config.write_text("dataset: digits\n")
    assert load_study_config(config, "quick").dataset == "digits"
