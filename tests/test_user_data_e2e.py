"""A user's own data from file to leakage score, as a user runs it: quantize on a CSV recording (emulated board) or
an NPZ of windows (host board), federated training with the devices split by subject, and the analytic attack
recovering every window exactly at batch 1 and one step."""

import json
import subprocess
import sys

import numpy as np
import pytest
from data_files import write_recording, write_windows

from edgeleak.capture.store import load_capture
from edgeleak.data import load_dataset
from edgeleak.device.model_dir import load_model_dir


def _cli(*args, timeout=900):
    proc = subprocess.run([sys.executable, "-m", "edgeleak.cli", *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc


def _leak(tmp_path, data_file, board, window_options=()):
    model = tmp_path / "model"
    _cli("quantize", "--dataset", str(data_file), *window_options, "--model", "mlp", "--epochs", "5", "--board", board,
         "--out", str(model))
    capture = tmp_path / "capture"
    _cli("train", "--board", board, "--model", str(model), "--devices", "3", "--rounds", "2", "--samples", "1",
         "--batch", "1", "--steps", "1", "--partition", "by-subject", "--out", str(capture))
    attack = _cli("attack", str(capture), "--attack", "analytic", "--out", str(tmp_path / "attack"))
    summary = json.loads((tmp_path / "attack" / "scores.json").read_text())["summary"]
    assert summary["windows"] == 6 and summary["windows_exact"] == 6, summary
    assert "windows r >= 0.9 / exact   6 / 6 of 6" in attack.stdout
    return load_model_dir(model), load_capture(capture)


def _one_subject_per_device(model, capture):
    data = load_dataset(model.dataset)  # the model's own file, found by its path and hash
    inputs = model.quantize(data.x_train)
    for record in capture.truth():
        rows = [int(np.flatnonzero((inputs == x).all(axis=(1, 2)))[0]) for x in record.inputs]
        assert len({int(data.subjects_train[r]) for r in rows}) == 1, record.device


@pytest.mark.qemu
def test_csv_recording_to_exact_reconstruction_on_the_emulated_board(tmp_path):
    write_recording(tmp_path / "rec.csv")
    model, capture = _leak(tmp_path, tmp_path / "rec.csv", "mps2-an386", ("--window", "20", "--stride", "10"))
    source = model.dataset
    assert (source.format, source.name, source.window, source.stride) == ("csv", "rec.csv", 20, 10)
    assert capture.session["board"] == "mps2-an386" and capture.session["dataset"] == "rec.csv"
    assert capture.session["dataset_source"] == source.to_json()  # the attack reloads these windows, by path and hash
    _one_subject_per_device(model, capture)


def test_npz_windows_to_exact_reconstruction_on_the_host_board(tmp_path):
    arrays = write_windows(tmp_path / "w.npz", n_per_class=6)
    arrays["subjects"] = np.repeat(np.array(["a", "b", "c"]), 6)
    np.savez(tmp_path / "w.npz", **arrays)
    model, capture = _leak(tmp_path, tmp_path / "w.npz", "host")
    assert model.dataset.format == "npz" and model.meta.normalisation is not None
    assert capture.session["dataset_source"] == model.dataset.to_json()
    _one_subject_per_device(model, capture)
