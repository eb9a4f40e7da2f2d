"""Build the firmware for one board with PlatformIO, offline.

    result = build_firmware(pio_env="mps2-an386", model_c=Path("out/model.c"), build_dir=Path("out/fw"))

The program lands in ``build_dir/<pio_env>/`` (``firmware.elf`` on QEMU boards, ``program`` on
the host board), so several models and boards build side by side in different build dirs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from edgeleak.boards.target import Target
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.pio_offline import FIRMWARE_DIR, provision
from edgeleak.privacy.floor import check_build_flags

OFFLINE_ENVS = ("host", "mps2-an386", "mps2-an385", "qemu-mps2", "qemu-stm32f4", "nucleo-f429zi")
"""Envs that build without the PlatformIO registry. The others (nano33ble, pico, esp32s3,
nucleo-f446re) need it and stall ~60 s offline, so build_firmware refuses them unless asked.
``qemu-mps2`` and ``qemu-stm32f4`` build any QEMU board of their port family from its boards.yaml
entry (``target``: edgeleak.boards.target)."""

GENERIC_ENVS = ("qemu-mps2", "qemu-stm32f4")
"""Envs that need a target (``EDGELEAK_TARGET``) to build."""

PROGRAM_NAMES = {"host": "program"}
"""Program file name per env; QEMU envs produce ``firmware.elf``."""

SIZE_TOOLS = {"host": "size"}
"""``size`` binary per env; every other env is an arm-none-eabi target."""

_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
PIO_QUIET_ENV = {
    "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true",  # the periodic check updates core packages from the registry
    "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "no",
    "PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL": "3650",
    "PLATFORMIO_NO_ANSI": "true",
}


@dataclass(frozen=True)
class BuildResult:
    """One built image. flash = text + data; static RAM = data + bss (on QEMU boards this includes
    the model arena, the link buffers and the reserved stack)."""

    pio_env: str
    program: Path
    flash_bytes: int
    static_ram_bytes: int
    seconds: float


def _program_path(pio_env: str, build_dir: Path) -> Path:
    return build_dir / pio_env / PROGRAM_NAMES.get(pio_env, "firmware.elf")


def _size_tool(pio_env: str) -> str:
    return SIZE_TOOLS.get(pio_env, "arm-none-eabi-size")


def measure(program: Path, pio_env: str) -> tuple[int, int]:
    """(flash bytes, static RAM bytes) of a built program from ``size`` (Berkeley format)."""
    tool = shutil.which(_size_tool(pio_env))
    if tool is None:
        raise EdgeleakError("%s not found: install binutils for %s" % (_size_tool(pio_env), pio_env))
    out = subprocess.run([tool, "-B", "-d", str(program)], capture_output=True, text=True, check=False)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or len(lines) < 2:
        raise EdgeleakError("cannot read the size of %s: %s" % (program, out.stderr.strip()))
    text, data, bss = (int(v) for v in lines[1].split()[:3])
    return text + data, data + bss


def _failure_message(pio_env: str, log: str, budget_kb: dict[str, int] | None = None) -> str:
    """One line from a failed build's log; ``budget_kb`` (region -> KB) names the board's own limits."""
    m = _OVERFLOW.search(log)
    if m:
        region, by = m.group(1), int(m.group(2))
        what = "RAM" if region == "RAM" else "flash"
        limit = (budget_kb or {}).get(region)
        return "the model does not fit %s's %s%s: %s overflowed by %d bytes" % (
            pio_env, what, " (%d KB)" % limit if limit else "", region, by)
    for line in log.splitlines():
        if "edgeleak:" in line:
            return line.strip()
    for line in log.splitlines():
        if re.search(r"\berror\b|Error:|Exception", line):
            return "firmware build for %s failed: %s" % (pio_env, line.strip())
    return "firmware build for %s failed (pio run exited non-zero)" % pio_env


def pio_command(*args: str) -> list[str]:
    """The PlatformIO CLI of this Python environment, run on the firmware project."""
    return [sys.executable, "-m", "platformio", *args]


def pio_environ(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PIO_QUIET_ENV)
    env.update(extra)
    return env


def build_environ(*, build_dir: Path, model_c: Path, extra_flags: tuple[str, ...] = (),
                  target: Target | None = None) -> dict[str, str]:
    """The environment of a ``pio run`` with the model and the extra compiler flags (``PLATFORMIO_BUILD_FLAGS``).

    The flags are checked first: a privacy floor that cannot be enforced, or the retired floor flags, are
    refused with one line (``edgeleak.privacy.floor.check_build_flags``)."""
    for flag in extra_flags:
        if not flag.startswith("-") or any(c.isspace() for c in flag):
            raise ValueError("extra_flags must be single compiler flags like -DNAME=VALUE, got %r" % flag)
    check_build_flags(extra_flags)
    env = pio_environ(PLATFORMIO_BUILD_DIR=str(build_dir), EDGELEAK_MODEL_C=str(model_c),
                      **(target.environ() if target else {}))
    if target is None:
        env.pop("EDGELEAK_TARGET", None)
    env.pop("PLATFORMIO_BUILD_FLAGS", None)
    if extra_flags:
        env["PLATFORMIO_BUILD_FLAGS"] = " ".join(extra_flags)
    return env


def build_firmware(*, pio_env: str, model_c: Path, build_dir: Path, jobs: int = 1,
                   allow_registry: bool = False, timeout: float = 600.0,
                   extra_flags: tuple[str, ...] = (), budget_kb: dict[str, int] | None = None,
                   target: Target | None = None) -> BuildResult:
    """Build ``pio_env`` with the generated model C file; raise EdgeleakError with one line on failure.

    ``extra_flags`` are compiler flags added to the env's (``PLATFORMIO_BUILD_FLAGS``), e.g. the privacy
    floor ``Floor(8.0, 1e-5).to_build_flags()`` (``-DEL_FLOOR_EPSILON=8.0 -DEL_FLOOR_DELTA=1e-05``) or
    ``("-DEL_TESTING_BUILD=1",)``. Give every flag set its own ``build_dir`` to keep the images side by side.
    ``target`` (required by the generic envs ``GENERIC_ENVS``) is the board's CPU flags and memory map; give every
    target its own ``build_dir``."""
    if pio_env not in OFFLINE_ENVS and not allow_registry:
        raise EdgeleakError("%s needs the PlatformIO registry; build it with `pio run -e %s` online"
                            % (pio_env, pio_env))
    if (pio_env in GENERIC_ENVS) != (target is not None):
        raise ValueError("the generic envs %s need a target, the others take none (env %s)"
                         % (", ".join(GENERIC_ENVS), pio_env))
    model_c = Path(model_c).resolve()
    if not model_c.is_file():
        raise EdgeleakError("model C file not found: %s" % model_c)
    build_dir = Path(build_dir).resolve()
    env = build_environ(build_dir=build_dir, model_c=model_c, extra_flags=extra_flags, target=target)
    build_dir.mkdir(parents=True, exist_ok=True)
    provision()
    cmd = pio_command("run", "-d", str(FIRMWARE_DIR), "-e", pio_env, "-j", str(jobs))
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EdgeleakError("firmware build for %s timed out after %.0f s" % (pio_env, timeout)) from exc
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise EdgeleakError(_failure_message(target.board if target else pio_env, proc.stdout + "\n" + proc.stderr,
                                             budget_kb))
    program = _program_path(pio_env, build_dir)
    if not program.is_file():
        raise EdgeleakError("firmware build for %s produced no %s" % (pio_env, program))
    flash, ram = measure(program, pio_env)
    return BuildResult(pio_env=pio_env, program=program, flash_bytes=flash, static_ram_bytes=ram, seconds=seconds)


def build_firmware_tests(*, pio_env: str, build_dir: Path, jobs: int = 1, timeout: float = 600.0) -> Path:
    """Build the firmware unit-test program (firmware/test/) for ``pio_env``; return its path.

    Same as ``pio test -e ENV --without-testing``; run the program (host) or boot it under QEMU and
    look for ``EL-TEST PASS``.
    """
    if pio_env not in OFFLINE_ENVS:
        raise EdgeleakError("%s needs the PlatformIO registry" % pio_env)
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    provision()
    cmd = pio_command("test", "-d", str(FIRMWARE_DIR), "-e", pio_env, "--without-testing",
                      "--without-uploading")
    env = pio_environ(PLATFORMIO_BUILD_DIR=str(build_dir))
    env.pop("EDGELEAK_MODEL_C", None)
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EdgeleakError("test build for %s timed out" % pio_env) from exc
    program = _program_path(pio_env, build_dir)
    if proc.returncode != 0 or not program.is_file():
        raise EdgeleakError(_failure_message(pio_env, proc.stdout + "\n" + proc.stderr))
    return program
