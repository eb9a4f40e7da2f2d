"""The privacy-floor side of the ``edgeleak`` command line: the floor options of build, flash, train and study,
``capture inspect`` (with what each device reported of its floor), ``redteam`` and ``audit-epsilon``. Like
edgeleak.cli, it prints."""

from __future__ import annotations

import sys
from pathlib import Path

from edgeleak.errors import EdgeleakError


def _boards(args):
    from edgeleak.boards import load_boards

    return load_boards(Path(args.boards) if args.boards else None)


def _floor(args, board):
    """The privacy floor of a build: --floor-epsilon/--floor-delta/--no-floor, else the board's (boards.yaml)."""
    from edgeleak.privacy.floor import resolve_floor

    return resolve_floor(board.floor, epsilon=args.floor_epsilon, delta=args.floor_delta, disabled=args.no_floor)


def _floor_line(floor) -> str:
    if floor is None:
        return "privacy floor: none (the device refuses nothing for its budget)"
    return f"privacy floor: {floor.describe()}, enforced by the firmware (docs/training.md)"


def _add_floor_options(p, study: bool = False) -> None:
    what = "every setting's boards (a setting's own floor in the config wins)" if study else "the firmware"
    g = p.add_argument_group("privacy floor", "the budget the device enforces itself (docs/training.md); "
                             "default: the config's or board's floor in boards.yaml, else none")
    g.add_argument("--floor-epsilon", type=float, metavar="E", help=f"build {what} with a privacy budget of epsilon E")
    g.add_argument("--floor-delta", type=float, metavar="D", help="delta of the floor, in (0, 1e-3] (default 1e-5)")
    g.add_argument("--no-floor", action="store_true", help="build without a floor, even if the board has one")


def cmd_redteam(args) -> int:
    from edgeleak.redteam import RedteamPlan, redteam, redteam_build_flags
    from edgeleak.redteam.report import report_json, report_lines

    board = _boards(args).get(args.board)
    flags = redteam_build_flags(board, tuple(args.build_flag), port=args.port)
    if args.json and not Path(args.json).resolve().parent.is_dir():
        raise EdgeleakError(f"cannot write {args.json}: its directory does not exist")
    plan = RedteamPlan(rounds=args.rounds, probe_values=args.values, attacks=tuple(args.attack))
    report = redteam(board, Path(args.model), port=args.port, build_flags=flags, plan=plan,
                     progress=lambda line: print(f"redteam: {line}", file=sys.stderr, flush=True))
    print("\n".join(report_lines(report)))
    if args.json:
        try:
            Path(args.json).write_text(report_json(report))
        except OSError as exc:
            raise EdgeleakError(f"cannot write {args.json}: {exc.strerror or exc}") from None
        print(f"wrote {args.json}")
    return 0 if report.all_stopped else 1


def cmd_audit_epsilon(args) -> int:
    from edgeleak.privacy.canary_audit import AuditPlan, audit_board
    from edgeleak.redteam import redteam_build_flags
    from edgeleak.strict_json import dumps

    board = _boards(args).get(args.board)
    flags = redteam_build_flags(board, tuple(args.build_flag), port=args.port)
    if args.json and not Path(args.json).resolve().parent.is_dir():
        raise EdgeleakError(f"cannot write {args.json}: its directory does not exist")
    plan = AuditPlan(canaries=args.canaries, clip_norm=args.clip, noise_multiplier=args.sigma,
                     confidence=args.confidence, seed=args.seed)
    result = audit_board(board, Path(args.model), port=args.port, build_flags=flags, plan=plan,
                         progress=lambda line: print(f"audit-epsilon: {line}", file=sys.stderr, flush=True))
    print("\n".join(result.lines()))
    if args.json:
        try:
            Path(args.json).write_text(dumps(result.to_json(), indent=2) + "\n")
        except OSError as exc:
            raise EdgeleakError(f"cannot write {args.json}: {exc.strerror or exc}") from None
        print(f"wrote {args.json}")
    return 1 if result.violated else 0


def add_audit_epsilon_parser(sub) -> None:
    p = sub.add_parser("audit-epsilon", help="measure a lower bound on the device's epsilon (exit 1 above the accounted)",
                       description="Play the membership game against a device's noise and accounting: m rounds, "
                       "each storing one canary window or its neighbour at random, with head weights crafted to make "
                       "the test sharp; report audited lower bounds on epsilon next to the epsilon the device "
                       "accounts for one release (docs/privacy.md).")
    p.add_argument("--board", required=True, help="a board from boards.yaml (host, an emulated board, or a real one with --port)")
    p.add_argument("--model", required=True, help="model directory (edgeleak quantize)")
    p.add_argument("--port", help="the board's serial port or URL (a board already running)")
    p.add_argument("--canaries", type=int, default=1000, help="rounds of the game (default 1000)")
    p.add_argument("--clip", type=float, default=1.0, help="clip norm C of the release (default 1)")
    p.add_argument("--sigma", type=float, default=2.0, help="noise multiplier of the release (default 2)")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence of the bounds (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="seed of the coin flips and the canary window")
    p.add_argument("--build-flag", action="append", default=[], metavar="FLAG",
                   help="compiler flag for the emulated or host board built here, repeatable (NAME=VALUE means "
                   "-DNAME=VALUE), e.g. EL_FLOOR_EPSILON=8; EL_TESTING_BUILD=1 with EL_FAULT_HALF_NOISE=1 builds a "
                   "device that draws half the noise it accounts for, which the audit must catch")
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE (strict JSON)")
    p.set_defaults(func=cmd_audit_epsilon)


