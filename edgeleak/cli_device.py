"""The device commands of the ``edgeleak`` command line: build, flash, infer and verify, on one board or several."""

from __future__ import annotations

from pathlib import Path

from edgeleak.cli_privacy import _add_floor_options, _boards, _floor, _floor_line
from edgeleak.data.spec import add_dataset_options
from edgeleak.errors import EdgeleakError

FAULT_PORT_HELP = ("; a device path, socket://HOST:PORT, or fault://HOST:PORT?flip=P&drop=P&dup=P&seed=N "
                   "(fault:///dev/pts/N?... for a pseudo-terminal) to damage bytes both ways (docs/protocol.md, Link recovery)")


def cmd_build(args) -> int:
    from edgeleak.device.build import build_for_model

    board = _boards(args).get(args.board)
    floor = _floor(args, board)
    flags = floor.to_build_flags() if floor else ()
    result, budget = build_for_model(board, Path(args.model), Path(args.build_dir) if args.build_dir else None, flags=flags)
    print("\n".join(budget.lines()))
    print(_floor_line(floor))
    print(f"built {result.program} in {result.seconds:.1f} s")
    return 0


def cmd_flash(args) -> int:
    from edgeleak.device.flash import flash_board
    from edgeleak.device.fleet import fleet_ports

    board = _boards(args).get(args.board)
    floor = _floor(args, board)
    # several --port, or every connected board of the kind; a boot-ROM or ST-LINK upload finds its one board itself
    found_by_uploader = board.kind != "serial" or (not args.port and board.upload in ("uf2", "stlink"))
    for port in [None] if found_by_uploader else fleet_ports(board, args.port, None):
        used = flash_board(board, Path(args.model), port=port, flags=floor.to_build_flags() if floor else ())
        print(f"flashed {board.name} on {used} with {args.model}")
    print(_floor_line(floor))
    return 0


def cmd_infer(args) -> int:
    import numpy as np

    from edgeleak.data.inputs import read_inputs
    from edgeleak.device.infer import infer_on_board
    from edgeleak.device.model_dir import load_model_dir

    board = _boards(args).get(args.board)
    model = load_model_dir(Path(args.model))
    x = read_inputs(args.input, tuple(model.input_shape[1:]))
    if args.raw:
        if x.dtype == np.int8:
            raise EdgeleakError("--raw applies to float windows in sensor units, not to int8 tensors")
        if model.meta.normalisation is None:
            raise EdgeleakError(f"{args.model} carries no normalisation (made by an older edgeleak); re-run "
                                "'edgeleak quantize' or give normalised windows without --raw")
        x = model.meta.normalisation.apply(x)
    results = []
    for port in _ports_for_one_run(board, args.port):  # every board runs the inputs; their outputs must agree
        result = infer_on_board(board, Path(args.model), x, port=port, icount=args.icount)
        where = f" on {port}" if port else ""
        print(f"{len(result.outputs)} inferences on {board.name}{where} ({result.device_board}, firmware "
              f"{result.firmware_version}), model {result.model_hash[:16]}")
        if result.ticks_per_inference:
            print(f"  {result.ticks_per_inference:,.0f} ticks per inference at {result.tick_hz:,} Hz")
        if results and not np.array_equal(result.outputs, results[0].outputs):
            raise EdgeleakError(f"the board on {port} gives other outputs than the first board; nothing written")
        results.append(result)
    np.save(args.output, results[0].outputs)
    print(f"wrote {args.output}")
    return 0


