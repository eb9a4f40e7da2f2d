"""Bring your own boards: a QEMU board that is only an entry of a user's boards file builds, boots and is bit-exact;
machines, kinds and port families that cannot run here are one line on stderr and exit code 2; every command,
``study`` included, reads the ``--boards`` file."""

import copy
from pathlib import Path

import pytest
import yaml

from cli_run import cli, one_line_error

REPO = Path(__file__).resolve().parents[1]


def _boards_file(tmp_path, **entries) -> Path:
    """The shipped boards file with ``entries`` added or replaced, written as a user's own file."""
    document = copy.deepcopy(yaml.safe_load((REPO / "boards.yaml").read_text()))
    document["boards"].update(entries)
    path = tmp_path / "my-boards.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _qemu_entry(machine, port="mps2", cpu="cortex-m7", **extra):
    return {"kind": "qemu", "description": "a user's board", "cpu": cpu, "fpu": True, "ram_kb": 200, "flash_kb": 512,
            "offline": True, "qemu": {"machine": machine, "port": port}, **extra}


@pytest.mark.qemu
def test_a_qemu_board_from_a_user_boards_file_builds_boots_and_is_bit_exact(zoo_models, tmp_path):
    boards = _boards_file(tmp_path, **{"my-m7": _qemu_entry("mps2-an500")})
    listed = cli("--boards", str(boards), "boards")
    assert listed.returncode == 0 and "my-m7" in listed.stdout, listed.stderr
    build = cli("--boards", str(boards), "build", "--board", "my-m7", "--model", str(zoo_models["imu_cnn"]))
    assert build.returncode == 0, build.stderr
    assert "my-m7 budget, linked image:" in build.stdout and "of   204,800 B" in build.stdout  # its own 200 KB
    verify = cli("--boards", str(boards), "verify", "--board", "my-m7", "--model", str(zoo_models["imu_cnn"]),
                  "--count", "40")
    assert verify.returncode == 0, verify.stderr
    assert "on my-m7:" in verify.stdout and "vs TFLite Micro  identical" in verify.stdout


@pytest.mark.qemu
@pytest.mark.parametrize("machine", ["no-such-machine", "olimex-stm32-h405"])  # the second is in QEMU 8, not here
def test_a_machine_qemu_here_does_not_have_is_one_line(zoo_models, tmp_path, machine):
    boards = _boards_file(tmp_path, **{"mine": _qemu_entry(machine, port="stm32f4", cpu="cortex-m4")})
    for command in (("build",), ("verify", "--count", "4")):
        proc = cli("--boards", str(boards), *command, "--board", "mine", "--model", str(zoo_models["imu_cnn"]))
        one_line_error(proc, f"here has no machine {machine!r}")


@pytest.mark.parametrize("entry,needle", [
    ({**_qemu_entry("mps2-an500"), "kind": "renode"}, "boards/mine/kind"),  # a kind edgeleak cannot run
    (_qemu_entry("mps2-an500", port="nrf52"), "boards/mine/qemu/port"),  # a UART the firmware has no port for
    (_qemu_entry("mps2-an500", cpu="cortex-m55"), "boards/mine/cpu"),  # a core without a generic build
    ({**_qemu_entry("mps2-an385", cpu="cortex-m3")}, "cortex-m3 has no FPU"),
    ({k: v for k, v in _qemu_entry("mps2-an500").items() if k != "qemu"} | {"qemu": {"machine": "mps2-an500"}},
     "'port' is a required property"),  # neither a pio_env nor a port family
])
def test_a_board_that_cannot_be_built_here_is_one_line(tmp_path, entry, needle):
    boards = _boards_file(tmp_path, mine=entry)
    one_line_error(cli("--boards", str(boards), "build", "--board", "mine", "--model", str(tmp_path)), needle)
    one_line_error(cli("--boards", str(boards), "boards"), needle)


@pytest.mark.qemu
def test_the_study_runs_on_the_boards_of_the_boards_file(tmp_path):
    # The study's board (mps2-an386) is, in this file, a machine QEMU does not have: the study must stop at once
    # with that line, which it can only do if it reads this file rather than the project's boards.yaml.
    boards = _boards_file(tmp_path, **{"mps2-an386": _qemu_entry("no-such-machine", cpu="cortex-m4")})
    proc = cli("--boards", str(boards), "study", "--quick", "--out", str(tmp_path / "study"), timeout=600)
    one_line_error(proc, "here has no machine 'no-such-machine'")
    assert not (tmp_path / "study" / "settings").exists()
