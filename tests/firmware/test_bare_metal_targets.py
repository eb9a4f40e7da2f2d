"""The bare-metal images built from boards.yaml: the real NUCLEO-F429ZI image (its USART, its RNG, no semihosting,
flash at 0x08000000), the same port's emulated build for netduinoplus2, and the Cortex-M7 FPv5 image of mps2-an500.
Builds only; booting them is tests/test_bit_exact.py and tests/test_device_training.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import needs_qemu
from edgeleak.boards import load_boards
from edgeleak.firmware.build import build_firmware

ROOT = Path(__file__).resolve().parents[2]
BOARDS = load_boards(ROOT / "boards.yaml")


def _build(board_name: str, model_c: Path, fw_tmp: Path):
    board = BOARDS.get(board_name)
    return build_firmware(pio_env=board.pio_env, model_c=model_c, build_dir=fw_tmp / f"bare-{board_name}",
                          target=board.target)


def _symbols(elf: Path) -> dict[str, tuple[int, int]]:
    """name -> (address, size) of the image's sized symbols."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            found[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return found


def _usart(env: str) -> str:
    """The USART an env's build talks on (-D EL_STM32_USART=N in its build flags)."""
    from edgeleak.firmware.build import pio_command, pio_environ
    from edgeleak.firmware.pio_offline import FIRMWARE_DIR

    out = subprocess.run(pio_command("project", "config", "-d", str(FIRMWARE_DIR), "--json-output"),
                         capture_output=True, text=True, check=True, env=pio_environ(), timeout=60).stdout
    flags = " ".join(dict(dict(json.loads(out))["env:" + env])["build_flags"])
    return flags.split("EL_STM32_USART=")[1].split()[0]


def _multilib(result) -> str:
    return next(part for part in (result.program.parent / "firmware.map").read_text().split("/")
                if part.startswith("v7e-m") or part.startswith("v7-m"))


@needs_qemu
def test_the_nucleo_f429zi_image_is_the_board_build(tiny_model_c, fw_tmp):
    board = BOARDS.get("nucleo-f429zi")
    assert board.kind == "serial" and board.offline and board.upload == "stlink" and (0x0483, 0x374B) in board.usb_ids
    result = _build("nucleo-f429zi", tiny_model_c, fw_tmp)
    symbols = _symbols(result.program)
    assert symbols["vectors"][0] == 0x08000000 and symbols["vectors"][1] == 4 * (16 + 82)
    assert _usart("nucleo-f429zi") == "3"  # USART3 (PD8/PD9): the ST-LINK/V2-1's virtual COM port
    assert "rng_word" in symbols and "el_semihost_exit" not in symbols
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(result.program)], capture_output=True, text=True,
                                 check=True).stdout
    assert "bkpt\t0x00ab" not in disassembly  # a semihosting call would HardFault on a board without a debugger
    assert _multilib(result) == "v7e-m+fp"  # Cortex-M4F, hard float
    assert result.flash_bytes < board.flash_bytes and result.static_ram_bytes < board.ram_bytes


@needs_qemu
def test_the_emulated_stm32f4_build_is_the_same_port_on_usart1(tiny_model_c, fw_tmp):
    board = BOARDS.get("netduinoplus2")
    assert board.pio_env == "qemu-stm32f4" and board.target.flash_origin == 0x08000000
    result = _build("netduinoplus2", tiny_model_c, fw_tmp)
    symbols = _symbols(result.program)
    assert _usart("qemu-stm32f4") == "1"  # USART1: QEMU's -serial
    assert "el_semihost_exit" in symbols and "rng_word" not in symbols  # QEMU has no RNG: never touched
    for shared in ("el_stm32_usart_putc", "el_stm32_clock_init", "el_port_ticks"):
        assert shared in symbols  # the same driver code as the board's


@needs_qemu
def test_mps2_an500_builds_for_the_cortex_m7_and_its_double_precision_fpu(tiny_model_c, fw_tmp):
    board = BOARDS.get("mps2-an500")
    assert board.target.machine_flags == ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard")
    result = _build("mps2-an500", tiny_model_c, fw_tmp)
    assert _multilib(result) == "v7e-m+dp"
    assert _symbols(result.program)["vectors"][0] == 0x0


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs gcc-arm-none-eabi")
def test_a_generic_env_refuses_to_build_without_a_board(tiny_model_c, fw_tmp):
    from edgeleak.firmware.build import build_environ, pio_command
    from edgeleak.firmware.pio_offline import FIRMWARE_DIR, provision

    provision()
    env = build_environ(build_dir=fw_tmp / "no-target", model_c=tiny_model_c)
    proc = subprocess.run(pio_command("run", "-d", str(FIRMWARE_DIR), "-e", "qemu-mps2"), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode != 0
    assert "edgeleak: env qemu-mps2 builds a board of boards.yaml" in proc.stdout + proc.stderr
