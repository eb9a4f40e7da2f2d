"""Shared fixtures: data sets and quantized zoo models, made once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def basic_motions():
    from edgeleak.data import load_dataset

    return load_dataset("basic_motions")


@pytest.fixture(scope="session")
def zoo_models(tmp_path_factory, basic_motions) -> dict[str, Path]:
    """Both zoo models trained on BasicMotions and exported: name -> model directory."""
    from edgeleak.quantize.pipeline import quantize_zoo_model

    out = {}
    for name in ("imu_cnn", "mlp"):
        directory = tmp_path_factory.mktemp(name)
        quantize_zoo_model(basic_motions, name, directory)
        out[name] = directory
    return out
