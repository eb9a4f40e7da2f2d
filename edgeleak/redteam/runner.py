"""Run the attacks against one board: open it, store the replay samples, call every attack in turn."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from edgeleak.boards.config import Board
from edgeleak.core.model import ModelDir
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import DeviceSession, open_device
from edgeleak.errors import EdgeleakError
from edgeleak.link.client import DeviceError, LinkTimeout
from edgeleak.redteam.context import AttackContext, RedteamPlan, error_name
from edgeleak.redteam.registry import AttackSpec, select_attacks
from edgeleak.redteam.results import AttackResult, DeviceFacts, Outcome, RedteamReport, ReplayMode

Progress = Callable[[str], None]


def redteam_build_flags(board: Board, given: tuple[str, ...], *, port: str | None = None) -> tuple[str, ...]:
    """The compiler flags of the red team's build: ``NAME=VALUE`` means ``-DNAME=VALUE``; the board's own floor
    (boards.yaml) comes first unless a flag sets one. Flags cannot apply to a board someone else runs."""
    flags = tuple(f if f.startswith("-") else f"-D{f}" for f in given)
    if flags and (port or board.kind == "serial"):
        raise EdgeleakError("build flags apply to emulated and host boards built here, not to a board on a port "
                            "or a real board")
    if any(not f[1:] or any(c.isspace() for c in f) for f in flags):
        raise EdgeleakError(f"build flags are single compiler flags such as -DEL_FLOOR_EPSILON=8, got {' '.join(flags)!r}")
    floor = getattr(board, "floor", None)
    if floor and board.kind != "serial" and not port and not any("EL_FLOOR_" in f for f in flags):
        flags = floor.to_build_flags() + flags
    return flags


def redteam(board: Board, model_path: Path, *, port: str | None = None, build_flags: tuple[str, ...] = (),
            plan: RedteamPlan | None = None, progress: Progress | None = None) -> RedteamReport:
    """Build and start ``board`` (emulated and host boards, with ``build_flags``) or open it on ``port``, and attack
    its privacy floor as a malicious server."""
    plan = plan or RedteamPlan()
    model = load_model_dir(model_path)
    specs = select_attacks(plan.attacks)  # an unknown name fails before anything is built
    if not list(model.head):
        raise EdgeleakError(f"the model in {model_path} has no trainable head: its devices never train, nothing to attack")
    if progress:
        progress(f"opening {board.name} with {model_path}" + (f" built with {' '.join(build_flags)}" if build_flags else ""))
    with open_device(board, model, port=port, build_flags=build_flags) as session:
        return attack_session(session, model, plan, specs=specs, model_label=str(model_path), progress=progress)


def attack_session(session: DeviceSession, model: ModelDir, plan: RedteamPlan, *, specs: list[AttackSpec] | None = None,
                   model_label: str = "", progress: Progress | None = None) -> RedteamReport:
    """The attacks of ``plan`` against an open session, in report order."""
    from edgeleak.fl.features import cut_features

    specs = specs if specs is not None else select_attacks(plan.attacks)
    facts = DeviceFacts.from_info(session.info)
    if facts.trainable_params == 0:
        raise EdgeleakError(f"{session.board.name} reports no trainable head: its firmware does not train, nothing to attack")
    shape = tuple(model.input_shape[1:])
    ctx = AttackContext(session.client, facts, model, list(model.head), plan,
                        features=lambda windows: cut_features(model, windows.reshape((len(windows), *shape))),
                        progress=progress)
    results: list[AttackResult] = []
    for k, spec in enumerate(specs):
        if progress:
            progress(f"[{k + 1}/{len(specs)}] {spec.name}: {spec.title}")
        outcome, lost = _run_one(spec, ctx)
        results.append(AttackResult(spec.number, spec.name, spec.title, outcome))
        if progress:
            progress(f"[{k + 1}/{len(specs)}] {spec.name}: {'stopped' if outcome.stopped else 'SUCCEEDED'}")
        if lost:
            for rest in specs[k + 1:]:
                results.append(AttackResult(rest.number, rest.name, rest.title,
                                            Outcome("not run", False, "not run: the device stopped answering")))
            break
    replay = ReplayMode(samples=ctx.count, seed=plan.seed)
    return RedteamReport(device=facts, board=session.board.name, model_path=model_label, replay=replay,
                         results=tuple(results))


def _run_one(spec: AttackSpec, ctx: AttackContext) -> tuple[Outcome, bool]:
    """An attack's outcome; an attack the device broke off is not counted as stopped. True when the link is lost."""
    try:
        return spec.run(ctx), False
    except LinkTimeout as exc:
        return Outcome(spec.title, False, f"aborted, the device stopped answering: {exc}"), True
    except DeviceError as exc:
        return Outcome(spec.title, False, f"aborted by an unexpected {error_name(exc)}: {exc}",
                       error=error_name(exc)), False
    except EdgeleakError as exc:
        return Outcome(spec.title, False, f"aborted: {exc}"), False

