"""Build plumbing: offline provisioning, the project configuration, size limits, errors."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import needs_qemu
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.build import GENERIC_ENVS, OFFLINE_ENVS, build_firmware, pio_command, pio_environ
from edgeleak.firmware.pio_offline import FIRMWARE_DIR, core_dir, provision
from tiny_model import artifact_c_source, tiny_artifact

ROOT = Path(__file__).resolve().parents[2]

REGISTRY_ENVS = {  # env: (platform, board) of the PlatformIO board catalogue
    "nano33ble": ("nordicnrf52@10.11.0", "nano33ble"),
    "nano33ble_rev1": ("nordicnrf52@10.11.0", "nano33ble"),
    "pico": ("https://github.com/maxgerhardt/platform-raspberrypi.git#2d445020acf8b792768a5fa5ba1870ac9607c11c",
             "rpipico"),  # the arduino-pico core, at a fixed commit
    "esp32s3": ("espressif32@6.13.0", "esp32-s3-devkitc-1"),
    "nucleo-f446re": ("ststm32@19.6.0", "nucleo_f446re"),
}


@pytest.fixture(scope="module")
def project_config() -> dict:
    provision()
    out = subprocess.run(pio_command("project", "config", "-d", str(FIRMWARE_DIR), "--json-output"),
                         capture_output=True, text=True, check=True, env=pio_environ(), timeout=60)
    return {name: dict(opts) for name, opts in json.loads(out.stdout)}


def test_provision_is_idempotent_and_offline_ready():
    root = provision()
    start = time.monotonic()
    assert provision() == root
    assert time.monotonic() - start < 1.0
    meta = json.loads((root / "packages" / "tool-scons" / ".piopm").read_text())
    assert meta["spec"]["owner"] == "platformio" and meta["name"] == "tool-scons"
    assert (root / "packages" / "tool-scons" / "scons.py").is_file()
    assert json.loads((root / "system-toolchain" / "package.json").read_text())["name"] == "toolchain-gccarmnoneeabi"
    assert root == core_dir() and root.parent == FIRMWARE_DIR


def test_every_board_has_an_env(project_config):
    from edgeleak.boards import load_boards

    for name, board in load_boards(ROOT / "boards.yaml").boards.items():
        section = project_config.get("env:" + board.pio_env)
        assert section is not None, name
        assert (board.pio_env in OFFLINE_ENVS) == board.offline, name
        assert (board.target is not None) == (board.pio_env in GENERIC_ENVS), name


def test_registry_envs_are_configured(project_config):
    for env, (platform, board) in REGISTRY_ENVS.items():
        section = project_config["env:" + env]
        assert (section["platform"], section["board"], section["framework"]) == (platform, board, ["arduino"])
        assert "+<ports/arduino/>" in " ".join(section["build_src_filter"])
    for env in OFFLINE_ENVS:
        assert project_config["env:" + env]["platform"].startswith("symlink://")


def test_registry_env_is_refused(tiny_model_c, fw_tmp):
    with pytest.raises(EdgeleakError, match="registry"):
        build_firmware(pio_env="nano33ble", model_c=tiny_model_c, build_dir=fw_tmp / "x")


def test_missing_model_is_one_line_error(fw_tmp):
    with pytest.raises(EdgeleakError, match="not found"):
        build_firmware(pio_env="host", model_c=fw_tmp / "nope.c", build_dir=fw_tmp / "x")


def test_build_result(built):
    r = built("host")
    assert r.program.is_file() and r.flash_bytes > 0 and r.static_ram_bytes > 0 and r.seconds > 0


@needs_qemu
@pytest.mark.parametrize("region,arena,extra", [("RAM", 300 * 1024, b""), ("flash", 64, bytes(1000 * 1024))])
def test_model_too_big_fails_to_link(fw_tmp, region, arena, extra):
    model = fw_tmp / ("big_%s.c" % region)
    model.write_text(artifact_c_source(tiny_artifact() + extra, arena), encoding="utf-8")
    with pytest.raises(EdgeleakError) as err:
        build_firmware(pio_env="mps2-an386", model_c=model, build_dir=fw_tmp / ("big_" + region))
    msg = str(err.value)
    assert "does not fit" in msg and region in msg and "\n" not in msg


@needs_qemu
def test_qemu_image_sizes(built):
    r = built("mps2-an386")
    assert r.flash_bytes < 64 * 1024
    assert r.static_ram_bytes < 64 * 1024  # tiny model: buffers + 16 KB stack
