"""Several boards on separate ports: one federated session over them, each checked to run the model; infer and
verify on each; and a line for every port mistake."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.capture.store import load_capture
from edgeleak.device.build import build_for_model
from edgeleak.device.fleet import fleet_ports
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.runners import host_board, qemu_board

from cli_run import cli, one_line_error


@pytest.mark.qemu
def test_a_session_trains_one_device_per_port(zoo_models, tmp_path):
    """Two emulated boards started apart from the session (as real boards on a hub are): one device per --port."""
    board = load_boards().get("mps2-an386")
    program = build_for_model(board, zoo_models["mlp"])[0].program
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(qemu_board(program, machine="mps2-an386")) for _ in range(2)]
        out = tmp_path / "cap"
        proc = cli("train", "--board", "mps2-an386", "--model", str(zoo_models["mlp"]), "--port", urls[0],
                    "--port", urls[1], "--rounds", "2", "--batch", "1", "--samples", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "4 updates from 2 devices over 2 rounds" in proc.stdout
    capture = load_capture(out)
    assert capture.session["ports"] == urls and capture.session["devices"] == 2
    assert sorted((u.round, u.device) for u in capture.updates) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert {u.board for u in capture.updates} == {"mps2-an386"}


def test_every_port_is_checked_to_run_the_model(zoo_models, tmp_path):
    board = load_boards().get("host")
    right = build_for_model(board, zoo_models["mlp"])[0].program
    wrong = build_for_model(board, zoo_models["imu_cnn"])[0].program
    with host_board(right) as good, host_board(wrong) as bad:
        proc = cli("train", "--board", "host", "--model", str(zoo_models["mlp"]), "--port", good, "--port", bad,
                    "--rounds", "1", "--out", str(tmp_path / "cap"))
    one_line_error(proc, regex=True, needle=r"host runs model [0-9a-f]{16}, not [0-9a-f]{16}; build and flash it with this model first")
    assert not (tmp_path / "cap" / "updates.bin").exists() or not load_capture(tmp_path / "cap").updates


def test_infer_and_verify_run_on_each_board(zoo_models, basic_motions, tmp_path):
    board = load_boards().get("host")
    program = build_for_model(board, zoo_models["mlp"])[0].program
    np.save(tmp_path / "x.npy", basic_motions.x_test[:5])
    with host_board(program) as first, host_board(program) as second:
        infer = cli("infer", "--board", "host", "--model", str(zoo_models["mlp"]), "--input", str(tmp_path / "x.npy"),
                     "--output", str(tmp_path / "y.npy"), "--port", first, "--port", second)
        verify = cli("verify", "--board", "host", "--model", str(zoo_models["mlp"]), "--count", "40",
                      "--port", first, "--port", second)
    assert infer.returncode == 0, infer.stderr
    assert infer.stdout.count("5 inferences on host on ") == 2
    assert np.load(tmp_path / "y.npy").shape == (5, 4)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.count("vs TFLite Micro  identical") == 2
    assert f"on host on {first}:" in verify.stdout and f"on host on {second}:" in verify.stdout


def test_port_mistakes_are_one_line(zoo_models, tmp_path):
    model = str(zoo_models["mlp"])
    twice = cli("train", "--board", "host", "--model", model, "--port", "/dev/pts/97", "--port", "/dev/pts/97",
                 "--out", str(tmp_path / "a"))
    one_line_error(twice, "--port /dev/pts/97 is given more than once; one board per port")
    disagree = cli("train", "--board", "host", "--model", model, "--port", "/dev/pts/97", "--devices", "3",
                    "--out", str(tmp_path / "b"))
    one_line_error(disagree, "--devices 3 but 1 --port given; give one --port per device")
    missing = cli("verify", "--board", "host", "--model", model, "--port", "/dev/pts/no-such-port")
    one_line_error(missing, "no-such-port")
    none_connected = cli("train", "--board", "nano33ble", "--model", model, "--out", str(tmp_path / "c"))
    one_line_error(none_connected, regex=True, needle=r"no nano33ble found on USB \(looked for 2341:805A, 2341:005A\); connect it or pass --port")


def test_fleet_ports_without_ports_start_emulated_boards_here():
    boards = load_boards()
    assert fleet_ports(boards.get("host"), None, None) == [None] * 4
    assert fleet_ports(boards.get("mps2-an386"), None, 2) == [None, None]
    with pytest.raises(EdgeleakError, match="--devices must be at least 1"):
        fleet_ports(boards.get("host"), None, 0)
