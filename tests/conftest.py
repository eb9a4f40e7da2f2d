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


# -- a suite that cannot pass by skipping ----------------------------------------------------------------------
# Under CI (the CI variable set), a test that skips (a missing compiler, QEMU, sanitizer runtime, clang or reference
# interpreter) fails instead, naming what was missing. Every test that starts QEMU must carry the `qemu` marker, so
# that `pytest -m "not qemu"` is a complete host-only run: a witness placed before qemu-system-arm on PATH records
# which test started it.

_SKIPPED: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _qemu_witness(tmp_path_factory):
    import shutil

    real = shutil.which("qemu-system-arm")
    if real is None:
        yield None
        return
    folder = tmp_path_factory.mktemp("qemu-witness")
    log = folder / "started.log"
    log.touch()
    shim = folder / "qemu-system-arm"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$PYTEST_CURRENT_TEST" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{folder}{os.pathsep}{old_path}"
    os.environ["EDGELEAK_QEMU_WITNESS"] = str(log)
    yield log
    os.environ["PATH"] = old_path


def _started_qemu(nodeid: str) -> bool:
    log = os.environ.get("EDGELEAK_QEMU_WITNESS")
    if not log or not Path(log).exists():
        return False
    return any(line.startswith(nodeid + " ") for line in Path(log).read_text().splitlines())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if os.environ.get("CI"):
            report.outcome = "failed"
            report.longrepr = f"skipped under CI, where every tool must be present: {reason}"
        else:
            _SKIPPED.append(f"{item.nodeid}: {reason}")
    if report.when == "teardown" and "qemu" not in item.keywords and _started_qemu(item.nodeid):
        report.outcome = "failed"
        report.longrepr = "this test started QEMU without the qemu marker (pytest -m 'not qemu' must not start it)"


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"edgeleak: {len(_SKIPPED)} test(s) skipped"
                                + (" (a missing tool; under CI this is a failure)" if _SKIPPED else ""))
