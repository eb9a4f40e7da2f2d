"""The attack commands as a user runs them: a malicious server's capture (train --craft imprint) read out by the
imprint attack, property inference on a capture, and their one-line errors."""

import json
import subprocess
import sys


def _cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "edgeleak.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_crafted_weights_capture_is_read_out_and_wearers_are_inferred(zoo_models, tmp_path):
    capture = tmp_path / "cap"
    trained = _cli("train", "--board", "host", "--model", str(zoo_models["mlp"]), "--devices", "2", "--rounds", "2",
                   "--samples", "8", "--batch", "8", "--partition", "by-class", "--craft", "imprint",
                   "--out", str(capture))
    assert trained.returncode == 0, trained.stderr
    session = json.loads((capture / "session.json").read_text())
    assert session["crafted"] == "imprint"
    out = tmp_path / "imprint"
    read = _cli("attack", str(capture), "--attack", "imprint", "--out", str(out))
    assert read.returncode == 0, read.stderr
    scores = json.loads((out / "scores.json").read_text())["summary"]
    assert scores["windows"] == 32 and scores["windows_exact"] >= 8, scores  # about (15/16)^7 = 64% alone in a bin
    assert "windows r >= 0.9 / exact" in read.stdout
    honest = _cli("attack", str(capture), "--attack", "analytic", "--out", str(tmp_path / "a"))
    assert honest.returncode != 0 and "Traceback" not in honest.stderr
    wearers = _cli("wearers", str(capture), "--json", str(tmp_path / "w.json"))
    assert wearers.returncode == 0, wearers.stderr
    assert "activity_mix: accuracy" in wearers.stdout and "identity: accuracy" in wearers.stdout
    assert [r["property"] for r in json.loads((tmp_path / "w.json").read_text())] == ["activity_mix", "identity"]


def test_train_refuses_an_unknown_crafting(zoo_models, tmp_path):
    proc = _cli("train", "--board", "host", "--model", str(zoo_models["mlp"]), "--craft", "trap", "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "invalid choice: 'trap'" in proc.stderr
