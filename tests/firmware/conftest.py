"""Fixtures for the firmware tests: a tiny model, built images, running boards."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_model import write_tiny_model_c  # noqa: E402

from edgeleak.firmware.build import build_firmware  # noqa: E402

HAVE_QEMU = shutil.which("qemu-system-arm") is not None and shutil.which("arm-none-eabi-gcc") is not None
needs_qemu = pytest.mark.skipif(not HAVE_QEMU, reason="needs qemu-system-arm and gcc-arm-none-eabi")

QEMU_ENVS = ("mps2-an386", "mps2-an385")


@pytest.fixture(scope="session")
def fw_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("firmware")


@pytest.fixture(scope="session")
def tiny_model_c(fw_tmp) -> Path:
    return write_tiny_model_c(fw_tmp / "tiny_model.c")


@pytest.fixture(scope="session")
def built(fw_tmp, tiny_model_c):
    """build(env) -> BuildResult, each env built once per session with the tiny model."""
    cache = {}

    def build(env: str):
        if env not in cache:
            cache[env] = build_firmware(pio_env=env, model_c=tiny_model_c, build_dir=fw_tmp / "build")
        return cache[env]

    return build
