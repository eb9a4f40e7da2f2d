"""Figures of the quantize/build/inference stage: flash and RAM per zoo model on the Cortex-M4F board,
instructions per inference and per MAC under QEMU -icount shift=0, time to quantize and build, and
agreement with TFLite Micro and LiteRT.

    .venv/bin/python bench/bench_inference.py [--board mps2-an386] [--count 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from edgeleak.device.infer import instructions_from_ticks


@dataclass(frozen=True)
class PipelineFigures:
    model: str
    float_accuracy: float | None
    int8_accuracy: float
    macs: int
    artifact_bytes: int
    arena_bytes: int
    flash_bytes: int
    ram_bytes: int
    quantize_seconds: float
    build_seconds: float
    inputs: int
    tflm_identical: bool
    litert_differing_inputs: int
    litert_max_difference: int
    instructions_per_inference: float | None

    @property
    def instructions_per_mac(self) -> float | None:
        return self.instructions_per_inference / self.macs if self.instructions_per_inference else None


def run_pipeline(model_name: str, out: Path, *, board_name: str | None, count: int) -> PipelineFigures:
    from edgeleak.boards import load_boards
    from edgeleak.data import load_dataset
    from edgeleak.device.build import build_for_model
    from edgeleak.device.infer import run_inputs
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.device.session import open_device
    from edgeleak.device.verify import verification_inputs, verify_outputs
    from edgeleak.quantize.pipeline import quantize_zoo_model

    board = load_boards().get(board_name)
    data = load_dataset("basic_motions")
    model_dir = out / model_name
    report, _ = quantize_zoo_model(data, model_name, model_dir)
    start = time.perf_counter()
    build, _ = build_for_model(board, model_dir)
    build_seconds = time.perf_counter() - start
    model = load_model_dir(model_dir)
    inputs = verification_inputs(model, data.x_test, count)
    icount = board.kind == "qemu"
    with open_device(board, model, icount=icount) as session:
        outputs = run_inputs(session, inputs)
    tflm, litert = verify_outputs(model, inputs, outputs)
    instructions = instructions_from_ticks(outputs.ticks_per_inference, outputs.tick_hz) if icount else None
    return PipelineFigures(
        model=model_name, float_accuracy=report.float_test_accuracy, int8_accuracy=report.int8_test_accuracy,
        macs=report.macs, artifact_bytes=report.artifact_bytes, arena_bytes=report.arena_bytes,
        flash_bytes=build.flash_bytes, ram_bytes=build.static_ram_bytes, quantize_seconds=report.seconds,
        build_seconds=build_seconds, inputs=len(inputs), tflm_identical=tflm.identical,
        litert_differing_inputs=litert.differing_inputs, litert_max_difference=litert.max_abs_difference,
        instructions_per_inference=instructions,
    )


def format_table(board: str, rows: list[PipelineFigures]) -> str:
    lines = [f"| model | acc float / int8 | MACs | flash B | RAM B | instr/inference | instr/MAC | quantize s | build s | vs TFLite Micro | vs LiteRT |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        acc = f"{r.float_accuracy:.3f} / {r.int8_accuracy:.3f}" if r.float_accuracy is not None else f"- / {r.int8_accuracy:.3f}"
        instr = f"{r.instructions_per_inference:,.0f}" if r.instructions_per_inference else "-"
        per_mac = f"{r.instructions_per_mac:.1f}" if r.instructions_per_mac else "-"
        exact = f"identical on {r.inputs}" if r.tflm_identical else "DIFFERS"
        lite = "identical" if r.litert_differing_inputs == 0 else f"{r.litert_differing_inputs}/{r.inputs} differ (max {r.litert_max_difference})"
        lines.append(f"| {r.model} | {acc} | {r.macs:,} | {r.flash_bytes:,} | {r.ram_bytes:,} | {instr} | {per_mac} | "
                     f"{r.quantize_seconds:.1f} | {r.build_seconds:.1f} | {exact} | {lite} |")
    return f"board {board}\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386")
    parser.add_argument("--count", type=int, default=1000, help="inputs per model (instruction counts are medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        rows = [run_pipeline(name, Path(out), board_name=args.board, count=args.count) for name in ("imu_cnn", "mlp")]
    print(format_table(args.board, rows))


if __name__ == "__main__":
    main()
