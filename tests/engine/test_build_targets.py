"""Every engine source compiles warning-free for the Cortex-M targets and as strict C99 on the host."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import ENGINE_DIR, engine_sources

COMMON = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-c"]
TARGETS = {
    "cortex-m4f": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "cortex-m3": ["-mcpu=cortex-m3", "-mthumb"],
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_engine_builds_for_arm(tmp_path, target):
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    for src in engine_sources():
        cmd = [cc, *TARGETS[target], *COMMON, f"-I{ENGINE_DIR}", str(src), "-o", str(tmp_path / (src.stem + ".o"))]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, f"{src.name}: {result.stderr}"


def test_engine_is_strict_c99_on_host(tmp_path):
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("gcc not installed")
    for src in engine_sources():
        cmd = [cc, *COMMON, "-pedantic-errors", "-Wshadow", "-Wstrict-prototypes", f"-I{ENGINE_DIR}", str(src),
               "-o", str(tmp_path / (src.stem + ".o"))]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, f"{src.name}: {result.stderr}"


def test_engine_has_no_allocation_or_io():
    banned = ("malloc", "calloc", "realloc", "free(", "printf", "fopen", "stdio.h", "stdlib.h")
    for src in [*engine_sources(), *ENGINE_DIR.glob("*.h")]:
        text = src.read_text()
        for word in banned:
            assert word not in text, f"{src.name} uses {word}"
