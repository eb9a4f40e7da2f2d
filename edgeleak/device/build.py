"""Build the firmware with a model for a board and check the image against the board's budget."""

from __future__ import annotations

import hashlib
from pathlib import Path

from edgeleak.boards.budget import BudgetReport, estimate_model_budget
from edgeleak.boards.config import Board
from edgeleak.core.model import ModelDir
from edgeleak.device.model_dir import load_model_dir
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.build import BuildResult, build_firmware
from edgeleak.firmware.runners import check_qemu_machine
from edgeleak.privacy.floor import check_build_flags
from edgeleak.quantize.artifact import MAX_OPS, MAX_TENSORS, read_header
from edgeleak.quantize.codegen import artifact_to_c


def default_build_dir(model: ModelDir, flags: tuple[str, ...] = ()) -> Path:
    """``MODEL/build`` (PlatformIO adds a folder per env); builds with extra flags (a privacy floor, a testing
    build) get their own, keyed by the flags, so an image is never reused with other flags."""
    if not flags:
        return model.path / "build"
    return model.path / ("build-" + hashlib.sha256(" ".join(flags).encode()).hexdigest()[:12])


def write_model_source(model: ModelDir) -> Path:
    """Write the model C file beside the artifact (PlatformIO may wipe build dirs), untouched when unchanged."""
    path = model.path / "el_model_data.c"
    source = artifact_to_c(model.artifact)
    if not path.exists() or path.read_text() != source:
        path.write_text(source)
    return path


def budget_of(board: Board, model: ModelDir, result: BuildResult) -> BudgetReport:
    """Linked sizes on emulated and real boards; on the host board only the model's share is meaningful."""
    if board.kind == "host":
        return estimate_model_budget(board, len(model.artifact), model.arena_bytes)
    return BudgetReport(board.name, result.flash_bytes, board.flash_bytes, result.static_ram_bytes, board.ram_bytes,
                        estimated=False)


def model_table_flags(artifact: bytes) -> tuple[str, ...]:
    """The engine's tensor and op tables sized to this model (firmware/src/engine/el_model.h), not to the largest
    model it accepts: about 100 bytes of RAM per tensor and op saved. Counts past the firmware's limits stay at the
    limits, so such an artifact builds and is refused at load, as before."""
    header = read_header(artifact)
    tensors = min(max(header.n_tensors, 1), MAX_TENSORS)
    ops = min(max(header.n_ops, 1), MAX_OPS)
    return (f"-DEL_MAX_TENSORS={tensors}", f"-DEL_MAX_OPS={ops}")


def build_for_model(board: Board, model_path: Path, build_dir: Path | None = None,
                    flags: tuple[str, ...] = ()) -> tuple[BuildResult, BudgetReport]:
    """Build ``board``'s firmware with the model in ``model_path``; refuse an image over budget.

    ``flags`` are extra compiler flags, e.g. the privacy floor (``Floor(...).to_build_flags()``) or
    ``-DEL_TESTING_BUILD=1``; a floor that cannot be enforced is refused before anything is built."""
    check_build_flags(flags)
    if board.kind == "qemu":  # before anything is built: QEMU here must have the machine
        check_qemu_machine(board.qemu_machine or board.name)
    model = load_model_dir(model_path)
    build_dir = build_dir or default_build_dir(model, flags)
    if board.target is not None:  # boards of one generic env build side by side, each in a build dir of its own (not
        build_dir = build_dir.with_name(f"{build_dir.name}-{board.name}")  # inside another: PlatformIO may wipe that)
    source = write_model_source(model)
    result = build_firmware(pio_env=board.pio_env, model_c=source, build_dir=build_dir, allow_registry=not board.offline,
                            extra_flags=flags + model_table_flags(model.artifact), target=board.target,
                            budget_kb={"RAM": board.ram_bytes // 1024, "FLASH": board.flash_bytes // 1024})
    budget = budget_of(board, model, result)
    problem = budget.problem()
    if problem:
        raise EdgeleakError(problem)
    return result, budget
