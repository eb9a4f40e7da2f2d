"""The corrupted-artifact fuzz under AddressSanitizer + UndefinedBehaviorSanitizer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ENGINE_DIR, SHIM, engine_sources

HERE = Path(__file__).resolve().parent


def test_corrupted_artifacts_are_clean_under_sanitizers(tmp_path):
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("gcc not installed")
    libs = [subprocess.run([cc, f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
            for name in ("libasan.so", "libubsan.so")]
    if not all(os.path.isabs(p) and os.path.exists(p) for p in libs):
        pytest.skip("gcc sanitizer runtimes not installed")
    lib = tmp_path / "libelengine_san.so"
    build = [cc, "-std=c99", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
             "-fno-omit-frame-pointer", "-fPIC", "-shared", f"-I{ENGINE_DIR}", "-o", str(lib),
             *map(str, engine_sources()), str(SHIM), "-lm"]
    result = subprocess.run(build, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    env = dict(os.environ, LD_PRELOAD=":".join(libs), ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    run = subprocess.run([sys.executable, str(HERE / "sanitized_fuzz.py"), str(lib), "2000", "5"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0 and "fuzz ok" in run.stdout, run.stdout[-2000:] + run.stderr[-4000:]