def _floor_text(raw: dict) -> str:
    return f"epsilon_max {raw.get('epsilon', float('nan')):g} at delta {raw.get('delta', float('nan')):g}"


def _known(value, fmt: str = "g") -> str:
    return "unknown" if value is None else format(value, fmt)


def _device_floor_text(d) -> str:
    """One device's INFO about its privacy floor, in words; "unknown" for what it (or an old capture) did not say."""
    if d.floor_epsilon is None:
        floor = "floor unknown"
    elif d.floor_epsilon == 0:
        floor = "no floor"
    else:
        floor = f"floor epsilon_max {d.floor_epsilon:g} at delta {_known(d.floor_delta)}"
        if d.floor_valid is False:
            floor += " (INVALID constants: every TRAIN refused)"
    testing = "unknown" if d.testing_build is None else ("yes" if d.testing_build else "no")
    from edgeleak.link.messages import EntropySource

    note = " (a functional test, not a security claim)" if d.entropy_source == EntropySource.EMULATOR else ""
    return (f"{floor}, entropy {d.entropy}{note}, testing build {testing}, "
            f"epsilon spent {_known(d.epsilon_spent)} (rho {_known(d.rho_spent)})")


def cmd_capture_inspect(args) -> int:
    import warnings

    from edgeleak.capture.records import CaptureWarning
    from edgeleak.capture.store import load_capture

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CaptureWarning)
        capture = load_capture(Path(args.capture))
    s = capture.session
    print(f"capture {args.capture}: model {s.get('model_hash', '?')[:16]} on {s.get('dataset')}, "
          f"{s.get('devices')} x {s.get('board')}, {len(capture.globals)} rounds, {len(capture.updates)} updates")
    fleet = s.get("fleet")
    if isinstance(fleet, dict):
        print(f"  fleet on Flower: nodes {', '.join(map(str, fleet.get('nodes', [])))}, {fleet.get('aggregation')} aggregation")
    if capture.aggregates:
        covered = sum(len(a.devices) for a in capture.aggregates)
        print(f"  {len(capture.aggregates)} secure aggregates (the server saw only each round's sum) of {covered} "
              f"device updates")
    built = s.get("floor")
    print(f"  floor asked for at build: {'unknown' if 'floor' not in s else (_floor_text(built) if built else 'none')}")
    print("  devices (INFO when the session opened them):")
    for d in capture.device_reports():
        print(f"  {d.device:>5} {d.board} {d.firmware_version}: {_device_floor_text(d)}")
    if capture.updates:
        m = capture.updates[0].meta
        print(f"  defenses: clip {m.clip_mode.name.lower()} C={m.clip_norm:g}, noise {m.noise_kind.name.lower()} "
              f"sigma={m.noise_multiplier:g} ({m.noise_mode.name.lower()}), sparsify {m.sparsify.name.lower()}, "
              f"encoding {m.encoding.name.lower()}")
        print(f"  training: lr {m.learning_rate:g}, momentum {m.momentum:g}, batch {m.batch_size}, steps {m.steps}")
        print(f"  {'round':>5} {'device':>6} {'samples':>7} {'pre-clip norm':>13} {'loss':>7} {'sent':>7} "
              f"{'rho after':>10} {'eps after':>10} {'floor':>7}")
        for u in capture.updates[: args.limit]:
            sent = int(sum(mask.sum() for mask in u.sent))
            rho, eps = getattr(u.meta, "rho_total", None), getattr(u.meta, "epsilon_total", None)
            enforced = getattr(u.meta, "floor_enforced", None)
            floor = "unknown" if enforced is None else ("yes" if enforced else "no")
            print(f"  {u.round:>5} {u.device:>6} {u.meta.samples:>7} {u.meta.pre_clip_norm:>13.4g} {u.meta.loss:>7.3f} {sent:>7} "
                  f"{_known(rho, '.4g'):>10} {_known(eps, '.4g'):>10} {floor:>7}")
        if len(capture.updates) > args.limit:
            print(f"  ... {len(capture.updates) - args.limit} more")
    for warning in caught:
        print(f"  warning: {warning.message}")
    return 0


