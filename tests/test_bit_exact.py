"""The firmware's int8 outputs equal TFLite Micro's byte for byte: 1,000 inputs per zoo model, on the
host board and under QEMU (Cortex-M4F; Cortex-M7 and the STM32F4 port on the convolutional model), through the real
serial protocol. The Cortex-M4F runs both kernel paths: the DSP kernels its core selects, and the reference kernels
of a build with -DEL_KERNELS_REFERENCE=1."""

import shutil
import subprocess

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.device.build import build_for_model
from edgeleak.device.infer import run_inputs
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.device.verify import verification_inputs, verify_outputs

COUNT = 1000


@pytest.fixture(scope="module")
def boards():
    return load_boards()


REFERENCE_KERNELS = ("-DEL_KERNELS_REFERENCE=1",)
"""The build flag that makes a DSP core run the reference kernels (firmware/src/engine/el_kernel_paths.h)."""


def _qemu(board_name: str, model_name: str, flags: tuple[str, ...] = ()):
    path = "reference" if flags else "native"
    return pytest.param(board_name, model_name, flags, marks=pytest.mark.qemu, id=f"{model_name}-{board_name}-{path}")


# Boards added from boards.yaml alone (mps2-an500, Cortex-M7) and the bare-metal STM32F4 port (netduinoplus2, whose
# 128 KB hold the imu_cnn model, not the mlp's all-dense training buffers) run the convolutional model.
BOARD_MODELS = [pytest.param("host", m, (), id=f"{m}-host") for m in ("imu_cnn", "mlp")] + \
    [_qemu("mps2-an386", m, flags) for m in ("imu_cnn", "mlp") for flags in ((), REFERENCE_KERNELS)] + \
    [_qemu("mps2-an500", "imu_cnn"), _qemu("netduinoplus2", "imu_cnn")]


@pytest.mark.parametrize("board_name,model_name,flags", BOARD_MODELS)
def test_board_is_bit_exact_with_tflite_micro(zoo_models, basic_motions, boards, board_name, model_name, flags):
    model = load_model_dir(zoo_models[model_name])
    windows = np.concatenate([basic_motions.x_test, basic_motions.x_train])
    inputs = verification_inputs(model, windows, COUNT, seed=1)
    assert len(inputs) == COUNT and len(np.unique(inputs.reshape(COUNT, -1), axis=0)) == COUNT
    with open_device(boards.get(board_name), model, build_flags=flags) as session:
        assert session.info.board == board_name
        assert session.info.model_hash == model.sha256
        outputs = run_inputs(session, inputs)
    tflm, litert = verify_outputs(model, inputs, outputs)
    assert tflm.identical, tflm
    # The outputs are not degenerate: real windows are classified like the reference classifies them.
    assert len(np.unique(outputs.outputs.argmax(axis=1))) > 1
    # LiteRT's optimised kernels may round differently; they never disagree by much.
    assert litert.max_abs_difference <= 4, litert


@pytest.mark.qemu
@pytest.mark.parametrize("board_name,flags,dsp", [("mps2-an386", (), True), ("mps2-an386", REFERENCE_KERNELS, False),
                                                  ("mps2-an385", (), False), ("mps2-an500", (), True)])
def test_the_image_links_the_kernel_path_its_core_selects(zoo_models, boards, board_name, flags, dsp):
    """Cortex-M4 and M7 images call the DSP kernels unless built with the reference flag; the Cortex-M3 has no DSP
    extension. The linker drops unused functions, so the image's symbols show which path it runs."""
    nm = shutil.which("arm-none-eabi-nm")
    assert nm is not None, "arm-none-eabi-nm not installed"
    result, _ = build_for_model(boards.get(board_name), zoo_models["imu_cnn"], flags=flags)
    symbols = subprocess.run([nm, str(result.program)], capture_output=True, text=True, check=True).stdout.split()
    for kernel in ("el_fully_connected_s8", "el_conv_s8", "el_depthwise_conv_s8"):
        assert kernel in symbols
        assert (kernel + "_dsp" in symbols) == dsp, kernel


def test_a_board_running_another_model_is_refused(zoo_models, boards):
    from edgeleak.device.build import build_for_model
    from edgeleak.errors import EdgeleakError
    from edgeleak.firmware.runners import host_board

    result, _ = build_for_model(boards.get("host"), zoo_models["mlp"])
    with host_board(result.program) as url:
        with pytest.raises(EdgeleakError, match="runs model .*, not"):
            with open_device(boards.get("host"), load_model_dir(zoo_models["imu_cnn"]), port=url):
                pass
