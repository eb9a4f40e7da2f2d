"""Speed and footprint of the firmware in one run: the int8 kernels' reference and DSP paths per op and per zoo
model (instructions per MAC), the training step per trainable parameter, RAM and flash of every zoo model on every
board that builds here against its budget, and, for context, LiteRT's and TFLite Micro's time per inference on this
computer for the same models. Device counts are instructions under QEMU -icount shift=0, not a real board's cycles.

    .venv/bin/python bench/bench_speed.py [--board mps2-an386] [--inputs 20] [--samples 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench_kernels import format_models, format_ops, kernel_figures, model_figures

MODELS = ("mlp", "imu_cnn")


@dataclass(frozen=True)
class Footprint:
    model: str
    board: str
    flash: int | None  # None: the build does not fit (the linker refuses it)
    ram: int | None
    flash_budget: int
    ram_budget: int
    problem: str = ""


def training_per_parameter(model_dir: Path, board_name: str, samples: int,
                           flags: tuple[str, ...] = ()) -> tuple[int, float]:
    """Trainable parameters and instructions per parameter per training sample (one step, batch ``samples``) of a
    build with ``flags`` besides the testing flag (e.g. ``-DEL_TRAIN_NO_MOMENTUM=1``)."""
    from edgeleak.boards import load_boards
    from edgeleak.data import load_dataset
    from edgeleak.device.infer import instructions_from_ticks
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.device.session import open_device
    from edgeleak.train.config import TrainConfig

    board = load_boards().get(board_name)
    data = load_dataset("basic_motions")
    model = load_model_dir(model_dir)
    testing = ("-DEL_TESTING_BUILD=1",) + flags  # the only kind of build that reports ticks
    with open_device(board, model, icount=True, build_flags=testing) as session:
        for x, y in zip(model.quantize(data.x_train[:samples]), data.y_train[:samples]):
            session.client.add_sample(int(y), x.tobytes())
        session.client.configure(TrainConfig(learning_rate=0.05, batch_size=samples, local_steps=1))
        update = session.client.train()
        params = session.info.trainable_params
    per_sample = instructions_from_ticks(update.meta.ticks, session.info.tick_hz) / samples
    return params, per_sample / params


def footprints(model_dirs: dict[str, Path]) -> list[Footprint]:
    """Each zoo model built for each board that builds here (offline), as linked."""
    from edgeleak.boards import load_boards
    from edgeleak.device.build import build_for_model
    from edgeleak.errors import EdgeleakError

    rows = []
    for board in load_boards().boards.values():
        if not board.offline or board.kind == "host":
            continue
        for name, path in model_dirs.items():
            try:
                build, budget = build_for_model(board, path)
                rows.append(Footprint(name, board.name, build.flash_bytes, build.static_ram_bytes, board.flash_bytes,
                                      board.ram_bytes, budget.problem() or ""))
            except EdgeleakError as exc:
                rows.append(Footprint(name, board.name, None, None, board.flash_bytes, board.ram_bytes, str(exc)[:90]))
    return rows


def host_seconds(model_dir: Path, count: int) -> tuple[float, float]:
    """Median seconds per inference of TFLite Micro (reference kernels) and LiteRT on this computer."""
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.reference.interpreters import LiteRtReference, TflmReference

    model = load_model_dir(model_dir)
    x = np.random.default_rng(0).integers(-128, 128, (count, *model.input_shape[1:]), dtype=np.int8)
    out = []
    for reference in (TflmReference(model.tflite), LiteRtReference(model.tflite)):
        times = []
        for q in x:
            start = time.perf_counter()
            reference.run(q)
            times.append(time.perf_counter() - start)
        out.append(float(np.median(times)))
    return out[0], out[1]


def format_footprints(rows: list[Footprint]) -> str:
    lines = ["| model | board | flash | RAM (static + stack) | fits |", "|---|---|---|---|---|"]
    for r in rows:
        if r.flash is None:
            lines.append(f"| {r.model} | {r.board} | - | - | no: {r.problem} |")
        else:
            lines.append(f"| {r.model} | {r.board} | {r.flash:,} of {r.flash_budget:,} B | {r.ram:,} of {r.ram_budget:,} B | "
                         f"{'yes' if not r.problem else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    from edgeleak.data import load_dataset
    from edgeleak.quantize.pipeline import quantize_zoo_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386", help="the DSP-capable QEMU board the counts are taken on")
    parser.add_argument("--inputs", type=int, default=20, help="inferences per model and path (counts are medians)")
    parser.add_argument("--samples", type=int, default=8, help="training samples in the measured step")
    args = parser.parse_args()
    data = load_dataset("basic_motions")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print(f"board {args.board}: kernels at the zoo models' layer shapes", flush=True)
        print(format_ops(kernel_figures(args.board, out)) + "\n", flush=True)
        print("whole inference (every op), both kernel paths", flush=True)
        print(format_models(model_figures(args.board, out, args.inputs)) + "\n", flush=True)
        dirs = {}
        for name in MODELS:
            dirs[name] = out / f"{name}-speed"
            quantize_zoo_model(data, name, dirs[name])
        print(f"training step on {args.board} (one step, batch {args.samples})", flush=True)
        for name in MODELS:
            params, per_param = training_per_parameter(dirs[name], args.board, args.samples)
            print(f"  {name}: {params:,} trainable parameters, {per_param:.1f} instructions per parameter per sample",
                  flush=True)
        print("\nflash and RAM per board, linked images\n" + format_footprints(footprints(dirs)) + "\n", flush=True)
        print("host-side time per inference on this computer, for context")
        for name in MODELS:
            tflm, litert = host_seconds(dirs[name], 200)
            print(f"  {name}: TFLite Micro {tflm * 1e6:,.0f} µs, LiteRT {litert * 1e6:,.0f} µs")


if __name__ == "__main__":
    main()
