from pathlib import Path
import copy
import subprocess
import sys

import pytest
import yaml

from edgeleak.boards.config import load_boards, parse_boards
from edgeleak.errors import EdgeleakError

REPO = Path(__file__).resolve().parents[1]



@pytest.fixture
def document():
    return yaml.safe_load((REPO / "boards.yaml").read_text())


def test_shipped_boards_file_is_valid_and_covers_the_design():
    boards = load_boards(REPO / "boards.yaml")
    assert boards.default == "mps2-an386"
    assert {"host", "mps2-an386", "mps2-an385", "nano33ble", "pico", "esp32s3", "nucleo-f446re"} <= set(boards.boards)
    an386 = boards.get("mps2-an386")
    nano = boards.get("nano33ble")
    # The emulated default stands in for the Nano 33 BLE Sense as a sketch has it: 960 KB of flash, and of the 256 KB
    # of RAM what mbed OS leaves (about 217 KB) plus the emulated image's own 16 KB stack (docs/boards.md).
    assert (nano.ram_bytes, nano.flash_bytes) == (256 * 1024, 960 * 1024)
    assert (an386.ram_bytes, an386.flash_bytes) == ((217 + 16) * 1024, 960 * 1024)
    import re

    ini = (REPO / "firmware" / "platformio.ini").read_text()
    assert re.search(r"\[env:mps2-an386\][^\[]*--defsym=EL_RAM_LENGTH=233K", ini)  # the linker enforces the same
    assert an386.qemu_machine == "mps2-an386" and an386.fpu and not boards.get("mps2-an385").fpu
    assert (0x2341, 0x805A) in nano.usb_ids
    # the real boards need the PlatformIO registry, except the bare-metal NUCLEO-F429ZI (the Debian toolchain)
    assert all(b.offline == (b.kind != "serial" or b.name == "nucleo-f429zi") for b in boards.boards.values())


def test_platformio_envs_exist_for_every_board():
    import configparser

    ini = configparser.ConfigParser(interpolation=None)
    ini.read(REPO / "firmware" / "platformio.ini")
    envs = {s.split(":", 1)[1] for s in ini.sections() if s.startswith("env:")}
    boards = load_boards(REPO / "boards.yaml")
    assert {b.pio_env for b in boards.boards.values()} <= envs


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: d["boards"]["host"].pop("ram_kb"), "'ram_kb' is a required property"),
    (lambda d: d["boards"]["host"].update(kind="fpga"), "boards/host/kind"),
    (lambda d: d["boards"]["nano33ble"].update(usb=["2341-805A"]), "boards/nano33ble/usb/0"),
    (lambda d: d["boards"]["mps2-an386"].pop("qemu"), "'qemu' is a required property"),
    (lambda d: d["boards"]["host"].update(ram_kb="256"), "is not of type 'integer'"),
    (lambda d: d.update(default_board="nowhere"), "default_board 'nowhere'"),
    (lambda d: d["boards"]["host"].update(colour="red"), "Additional properties"),
])
def test_invalid_documents_give_one_line_errors(document, mutate, needle):
    broken = copy.deepcopy(document)
    mutate(broken)
    with pytest.raises(EdgeleakError) as info:
        parse_boards(broken, REPO / "boards.yaml")
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_cli_reports_a_malformed_boards_file_without_traceback(tmp_path):
    bad = tmp_path / "boards.yaml"
    bad.write_text("boards: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "edgeleak.cli", "--boards", str(bad), "boards"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("edgeleak: error: boards.yaml is not valid YAML at line")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_board_may_give_its_privacy_floor(document):
    from edgeleak.privacy.floor import Floor

    floored = copy.deepcopy(document)
    floored["boards"]["host"]["floor"] = {"epsilon": 8.0, "delta": 1.0e-6}
    floored["boards"]["mps2-an386"]["floor"] = {"epsilon": 2}
    boards = parse_boards(floored, REPO / "boards.yaml")
    assert boards.get("host").floor == Floor(8.0, 1e-6)
    assert boards.get("mps2-an386").floor == Floor(2.0, 1e-5)  # delta defaults to 1e-5
    assert boards.get("nano33ble").floor is None
    assert all(b.floor is None for b in load_boards(REPO / "boards.yaml").boards.values())  # the shipped boards have none


@pytest.mark.parametrize("floor,needle", [
    ({"epsilon": -1.0}, "boards/host/floor/epsilon"),
    ({"epsilon": 0}, "boards/host/floor/epsilon"),
    ({"delta": 1.0e-5}, "'epsilon' is a required property"),
    ({"epsilon": 8.0, "delta": 0.01}, "boards/host/floor/delta"),
    ({"epsilon": 8.0, "delta": 0}, "boards/host/floor/delta"),
    ({"epsilon": 8.0, "sigma": 1.0}, "Additional properties"),
    ({"epsilon": float("nan")}, "epsilon must be a finite number, got nan"),
    ({"epsilon": float("inf")}, "epsilon must be a finite number, got inf"),
    ({"epsilon": 8.0, "delta": "1e-5"}, "YAML reads 1e-5 as text"),
    ("8", "boards/host/floor"),
])
def test_a_floor_the_firmware_cannot_enforce_is_refused_in_boards_yaml(document, floor, needle):
    broken = copy.deepcopy(document)
    broken["boards"]["host"]["floor"] = floor
    with pytest.raises(EdgeleakError) as info:
        parse_boards(broken, REPO / "boards.yaml")
    message = str(info.value)
    assert needle in message and "\n" not in message and message.startswith("boards.yaml")


def test_a_floor_written_in_yaml_is_read_as_numbers(tmp_path):
    text = (REPO / "boards.yaml").read_text().replace(
        "    pio_env: host\n", "    pio_env: host\n    floor: {epsilon: 4, delta: 1.0e-6}\n", 1)
    path = tmp_path / "boards.yaml"
    path.write_text(text)
    assert load_boards(path).get("host").floor.to_build_flags() == ("-DEL_FLOOR_EPSILON=4.0", "-DEL_FLOOR_DELTA=1e-06")
    path.write_text(text.replace("epsilon: 4", "epsilon: .nan"))
    with pytest.raises(EdgeleakError, match="finite number, got nan"):
        load_boards(path)
