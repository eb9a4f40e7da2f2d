"""The int8 kernels' two paths side by side on a DSP core (default mps2-an386, Cortex-M4): instructions per MAC
of the reference and the DSP (SIMD) kernels per op at the zoo models' layer shapes, whole inferences of each zoo
model built both ways, and the flash the DSP kernels add. Counts under QEMU -icount shift=0 (one instruction per
virtual ns), so they are instructions, not a real board's cycles.

    .venv/bin/python bench/bench_kernels.py [--board mps2-an386] [--inputs 20]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak.device.infer import instructions_from_ticks

REFERENCE_KERNELS = ("-DEL_KERNELS_REFERENCE=1",)
_LINE = re.compile(r"EL-BENCH op=(\S+) shape=(\S+) macs=(\d+) reps=(\d+) ref=(-?\d+) dsp=(-?\d+) tick_hz=(\d+)")


@dataclass(frozen=True)
class OpFigures:
    op: str
    shape: str
    macs: int  # per call (elements for the ops without MACs)
    reference: float  # instructions per call
    dsp: float | None


@dataclass(frozen=True)
class ModelFigures:
    model: str
    macs: int
    reference: float  # instructions per inference (median)
    dsp: float
    flash_reference: int
    flash_dsp: int
    ram_reference: int
    ram_dsp: int


def parse_bench_lines(text: str) -> list[OpFigures]:
    rows = []
    for m in _LINE.finditer(text):
        op, shape, macs, reps, ref, dsp, hz = m.groups()
        per_call = lambda ticks: instructions_from_ticks(int(ticks), int(hz)) / int(reps)  # noqa: E731
        rows.append(OpFigures(op, shape, int(macs), per_call(ref), per_call(dsp) if int(dsp) >= 0 else None))
    return rows


def kernel_figures(machine: str, out: Path) -> list[OpFigures]:
    """Build the firmware test program with the kernel bench compiled in and run it once under QEMU."""
    from edgeleak.firmware.build import build_firmware_tests

    saved = os.environ.get("PLATFORMIO_BUILD_FLAGS")
    os.environ["PLATFORMIO_BUILD_FLAGS"] = "-DEL_BENCH_KERNELS=1"
    try:
        elf = build_firmware_tests(pio_env=machine, build_dir=out / "kernel-bench")
    finally:
        if saved is None:
            os.environ.pop("PLATFORMIO_BUILD_FLAGS", None)
        else:
            os.environ["PLATFORMIO_BUILD_FLAGS"] = saved
    run = subprocess.run(["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none", "-semihosting-config",
                          "enable=on,target=native", "-icount", "shift=0", "-serial", "stdio", "-kernel", str(elf)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if "EL-TEST PASS" not in run.stdout:
        raise SystemExit("the kernel bench program failed:\n" + run.stdout[-2000:])
    return parse_bench_lines(run.stdout)


def model_figures(board_name: str, out: Path, inputs: int) -> list[ModelFigures]:
    from edgeleak.boards import load_boards
    from edgeleak.data import load_dataset
    from edgeleak.device.build import build_for_model
    from edgeleak.device.infer import run_inputs
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.device.session import open_device
    from edgeleak.quantize.pipeline import quantize_zoo_model

    board = load_boards().get(board_name)
    data = load_dataset("basic_motions")
    rows = []
    for name in ("mlp", "imu_cnn"):
        report, _ = quantize_zoo_model(data, name, out / name)
        model = load_model_dir(out / name)
        x = np.random.default_rng(0).integers(-128, 128, (inputs, *model.input_shape), dtype=np.int8)
        figures = {}
        for path, flags in (("reference", REFERENCE_KERNELS), ("dsp", ())):
            build, _ = build_for_model(board, model.path, flags=flags)
            with open_device(board, model, icount=True, build_flags=flags) as session:
                outputs = run_inputs(session, x)
            figures[path] = (instructions_from_ticks(float(np.median(outputs.ticks)), outputs.tick_hz),
                             build.flash_bytes, build.static_ram_bytes, outputs.outputs)
        if not np.array_equal(figures["reference"][3], figures["dsp"][3]):
            raise SystemExit(f"{name}: the two kernel paths answered differently")
        rows.append(ModelFigures(name, report.macs, figures["reference"][0], figures["dsp"][0],
                                 figures["reference"][1], figures["dsp"][1], figures["reference"][2], figures["dsp"][2]))
    return rows


def format_ops(rows: list[OpFigures]) -> str:
    lines = ["| op | shape | MACs | reference instr/MAC | DSP instr/MAC | speed-up |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r.dsp is None:
            lines.append(f"| {r.op} | {r.shape} | {r.macs:,} (elements) | {r.reference / r.macs:.1f} per element "
                         f"({r.reference:,.0f}) | same kernel | - |")
        else:
            lines.append(f"| {r.op} | {r.shape} | {r.macs:,} | {r.reference / r.macs:.2f} | {r.dsp / r.macs:.2f} | "
                         f"{r.reference / r.dsp:.1f}x |")
    return "\n".join(lines)


def format_models(rows: list[ModelFigures]) -> str:
    lines = ["| model | MACs | reference instr/inference | DSP instr/inference | reference instr/MAC | DSP instr/MAC | "
             "flash added by DSP kernels | static RAM added |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.model} | {r.macs:,} | {r.reference:,.0f} | {r.dsp:,.0f} | {r.reference / r.macs:.2f} | "
                     f"{r.dsp / r.macs:.2f} | {r.flash_dsp - r.flash_reference:+,} B | {r.ram_dsp - r.ram_reference:+,} B |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386", help="a QEMU board of boards.yaml with an MPS2 pio_env")
    parser.add_argument("--inputs", type=int, default=20, help="inferences per model and path (counts are medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        ops = kernel_figures(args.board, out)
        models = model_figures(args.board, out, args.inputs)
    print(f"board {args.board}: kernels at the zoo models' layer shapes\n{format_ops(ops)}\n")
    print(f"whole inference (every op), both builds\n{format_models(models)}")


if __name__ == "__main__":
    main()
