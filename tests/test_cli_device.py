"""The build/infer/verify commands as a user runs them, and their one-line errors."""

import os
import pty

import numpy as np
import pytest

from cli_run import cli, one_line_error


def test_infer_on_the_host_board_matches_tflite_micro(zoo_models, basic_motions, tmp_path):
    from edgeleak.reference.interpreters import TflmReference

    x = basic_motions.x_test[:12]
    np.save(tmp_path / "x.npy", x)
    proc = cli("infer", "--board", "host", "--model", str(zoo_models["imu_cnn"]), "--input", str(tmp_path / "x.npy"),
                "--output", str(tmp_path / "y.npy"))
    assert proc.returncode == 0, proc.stderr
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (12, 4) and y.dtype == np.int8
    ref = TflmReference((zoo_models["imu_cnn"] / "model.tflite").read_bytes())
    expected = np.stack([ref.run(q) for q in ref.quantize_input(x)])
    np.testing.assert_array_equal(y, expected)


@pytest.mark.qemu  # an emulated board's machine is checked against qemu-system-arm -M help before it is built
def test_build_reports_the_linked_image_against_the_budget(zoo_models):
    proc = cli("build", "--board", "mps2-an386", "--model", str(zoo_models["imu_cnn"]))
    assert proc.returncode == 0, proc.stderr
    assert "mps2-an386 budget, linked image:" in proc.stdout
    flash = int(proc.stdout.split("flash")[1].split("B")[0].replace(",", ""))
    assert len((zoo_models["imu_cnn"] / "model.elm").read_bytes()) < flash < 960 * 1024


def test_infer_rejects_inputs_of_the_wrong_shape(zoo_models, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 50, 6), np.float32))
    proc = cli("infer", "--board", "host", "--model", str(zoo_models["imu_cnn"]), "--input", str(tmp_path / "x.npy"),
                "--output", str(tmp_path / "y.npy"))
    one_line_error(proc, "the model expects windows of shape (n, 100, 6) or one window (100, 6)")
    assert not (tmp_path / "y.npy").exists()


def test_missing_model_directory_and_missing_port(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 100, 6), np.float32))
    proc = cli("infer", "--model", str(tmp_path / "nope"), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy"))
    one_line_error(proc, "does not exist; create it with 'edgeleak quantize")


def test_missing_and_busy_serial_ports(zoo_models, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 100, 6), np.float32))
    args = ["infer", "--board", "nano33ble", "--model", str(zoo_models["imu_cnn"]), "--input", str(tmp_path / "x.npy"),
            "--output", str(tmp_path / "y.npy")]
    one_line_error(cli(*args, "--port", "/dev/ttyEDGELEAK-NONE"), "does not exist; is the board connected?")
    import serial

    master, slave = pty.openpty()
    holder = serial.serial_for_url(os.ttyname(slave), exclusive=True)
    try:
        one_line_error(cli(*args, "--port", os.ttyname(slave)), "is busy")
    finally:
        holder.close()
        os.close(master)
        os.close(slave)


def test_a_silent_port_times_out_with_a_clear_error(zoo_models, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 100, 6), np.float32))
    master, slave = pty.openpty()  # nobody answers on the other end
    try:
        proc = cli("infer", "--board", "nano33ble", "--model", str(zoo_models["imu_cnn"]), "--input", str(tmp_path / "x.npy"),
                    "--output", str(tmp_path / "y.npy"), "--port", os.ttyname(slave), timeout=120)
        one_line_error(proc, "no reply from the device")
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("args,needle", [
    (("build", "--board", "host", "--floor-epsilon", "nan"), "the privacy floor's epsilon must be a finite number, got nan"),
    (("build", "--board", "host", "--floor-epsilon", "-1"), "the privacy floor's epsilon must be > 0, got -1"),
    (("build", "--board", "host", "--floor-epsilon", "8", "--floor-delta", "0.5"), "delta must be in (0, 0.001], got 0.5"),
    (("build", "--board", "host", "--floor-delta", "1e-6"), "a floor delta needs a floor epsilon"),
    (("build", "--board", "host", "--floor-epsilon", "8", "--no-floor"), "takes no floor epsilon"),
    (("flash", "--board", "nano33ble", "--floor-epsilon", "inf"), "epsilon must be a finite number, got inf"),
    (("train", "--board", "host", "--floor-epsilon", "0", "--out", "nowhere"), "epsilon must be > 0, got 0"),
])
def test_a_floor_that_cannot_be_enforced_stops_the_command_in_one_line(tmp_path, args, needle):
    model = ("--model", str(tmp_path / "no-model"))  # the floor is refused before the model is looked at
    one_line_error(cli(*args, *model), needle)


def test_study_refuses_an_unenforceable_floor_in_one_line(tmp_path):
    one_line_error(cli("study", "--quick", "--floor-epsilon", "nan", "--out", str(tmp_path / "s")), "finite number, got nan")
    assert not (tmp_path / "s").exists()


def test_a_blank_pico_is_flashed_from_its_boot_rom_without_a_serial_port(zoo_models):
    """The Pico uploads through picotool (no serial port before its first UF2); here the upload itself cannot run
    (no registry, no board), and the one line says where it looked instead of 'no pico found on USB'."""
    proc = cli("flash", "--board", "pico", "--model", str(zoo_models["mlp"]))
    one_line_error(proc, "flashing pico on its boot ROM (hold BOOTSEL while plugging it in) failed")
    proc = cli("flash", "--board", "nano33ble", "--model", str(zoo_models["mlp"]))
    one_line_error(proc, "no nano33ble found on USB")  # a board uploaded over its serial port still needs one
