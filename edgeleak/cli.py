"""The ``edgeleak`` command line. Only this module and the other cli_* modules print; user errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edgeleak.cli_attacks import add_attack_parsers
from edgeleak.cli_catalogue import add_catalogue_parsers
from edgeleak.cli_device import FAULT_PORT_HELP, add_device_parsers
from edgeleak.cli_fleet import add_fleet_parsers
from edgeleak.cli_training import add_training_options, train_config
from edgeleak.cli_privacy import (_add_floor_options, _boards, _device_floor_text, _floor,
                                  add_audit_epsilon_parser, cmd_capture_inspect, cmd_redteam)
from edgeleak.data.spec import add_dataset_options
from edgeleak.errors import EdgeleakError

EXIT_USER_ERROR = 2


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")


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
    from edgeleak.quantize.pipeline import quantize_tflite_file, quantize_user_model, quantize_zoo_model
    from edgeleak.quantize.user_model import is_user_model

    from edgeleak.data.spec import source_from_args

    board = _boards(args).get(args.board)
    data = load_dataset(source_from_args(args))
    out = Path(args.out)
    if args.model.endswith(".tflite"):
        report, exported = quantize_tflite_file(data, Path(args.model), out, head_layers=args.head_layers, cut=args.cut)
    elif is_user_model(args.model):
        report, exported = quantize_user_model(data, Path(args.model), out, cut=args.cut, head_layers=args.head_layers,
                                               seed=args.seed)
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


def cmd_train(args) -> int:
    from tqdm import tqdm

    from edgeleak.data import load_dataset
    from edgeleak.data.spec import source_from_args
    from edgeleak.device.fleet import fleet_ports
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.fl.session import SessionPlan, run_session

    board = _boards(args).get(args.board)
    floor = _floor(args, board)
    config = train_config(args)
    model = load_model_dir(Path(args.model))
    data = load_dataset(source_from_args(args, model.dataset))
    ports = fleet_ports(board, args.port, args.devices)
    args.devices = len(ports)
    plan = SessionPlan(devices=args.devices, rounds=args.rounds, config=config, partition=args.partition,
                       samples_per_round=args.samples, seed=args.seed, floor=floor, craft=args.craft)
    bar = tqdm(total=args.rounds, unit="round", desc=f"{args.devices} x {board.name}", disable=None)
    def on_round(summary):
        bar.set_postfix(accuracy=f"{summary.accuracy:.3f}", loss=f"{summary.mean_loss:.3f}")
        bar.update(1)
    try:
        summary = run_session(board, model, data, plan, Path(args.out), on_round=on_round, ports=ports)
    finally:
        bar.close()
    print(f"{summary.updates} updates from {args.devices} devices over {len(summary.rounds)} rounds in {summary.seconds:.1f} s")
    print(f"  global accuracy {summary.initial_accuracy:.3f} -> {summary.rounds[-1].accuracy:.3f} on {len(data.y_test)} held-out windows")
    redone = sum(r.redone for r in summary.rounds)
    if redone:
        print(f"  {redone} device rounds redone after a reset or a link failure")
    for line in sorted({_device_floor_text(d) for d in summary.devices}):
        print(f"  devices report: {line}")
    print(f"wrote {args.out}")
    return 0


def cmd_study(args) -> int:
    import dataclasses
    import time

    from edgeleak.privacy.floor import resolve_floor
    from edgeleak.study.config import load_study_config
    from edgeleak.study.report import markdown_summary, write_report
    from edgeleak.study.runner import _to_json_config, run_study

    study = load_study_config(Path(args.config) if args.config else None,
                              "quick" if args.quick else "full" if args.full else "default")
    boards = _boards(args)
    default = study.floor or boards.get(study.board).floor  # the config's floor, else the board's
    study = dataclasses.replace(study, floor=resolve_floor(default, epsilon=args.floor_epsilon, delta=args.floor_delta,
                                                           disabled=args.no_floor))
    out = Path(args.out)
    start = time.perf_counter()
    results = run_study(study, out, progress=lambda line: print(f"  {line}", flush=True), boards=boards)
    write_report(results, _to_json_config(study), out)
    print(markdown_summary(results))
    print(f"\n{len(results)} settings in {time.perf_counter() - start:.0f} s; wrote {out / 'report.html'} and {out / 'results.json'}")
    if any(r.bound_violated for r in results):
        raise EdgeleakError("a measured attack success exceeds its ReRo bound (see the report); the figures are not trustworthy")
    from edgeleak.study.report_audit import audit_violations

    leaks = audit_violations(results)
    if leaks:
        raise EdgeleakError(f"the devices leak more than they account for ({'; '.join(leaks)}): see the report")
    return 0


def cmd_audit(args) -> int:
    from edgeleak.study.audit import load_policy, measure_target, violations

    policy = load_policy(Path(args.policy))
    measured = measure_target(Path(args.target), policy)
    found = violations(policy, measured)
    for line in found:
        print(f"VIOLATION {line}")
    if found:
        print(f"edgeleak audit: {len(found)} policy violation(s) in {args.target}", file=sys.stderr)
        return 1
    print(f"edgeleak audit: {args.target} meets {args.policy} ({len(measured)} setting(s) checked)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeleak", description=(
        "Measure how much sensor data leaks through the weight updates microcontrollers send home, "
        "and what on-device clipping and noise buy back."))
    parser.add_argument("--boards", metavar="FILE", help="boards file (default: boards.yaml of the project, or $EDGELEAK_BOARDS)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("boards", help="list the boards edgeleak can build for and talk to")
    p.set_defaults(func=cmd_boards)
    add_catalogue_parsers(sub)

    p = sub.add_parser("quantize", help="train a zoo model (or take your Keras model, SavedModel or .tflite), convert to int8, "
                                        "export the firmware artifact")
    add_dataset_options(p, default="basic_motions")
    p.add_argument("--model", default="imu_cnn",
                   help="a zoo model ('edgeleak models'), your Keras file (.keras, .h5), a SavedModel directory, or a "
                        "full-integer .tflite (docs/quantize.md)")
    p.add_argument("--cut", help="first layer of the trainable head: a layer name, or an index into the model's layers "
                                 "(negative from the end: -2 = the last two layers); for a .tflite or SavedModel -N = "
                                 "the last N dense layers (default: the zoo model's cut; your Keras model's trailing "
                                 "Dense layers)")
    p.add_argument("--head-layers", type=int, default=2,
                   help="dense layers in the head of a .tflite or SavedModel without --cut (default 2)")
    p.add_argument("--epochs", type=int, help="training epochs (default: the model's own)")
    p.add_argument("--seed", type=int, default=0, help="seed for training and calibration (default 0)")
    p.add_argument("--board", help="board whose budget to report against (default: the default board)")
    p.add_argument("--out", required=True, help="output directory for model.tflite, model.elm, model.keras, model.json")
    p.set_defaults(func=cmd_quantize)

    add_device_parsers(sub)

    p = sub.add_parser("train", help="run federated rounds on N boards and capture every update")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--devices", type=int, help="boards that train side by side (default: one per --port; every connected "
                   "board of a real kind; 4 emulated boards)")
    p.add_argument("--port", action="append", metavar="URL", help="serial port URL of a device, repeatable: one device "
                   "per port, real boards or boards started elsewhere, each checked to run the model" + FAULT_PORT_HELP)
    add_training_options(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the partition (default 0)")
    p.add_argument("--out", required=True, help="capture directory to write")
    p.add_argument("--craft", choices=["imprint"], help="play a malicious server: send crafted weights every round "
                   "instead of the model (an imprint module; docs/attacks.md); the model does not learn")
    _add_floor_options(p)
    p.set_defaults(func=cmd_train)

    add_attack_parsers(sub)
    add_fleet_parsers(sub)

    p = sub.add_parser("study", help="the leakage study: sweep on-device defenses, attack, account for privacy, report")
    grid = p.add_mutually_exclusive_group()
    grid.add_argument("--quick", action="store_true", help="a short grid: 4 rounds, 2 seeds (about 3 minutes)")
    grid.add_argument("--full", action="store_true", help="the full grid: every σ, batch 16, DP-SGD, head-only noise "
                                                          "(about three times the default's time)")
    p.add_argument("--config", help="YAML file overriding the study's defaults (docs/study.md)")
    p.add_argument("--out", required=True, help="study directory (an interrupted study resumes from it)")
    _add_floor_options(p, study=True)
    p.set_defaults(func=cmd_study)

    p = sub.add_parser("audit", help="CI gate: exit 1 when a study or capture crosses a policy threshold")
    p.add_argument("--policy", required=True, help="policy YAML (max_pearson_r, max_label_accuracy, max_epsilon, ...)")
    p.add_argument("target", help="a study directory or a capture directory")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("redteam", help="play a malicious server against a board's privacy floor; exit 1 if an attack gets through",
                       description="Play a malicious server against a board's privacy floor: metadata side channel, averaging, "
                       "weak mechanisms, seeds, replayed TRAIN, budget resets, hostile weights, entropy (docs/redteam.md). "
                       "The red team stores its own random windows on the board to score what it gets back. "
                       "Exit 0 when every attack is stopped, 1 when one gets through, 2 on a usage error.")
    p.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    p.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    p.add_argument("--port", help="serial port URL of a real board or of a board started elsewhere" + FAULT_PORT_HELP)
    p.add_argument("--build-flag", action="append", default=[], metavar="FLAG",
                   help="compiler flag for the emulated or host board built here, repeatable; write it with '=', e.g. "
                   "--build-flag=-DEL_FLOOR_EPSILON=8 (NAME=VALUE alone means -DNAME=VALUE); a floor given here "
                   "replaces the board's own floor from boards.yaml")
    p.add_argument("--attack", action="append", default=[], metavar="NAME",
                   help="run only this attack, repeatable (default: all; names in docs/redteam.md)")
    p.add_argument("--rounds", type=int, default=300, help="most rounds of the averaging attack (default 300)")
    p.add_argument("--values", type=int, default=32, help="stored values the metadata attack tries to recover (default 32)")
    p.add_argument("--json", metavar="FILE", help="also write one JSON record per attack to FILE (strict JSON; null for undefined figures)")
    p.set_defaults(func=cmd_redteam)
    add_audit_epsilon_parser(sub)

    p = sub.add_parser("capture", help="work with captures")
    capture_sub = p.add_subparsers(dest="capture_command", required=True, metavar="SUBCOMMAND")
    q = capture_sub.add_parser("inspect", help="summarise a capture")
    q.add_argument("capture", help="capture directory")
    q.add_argument("--limit", type=int, default=20, help="updates to list (default 20)")
    q.set_defaults(func=cmd_capture_inspect)
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
