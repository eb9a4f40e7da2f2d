"""The portable firmware core compiles as each real board's Arduino core compiles it (docs/boards.md).

The real-board envs need the PlatformIO registry, so CI never builds them; what breaks there is the core's language
mode and flags: GNU C modes expose newlib declarations that strict C99 hides (a file-local ``finite`` conflicts with
``math.h``'s), the Nano 33 BLE's FPU flags differ from the emulator's, and the Arduino sketch includes our headers from
C++. Each env's C and C++ modes and warning flags are replayed here with the toolchains this machine has: the ARM
GCC for the Cortex-M boards; for the ESP32-S3 (Xtensa, no toolchain here) the host GCC in the core's C mode, which
catches the language-mode class of bug but not Xtensa code generation.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
SRC = FIRMWARE / "src"
CORE_DIRS = ("app", "proto", "engine", "train")  # platformio.ini [common] src_core

WARNINGS = ["-Wall", "-Wextra", "-Wvla", "-Werror"]
DEFINES = ["-DEL_FW_VERSION=\"0.1.0\""]

# env -> (C compiler, C++ compiler, C mode, C++ mode, target flags as the env's build really passes them)
REAL_CORES = {
    "nano33ble": ("arm-none-eabi-gcc", "arm-none-eabi-g++", "gnu11", "gnu++14",
                  ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16", "-funsigned-char"]),
    "nano33ble_rev1": ("arm-none-eabi-gcc", "arm-none-eabi-g++", "gnu11", "gnu++14",
                       ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16", "-funsigned-char"]),
    "pico": ("arm-none-eabi-gcc", "arm-none-eabi-g++", "gnu17", "gnu++17",
             ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"]),
    "nucleo-f446re": ("arm-none-eabi-gcc", "arm-none-eabi-g++", "gnu11", "gnu++17",
                      ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]),
    "esp32s3": ("gcc", "g++", "gnu99", "gnu++2a", ["-funsigned-char"]),
}


def core_sources() -> list[Path]:
    return sorted(p for d in CORE_DIRS for p in (SRC / d).glob("*.c"))


def core_headers() -> list[Path]:
    return sorted(p for d in CORE_DIRS for p in (SRC / d).glob("*.h"))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed")
    return path


def _failures(compiler: list[str], units: dict[str, Path], out: Path) -> list[str]:
    """Compile each unit with ``compiler`` (the command up to the source); the first error line of each failure."""
    failures = []
    for name, unit in units.items():
        result = subprocess.run([*compiler, "-c", str(unit), "-o", str(out / f"{unit.stem}.o")],
                                capture_output=True, text=True)
        if result.returncode:
            failures.append(f"{name}: {(result.stderr.strip().splitlines() or ['failed'])[0]}")
    return failures


@pytest.mark.parametrize("env", sorted(REAL_CORES))
def test_the_portable_core_compiles_in_the_real_core_c_mode(tmp_path, env):
    cc, _, c_mode, _, target = REAL_CORES[env]
    compiler = [_tool(cc), f"-std={c_mode}", "-Os", *target, *WARNINGS, *DEFINES, f"-DEL_BOARD_NAME=\"{env}\"", f"-I{SRC}"]
    failures = _failures(compiler, {str(src.relative_to(SRC)): src for src in core_sources()}, tmp_path)
    assert not failures, f"{env} (-std={c_mode}): " + "; ".join(failures)


@pytest.mark.parametrize("env", sorted(REAL_CORES))
def test_every_core_header_compiles_from_the_sketch_in_cpp(tmp_path, env):
    """The Arduino port is C++ and includes the core's headers: each must compile there on its own."""
    _, cxx, _, cpp_mode, target = REAL_CORES[env]
    units = {}
    for header in core_headers():
        unit = units[str(header.relative_to(SRC))] = tmp_path / f"{header.stem}.cpp"
        unit.write_text(f'#include "{header.relative_to(SRC)}"\nint el_header_check_{header.stem};\n')
    compiler = [_tool(cxx), f"-std={cpp_mode}", "-Os", *target, *WARNINGS, *DEFINES, "-fno-exceptions", "-fno-rtti",
                f"-I{SRC}"]
    failures = _failures(compiler, units, tmp_path)
    assert not failures, f"{env} (-std={cpp_mode}): " + "; ".join(failures)


def test_the_table_matches_the_real_board_envs():
    """Every Arduino env of platformio.ini is checked here, and the Nano 33 BLE envs fix the FPU flags."""
    import configparser

    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.read(FIRMWARE / "platformio.ini")
    arduino_envs = {s.split(":", 1)[1] for s in ini.sections()
                    if s.startswith("env:") and ini.get(s, "extends", fallback="") == "arduino"}
    assert arduino_envs == set(REAL_CORES)
    import re

    def expand(value: str) -> str:  # PlatformIO's ${section.option}
        return re.sub(r"\$\{([\w-]+)\.([\w-]+)\}", lambda m: expand(ini.get(m[1], m[2])), value)

    for env in ("nano33ble", "nano33ble_rev1"):
        flags = expand(ini.get(f"env:{env}", "build_flags")).split()
        assert {"-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16"} <= set(flags), flags
    assert "ARDUINO_USB_CDC_ON_BOOT=1" in expand(ini.get("env:esp32s3", "build_flags"))
