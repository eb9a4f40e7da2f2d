"""Run a study: for every setting, a federated session on emulated boards, every applicable attack, scores,
accuracy and privacy accounting. Each finished setting is written to disk, so an interrupted study resumes."""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import shutil
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from edgeleak.boards import BoardSet, load_boards
from edgeleak.capture.records import CaptureWarning
from edgeleak.core.model import DatasetSource, ModelMeta
from edgeleak.data import load_dataset
from edgeleak.device.model_dir import load_model_dir
from edgeleak.errors import EdgeleakError, NotApplicable
from edgeleak.firmware.runners import check_qemu_machine
from edgeleak.fl.session import FloorRefusal, SessionPlan, run_session
from edgeleak.privacy.accounting import privacy_spend
from edgeleak.privacy.canary_audit import AuditPlan, AuditResult, audit_board
from edgeleak.privacy.grid import accountable, epsilon_zcdp, make_grid, release_rho
from edgeleak.privacy.rero import prior_success_rate, rero_bound, success_lower_bound
from edgeleak.scoring.metrics import SUCCESS_PEARSON
from edgeleak.study.config import Setting, StudyConfig
from edgeleak.study.results import AttackResult, Enforcement, SettingResult, dumps, read_result
from edgeleak.study.seeds import combine_seeds
from edgeleak.train.config import NoiseMode

RESULT_FILE = "result.json"


def _model_dir(root: Path, name: str, dataset, epochs: int) -> Path:
    from edgeleak.quantize.pipeline import quantize_zoo_model

    path = root / "models" / name
    if not (path / "model.json").exists() or _made_from(path) != (dataset.source or DatasetSource(dataset.name)):
        quantize_zoo_model(dataset, name, path, epochs=epochs)  # none yet, or made from other data: made again
    return path


def _made_from(path: Path) -> DatasetSource | None:
    """The data a cached model directory was made from (None when its model.json cannot be read)."""
    import json

    try:
        return ModelMeta.from_json(json.loads((path / "model.json").read_text())).dataset
    except (OSError, ValueError, EdgeleakError):
        return None


FAST_ATTACKS = ("analytic", "labels", "llg_star", "ilrg", "exclusive_neurons", "imprint")
"""Attacks that run on every record; the others (optimisation) on ``optimization_records`` per setting."""


def _attack(capture: Path, attack: str, out: Path, limit: int | None, aggregate: bool) -> AttackResult:
    from edgeleak.attacks.runner import run_attack

    try:
        run = run_attack(capture, attack, out, limit=limit, aggregate=aggregate, plots=1)  # one example per attack
    except NotApplicable as exc:
        return AttackResult(attack, 0, 0.0, (0.0, 1.0), float("nan"), float("nan"), float("nan"), float("nan"), 0.0,
                            exc.reason)
    s = run.summary
    pearsons = [r.pearson for r in run.scores if r.pearson == r.pearson]
    return AttackResult(attack, s.records, s.success_rate, s.success_interval, s.pearson[0],
                        max(pearsons) if pearsons else float("nan"), s.label_accuracy[0], s.feature_error[0],
                        run.seconds / max(1, s.records), "",
                        s.label_baseline if s.label_baseline is not None else float("nan"), s.windows,
                        s.window_successes, s.window_success_rate, s.window_success_interval, s.median_pearson[0],
                        s.worst_pearson, intervals={"median_pearson": s.median_pearson[1:],
                                                    "label_accuracy": s.label_accuracy[1:]},
                        windows_r90=s.windows_r90, windows_exact=s.windows_exact)


def _inference(capture: Path, seed: int, progress: Callable[[str], None], name: str) -> tuple:
    """What the server infers about the wearers from single updates: activity mix, and identity (docs/attacks.md)."""
    from edgeleak.attacks.inference import infer_from_capture

    progress(f"{name}: inferring activity mix and identity")
    try:
        return infer_from_capture(capture, seed=seed)
    except NotApplicable as exc:
        progress(f"{name}: no inference ({exc.reason})")
        return ()


def enforcement_of(capture: Path, floor, refused: str = "") -> Enforcement:
    """What the capture's devices reported about their floor, and the most ε they reported spent."""
    from edgeleak.capture.store import load_capture

    build_floor = floor.to_json() if floor else None
    try:
        loaded = load_capture(capture)
    except EdgeleakError:  # refused before the capture was written
        return Enforcement(build_floor, None, None, None, None, None, refused)
    reports = loaded.device_reports()
    first = reports[0] if reports else None
    spent = [getattr(u.meta, "epsilon_total", None) for u in loaded.updates]
    known = [e for e in spent if e is not None]
    epsilon_spent = max(known) if known and len(known) == len(spent) else None
    if refused and not spent and first is not None and first.epsilon_spent is not None:
        epsilon_spent = first.epsilon_spent  # nothing released: what the devices had spent when opened
    return Enforcement(build_floor, first.floor_epsilon if first else None, first.floor_delta if first else None,
                       first.entropy if first and first.entropy_source is not None else None,
                       first.testing_build if first else None, epsilon_spent, refused)