def cmd_verify(args) -> int:
    from edgeleak.data import load_dataset
    from edgeleak.data.spec import source_from_args
    from edgeleak.device.infer import run_inputs
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.device.session import open_device
    from edgeleak.device.verify import verification_inputs, verify_outputs

    board = _boards(args).get(args.board)
    model = load_model_dir(Path(args.model))
    data = load_dataset(source_from_args(args, model.dataset))
    inputs = verification_inputs(model, data.x_test if args.real is None else data.x_test[:args.real], args.count, args.seed)
    real = min(len(data.x_test), args.count) if args.real is None else min(args.real, args.count)
    failed = []
    for port in _ports_for_one_run(board, args.port):  # each board on its own
        with open_device(board, model, port=port, icount=args.icount) as session:
            outputs = run_inputs(session, inputs)
        tflm, litert = verify_outputs(model, inputs, outputs)
        where = f"{board.name} on {port}" if port else board.name
        print(f"{len(inputs)} inputs ({real} real windows, {len(inputs) - real} random int8 tensors) on {where}:")
        for agreement in (tflm, litert):
            verdict = "identical" if agreement.identical else (
                f"{agreement.differing_inputs} inputs differ ({agreement.differing_values} values, "
                f"max |difference| {agreement.max_abs_difference})")
            print(f"  vs {agreement.reference:<13} {verdict}")
        if outputs.ticks_per_inference:
            print(f"  {outputs.ticks_per_inference:,.0f} ticks per inference at {outputs.tick_hz:,} Hz")
        if not tflm.identical:
            failed.append(f"{where} on {tflm.differing_inputs} of {tflm.inputs} inputs")
    if failed:
        raise EdgeleakError(f"not bit-exact with TFLite Micro: {'; '.join(failed)}")
    return 0


def _ports_for_one_run(board, ports: list[str] | None) -> list[str | None]:
    """Each --port, or every connected real board of the kind, or the one emulated board started here."""
    from edgeleak.device.fleet import fleet_ports

    return fleet_ports(board, ports, None if board.kind == "serial" or ports else 1)


def add_device_parsers(sub) -> None:
    p = sub.add_parser("build", help="build the firmware with a model and report flash/RAM against the board's budget")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--build-dir", help="where the build goes (default: MODEL/build/BOARD)")
    _add_floor_options(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("flash", help="build and upload the firmware with a model to a real board (PlatformIO)")
    p.add_argument("--board", required=True, help="a real board from boards.yaml, e.g. nano33ble")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--port", action="append", metavar="PORT", help="serial port of a board, repeatable to flash several "
                   "(default: every connected board of the kind, found by its USB VID:PID)")
    _add_floor_options(p)
    p.set_defaults(func=cmd_flash)

    p = sub.add_parser("infer", help="run the model on a board (host build, QEMU, or a real board on a serial port)")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--input", required=True, metavar="FILE", help="windows in a .npy, a .npz (its 'windows' array or its "
                   "only one; FILE.npz:NAME picks one) or a .csv (rows are time steps, columns channels, windows one "
                   "after another): float (quantized with the model's input scale) or int8 (docs/data-format.md)")
    p.add_argument("--raw", action="store_true", help="the float windows are in sensor units: normalise them with the "
                   "model's training statistics first (default: already normalised, as the data sets' windows)")
    p.add_argument("--output", required=True, help=".npy to write the int8 outputs to")
    p.add_argument("--port", action="append", metavar="URL", help="serial port URL of a board, repeatable: every board "
                   "runs the inputs and must give the same outputs (default: every connected board of the kind, by USB "
                   "VID:PID; an emulated board is started here)" + FAULT_PORT_HELP)
    p.add_argument("--icount", action="store_true", help="QEMU: count instructions (-icount shift=0), so ticks = instructions")
    p.set_defaults(func=cmd_infer)

    p = sub.add_parser("verify", help="compare the board's outputs with TFLite Micro (bit-exact) and LiteRT")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--count", type=int, default=1000, help="inputs in all: the data set's test windows, then random int8 tensors (default 1000)")
    p.add_argument("--real", type=int, help="at most this many real windows (default: all test windows)")
    add_dataset_options(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the random tensors (default 0)")
    p.add_argument("--port", action="append", metavar="URL", help="serial port URL of a board, repeatable: each board is "
                   "verified (default: every connected board of a real kind; an emulated board is started here)"
                   + FAULT_PORT_HELP)
    p.add_argument("--icount", action="store_true", help="QEMU: count instructions (-icount shift=0)")
    p.set_defaults(func=cmd_verify)
