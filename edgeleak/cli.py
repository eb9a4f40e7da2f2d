"""The ``edgeleak`` command line. Only this module prints; user errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edgeleak.errors import EdgeleakError

EXIT_USER_ERROR = 2


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")


def _boards(args):
    from edgeleak.boards import load_boards

    return load_boards(Path(args.boards) if args.boards else None)


def cmd_boards(args) -> int:
    boards = _boards(args)
    print(f"{'board':<15} {'kind':<7} {'RAM':>7} {'flash':>8}  builds here  description")
    for b in boards.boards.values():
        default = " (default)" if b.name == boards.default else ""
        print(f"{b.name:<15} {b.kind:<7} {b.ram_bytes // 1024:>5}KB {b.flash_bytes // 1024:>6}KB  "
              f"{'yes' if b.offline else 'no ':<11}  {b.description}{default}")
    return 0


def cmd_quantize(args) -> int:
    from edgeleak.boards.budget import estimate_model_budget
    from edgeleak.data import load_dataset
    from edgeleak.quantize.pipeline import quantize_tflite_file, quantize_zoo_model

    board = _boards(args).get(args.board)
    data = load_dataset(args.dataset)
    out = Path(args.out)
    if args.model.endswith(".tflite"):
        report, exported = quantize_tflite_file(data, Path(args.model), out, head_layers=args.head_layers)
    else:
        report, exported = quantize_zoo_model(data, args.model, out, cut=args.cut, seed=args.seed, epochs=args.epochs)
    print(f"model {report.model} on {report.dataset}: cut at {report.cut}, {report.macs:,} MACs per inference")
    if report.float_test_accuracy is not None:
        print(f"  test accuracy: float {report.float_test_accuracy:.3f}, int8 (TFLite Micro) {report.int8_test_accuracy:.3f}")
    else:
        print(f"  test accuracy: int8 (TFLite Micro) {report.int8_test_accuracy:.3f}")
    print(f"  model.tflite {report.tflite_bytes:,} B, model.elm {report.artifact_bytes:,} B, arena {report.arena_bytes:,} B")
    print(f"  model hash {report.sha256[:16]}  ({report.seconds:.1f} s)")
    budget = estimate_model_budget(board, report.artifact_bytes, report.arena_bytes)
    print("\n".join(budget.lines()))
    problem = budget.problem()
    if problem:
        raise EdgeleakError(problem)
    print(f"wrote {out / 'model.tflite'}, {out / 'model.elm'}")
    return 0


def cmd_build(args) -> int:
    from edgeleak.device.build import build_for_model

    board = _boards(args).get(args.board)
    result, budget = build_for_model(board, Path(args.model), Path(args.build_dir) if args.build_dir else None)
    print("\n".join(budget.lines()))
    print(f"built {result.program} in {result.seconds:.1f} s")
    return 0


def cmd_infer(args) -> int:
    import numpy as np

    from edgeleak.device.infer import infer_on_board

    board = _boards(args).get(args.board)
    try:
        x = np.load(args.input, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise EdgeleakError(f"cannot read inputs {args.input}: {exc}") from None
    result = infer_on_board(board, Path(args.model), x, port=args.port, icount=args.icount)
    np.save(args.output, result.outputs)
    print(f"{len(result.outputs)} inferences on {board.name} ({result.device_board}, firmware {result.firmware_version}), "
          f"model {result.model_hash[:16]}")
    if result.ticks_per_inference:
        print(f"  {result.ticks_per_inference:,.0f} ticks per inference at {result.tick_hz:,} Hz")
    print(f"wrote {args.output}")
    return 0


def cmd_verify(args) -> int:
    from edgeleak.data import load_dataset
    from edgeleak.device.infer import run_inputs
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.device.session import open_device
    from edgeleak.device.verify import verification_inputs, verify_outputs

    board = _boards(args).get(args.board)
    model = load_model_dir(Path(args.model))
    data = load_dataset(args.dataset or model.dataset)
    inputs = verification_inputs(model, data.x_test if args.real is None else data.x_test[:args.real], args.count, args.seed)
    with open_device(board, model, port=args.port, icount=args.icount) as session:
        outputs = run_inputs(session, inputs)
    tflm, litert = verify_outputs(model, inputs, outputs)
    real = min(len(data.x_test), args.count) if args.real is None else min(args.real, args.count)
    print(f"{len(inputs)} inputs ({real} real windows, {len(inputs) - real} random int8 tensors) on {board.name}:")
    for agreement in (tflm, litert):
        verdict = "identical" if agreement.identical else (
            f"{agreement.differing_inputs} inputs differ ({agreement.differing_values} values, "
            f"max |difference| {agreement.max_abs_difference})")
        print(f"  vs {agreement.reference:<13} {verdict}")
    if outputs.ticks_per_inference:
        print(f"  {outputs.ticks_per_inference:,.0f} ticks per inference at {outputs.tick_hz:,} Hz")
    if not tflm.identical:
        raise EdgeleakError(f"{board.name} is not bit-exact with TFLite Micro on {tflm.differing_inputs} of {tflm.inputs} inputs")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeleak", description=(
        "Measure how much sensor data leaks through the weight updates microcontrollers send home, "
        "and what on-device clipping and noise buy back."))
    parser.add_argument("--boards", metavar="FILE", help="boards file (default: boards.yaml of the project, or $EDGELEAK_BOARDS)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("boards", help="list the boards edgeleak can build for and talk to")
    p.set_defaults(func=cmd_boards)

    p = sub.add_parser("quantize", help="train a zoo model (or take a .tflite), convert to int8, export the firmware artifact")
    p.add_argument("--dataset", default="basic_motions", help="basic_motions (default), pickup_gesture, japanese_vowels, digits")
    p.add_argument("--model", default="imu_cnn", help="zoo model (imu_cnn, mlp) or a full-integer .tflite file")
    p.add_argument("--cut", help="first layer of the trainable head (zoo models; default: the model's own cut)")
    p.add_argument("--head-layers", type=int, default=2, help="dense layers in the head of a .tflite model (default 2)")
    p.add_argument("--epochs", type=int, help="training epochs (default: the model's own)")
    p.add_argument("--seed", type=int, default=0, help="seed for training and calibration (default 0)")
    p.add_argument("--board", help="board whose budget to report against (default: the default board)")
    p.add_argument("--out", required=True, help="output directory for model.tflite, model.elm, model.keras, model.json")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("build", help="build the firmware with a model and report flash/RAM against the board's budget")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--build-dir", help="where the build goes (default: MODEL/build/BOARD)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("infer", help="run the model on a board (host build, QEMU, or a real board on a serial port)")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--input", required=True, help=".npy of windows: float (quantized with the model's input scale) or int8")
    p.add_argument("--output", required=True, help=".npy to write the int8 outputs to")
    p.add_argument("--port", help="serial port URL of a real board (default: found by USB VID:PID)")
    p.add_argument("--icount", action="store_true", help="QEMU: count instructions (-icount shift=0), so ticks = instructions")
    p.set_defaults(func=cmd_infer)

    p = sub.add_parser("verify", help="compare the board's outputs with TFLite Micro (bit-exact) and LiteRT")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--count", type=int, default=1000, help="inputs in all: the data set's test windows, then random int8 tensors (default 1000)")
    p.add_argument("--real", type=int, help="at most this many real windows (default: all test windows)")
    p.add_argument("--dataset", help="data set of the real windows (default: the model's own)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random tensors (default 0)")
    p.add_argument("--port", help="serial port URL of a real board or of a board started elsewhere")
    p.add_argument("--icount", action="store_true", help="QEMU: count instructions (-icount shift=0)")
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except EdgeleakError as exc:
        print(f"edgeleak: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("edgeleak: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
