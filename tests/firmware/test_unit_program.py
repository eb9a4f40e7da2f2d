"""The firmware unit-test program (firmware/test/) passes on the host build and under QEMU."""

from __future__ import annotations

import subprocess

import pytest

from conftest import QEMU_ENVS, needs_qemu
from edgeleak.firmware.build import build_firmware_tests


def test_unit_program_on_host(fw_tmp):
    program = build_firmware_tests(pio_env="host", build_dir=fw_tmp / "unit")
    out = subprocess.run([str(program)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "EL-TEST PASS n=" in out.stdout
    assert "EL-TEST FAIL" not in out.stdout


@needs_qemu
@pytest.mark.qemu
@pytest.mark.parametrize("env", QEMU_ENVS)
def test_unit_program_under_qemu(fw_tmp, env):
    elf = build_firmware_tests(pio_env=env, build_dir=fw_tmp / "unit")
    out = subprocess.run(
        ["qemu-system-arm", "-M", env, "-nographic", "-monitor", "none", "-semihosting-config",
         "enable=on,target=native", "-serial", "stdio", "-kernel", str(elf)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "EL-TEST PASS n=" in out.stdout
