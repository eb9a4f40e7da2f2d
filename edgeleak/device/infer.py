"""Run int8 inputs through the model on a board and collect outputs and tick counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak.boards.config import Board
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import DeviceSession, open_device
from edgeleak.errors import EdgeleakError


QEMU_NS_PER_INSTRUCTION = 1  # -icount shift=0: the virtual clock advances 1 ns per instruction


def instructions_from_ticks(ticks: float, tick_hz: int) -> float:
    """Instructions executed in ``ticks`` of a ``tick_hz`` clock under QEMU ``-icount shift=0``."""
    return ticks * 1e9 / tick_hz / QEMU_NS_PER_INSTRUCTION


@dataclass(frozen=True)
class BoardOutputs:
    outputs: np.ndarray  # (n, output elements) int8
    ticks: np.ndarray  # (n,) ticks per inference, as the device measured them
    tick_hz: int
    device_board: str
    firmware_version: str
    model_hash: str

    @property
    def ticks_per_inference(self) -> float:
        return float(np.median(self.ticks)) if len(self.ticks) else 0.0


def run_inputs(session: DeviceSession, inputs_int8: np.ndarray) -> BoardOutputs:
    """Send each input; the device answers with its int8 output and the ticks it took."""
    n_out = session.info.output_bytes
    outputs = np.empty((len(inputs_int8), n_out), np.int8)
    ticks = np.empty(len(inputs_int8), np.int64)
    for i, x in enumerate(inputs_int8):
        reply = session.client.infer(np.ascontiguousarray(x, np.int8).tobytes())
        if len(reply.output) != n_out:
            raise EdgeleakError(f"the device answered {len(reply.output)} output bytes, expected {n_out}")
        outputs[i] = np.frombuffer(reply.output, np.int8)
        ticks[i] = reply.ticks
    info = session.info
    return BoardOutputs(outputs, ticks, info.tick_hz, info.board, info.firmware_version, info.model_hash)


def infer_on_board(board: Board, model_path: Path, x: np.ndarray, *, port: str | None = None,
                   icount: bool = False) -> BoardOutputs:
    model = load_model_dir(model_path)
    inputs = model.quantize(x)
    with open_device(board, model, port=port, icount=icount) as session:
        if session.info.input_bytes != model.input_bytes:
            raise EdgeleakError(f"the device takes {session.info.input_bytes} input bytes, the model {model.input_bytes}")
        return run_inputs(session, inputs)