def _refused_result(setting: Setting, dataset, spend, enforced: Enforcement, seconds: float) -> SettingResult:
    """A setting the devices' floor refused: nothing was released, so there is nothing to attack."""
    nan = float("nan")
    return SettingResult(
        name=setting.name, model=setting.model, classes=dataset.num_classes,
        config={k: (v.name.lower() if hasattr(v, "name") else v) for k, v in dataclasses.asdict(setting.config).items()},
        accuracy_before=nan, accuracy_after=nan, epsilon=spend.epsilon, epsilon_rdp=spend.epsilon_rdp, delta=spend.delta,
        privacy_unit=spend.unit, kappa=nan, rero_bound=nan, measured_success=0.0, bound_violated=False, attacks=(),
        seconds=seconds, examples={}, enforced=enforced)


ACCURACY_ROUNDS = 5
"""A session's accuracy is the mean held-out accuracy of its last five rounds' global models: with single-sample
updates the global model's accuracy swings from round to round, and one round's figure is a draw from that swing."""


def _boards(study: StudyConfig, boards: BoardSet | None = None) -> list:
    """The study's board for its first ``emulated_devices`` devices, the stand-in for the others, from ``boards``
    (default: boards.yaml); an emulated board's machine must exist in QEMU here."""
    boards = boards or load_boards()
    chosen = [boards.get(study.board)] * study.emulated_devices + \
        [boards.get(study.stand_in)] * (study.devices - study.emulated_devices)
    for board in {b.name: b for b in chosen}.values():
        if board.kind == "qemu":
            check_qemu_machine(board.qemu_machine or board.name)
    return chosen


def _user_epsilon(setting: Setting, participations: int, params: int) -> float:
    """ε per user over the rounds the user's device took part in. With noise on the update one release covers any
    change of the device's whole stored set, so a user is protected as a window is, composed over participations;
    DP-SGD protects single windows, and its user-level figure (group privacy) is not accounted: ∞."""
    if setting.config.noise_mode != NoiseMode.UPDATE:
        return math.inf
    return privacy_spend(setting.config, rounds=max(1, participations), samples_per_round=setting.samples_per_round,
                         parameters=params).epsilon


def run_setting(setting: Setting, study: StudyConfig, root: Path, out: Path, dataset, progress: Callable[[str], None],
                seed: int, boards: list) -> SettingResult:
    """One seed of one setting, in ``out`` (the study's folder is ``root``), on ``boards`` (one per device)."""
    start = time.perf_counter()
    model = load_model_dir(_model_dir(root, setting.model, dataset, study.base_epochs))
    capture = out / "capture"
    if capture.exists():
        shutil.rmtree(capture)  # an unfinished session: it is redone whole, nothing is mixed
    floor = study.floor_of(setting)
    plan = SessionPlan(devices=study.devices, rounds=study.rounds, config=setting.config,
                       samples_per_round=setting.samples_per_round, seed=seed, floor=floor,
                       participants=study.participants, craft=setting.craft)
    params = sum(l.weights.size + l.bias.size for l in model.head)
    on = dict(collections.Counter(b.name for b in boards))
    progress(f"{setting.name} (seed {seed}): {', '.join(f'{n} x {b}' for b, n in on.items())}, {study.rounds} rounds of "
             f"{study.participants}" + (f", floor {floor.describe()}" if floor else ""))
    try:
        summary = run_session(boards, model, dataset, plan, capture)
    except FloorRefusal as refusal:
        progress(f"{setting.name}: refused by the devices' floor ({refusal.name})")
        enforced = enforcement_of(capture, floor, f"{refusal.name}: {refusal}")
        spend = privacy_spend(setting.config, rounds=study.rounds, samples_per_round=setting.samples_per_round,
                              parameters=params)
        return _refused_result(setting, dataset, spend, enforced, time.perf_counter() - start)
    releases, turns = max(summary.window_releases), max(summary.participations)
    spend = privacy_spend(setting.config, rounds=max(1, releases), samples_per_round=setting.samples_per_round,
                          parameters=params)
    attacks = []
    for attack in study.crafted_attacks if setting.craft else study.attacks:
        slow = attack not in FAST_ATTACKS
        progress(f"{setting.name}: attack {attack}" + (" on each round's sum" if setting.aggregate else ""))
        attacks.append(_attack(capture, attack, out / "attacks" / attack, study.optimization_records if slow else None,
                               setting.aggregate))
    inference = () if setting.aggregate or setting.craft else _inference(capture, seed, progress, setting.name)
    audit = None
    if seed == study.seed and not setting.craft:  # the audit plays its own game on a fresh board: once per setting
                                                   # (a crafted setting's mechanism is an honest one's)
        audit = _epsilon_audit(setting, study, boards[0], model.path, plan.all_build_flags(), params, progress)
    held = ((model.quantize(dataset.x_train).astype(np.float32) - model.input_zero_point) * model.input_scale)
    kappa = prior_success_rate(held, SUCCESS_PEARSON, seed=seed)
    bound = rero_bound(kappa, spend)
    scored = [a for a in attacks if a.records and a.windows]
    measured = max((a.window_success_rate for a in scored), default=0.0)
    lower = max((success_lower_bound(a.window_successes, a.windows, comparisons=len(scored)) for a in scored), default=0.0)
    examples = {a.attack: str(p.relative_to(root)) for a in attacks if a.records
                for p in sorted((out / "attacks" / a.attack / "plots").glob("*.png"))[:1]}
    return SettingResult(
        name=setting.name, model=setting.model, classes=dataset.num_classes,
        config={k: (v.name.lower() if hasattr(v, "name") else v) for k, v in dataclasses.asdict(setting.config).items()},
        accuracy_before=summary.initial_accuracy,
        accuracy_after=float(np.mean([r.accuracy for r in summary.rounds[-ACCURACY_ROUNDS:]])),
        epsilon=spend.epsilon, epsilon_rdp=spend.epsilon_rdp, delta=spend.delta, privacy_unit=spend.unit,
        kappa=kappa, rero_bound=bound, measured_success=measured, bound_violated=lower > bound + 1e-9,
        measured_success_lower=lower,
        attacks=tuple(attacks), seconds=time.perf_counter() - start, examples=examples,
        enforced=enforcement_of(capture, floor), epsilon_audit=audit, seed=seed,
        epsilon_user=_user_epsilon(setting, turns, params), releases_per_window=releases, participations=turns,
        boards=on, aggregate=setting.aggregate, crafted=setting.craft, inference=inference)


AUDIT_MAX_EPSILON = 30.0
"""Settings whose one release is accounted above this ε are not audited: a game of a hundred rounds cannot bound
ε that high (its Gaussian-DP reading reaches about 30 only when every guess is right by a wide margin)."""


AUDIT_CONFIDENCE = 0.99
"""The study's audits bound ε at 99%: the Gaussian-DP bound is tight, so on a correct device it exceeds the
accounted ε with a few percent chance at 95% and a few in a thousand at 99%."""


def _epsilon_audit(setting: Setting, study: StudyConfig, board, model_path: Path, flags: tuple[str, ...], params: int,
                   progress: Callable[[str], None]) -> AuditResult | None:
    """The membership-game audit of the ε the setting's devices account for one release (docs/privacy.md), for
    settings with Gaussian noise on the update; it plays the release with the setting's clip and σ on a board
    built as the setting's were."""
    c = setting.config
    if not study.audit_canaries or not accountable(c) or c.noise_mode != NoiseMode.UPDATE:
        return None
    grid = make_grid(c.clip_norm, c.noise_multiplier, params)
    if grid is None or epsilon_zcdp(release_rho(grid, 1), 1e-5) > AUDIT_MAX_EPSILON:
        return None
    progress(f"{setting.name}: auditing the devices' epsilon with {study.audit_canaries} canaries")
    result = audit_board(board, model_path, build_flags=flags,
                         plan=AuditPlan(canaries=study.audit_canaries, clip_norm=c.clip_norm,
                                        noise_multiplier=c.noise_multiplier, confidence=AUDIT_CONFIDENCE,
                                        seed=study.seed))
    progress(f"{setting.name}: " + "; ".join(result.lines()[2:]))
    return result


def _write(path: Path, result: SettingResult) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dumps(result))
    tmp.replace(path)


def run_study(study: StudyConfig, out: Path, progress: Callable[[str], None] = lambda _: None,
              boards: BoardSet | None = None) -> list[SettingResult]:
    """Run every setting and seed not already finished in ``out`` on ``boards`` (default: boards.yaml); return every
    setting's result over its seeds (``edgeleak.study.seeds.combine_seeds``)."""
    chosen = _boards(study, boards)  # an unknown board stops the study before anything runs
    dataset = load_dataset(study.dataset)
    out.mkdir(parents=True, exist_ok=True)
    (out / "study.json").write_text(json.dumps(_to_json_config(study), indent=2))
    results = []
    for setting in study.settings:
        folder = out / "settings" / setting.name
        done = folder / RESULT_FILE
        if done.exists():
            progress(f"{setting.name}: already done")
            results.append(read_result(done.read_text()))
            continue
        per_seed = []
        for seed in range(study.seed, study.seed + study.seeds):
            seed_folder = folder / f"seed-{seed}"
            seed_done = seed_folder / RESULT_FILE
            if seed_done.exists():
                per_seed.append(read_result(seed_done.read_text()))
                continue
            seed_folder.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CaptureWarning)
                result = run_setting(setting, study, out, seed_folder, dataset, progress, seed, chosen)
            _write(seed_done, result)
            per_seed.append(result)
        combined = combine_seeds(per_seed)
        _write(done, combined)
        results.append(combined)
    return results


def _to_json_config(study: StudyConfig) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(study), default=lambda v: v.name.lower() if hasattr(v, "name") else float(v)))
