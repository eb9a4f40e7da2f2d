"""Run one attack over a capture, score it against the ground truth, write reconstructions, scores, plots."""

from __future__ import annotations

import csv
import dataclasses
import functools
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak import strict_json
from edgeleak.attacks.base import get_attack
from edgeleak.attacks.targets import (aggregate_targets, auxiliary_data, capture_dataset, capture_model, server_knowledge,
                                      update_targets)
from edgeleak.capture.records import CaptureWarning, read_records
from edgeleak.capture.store import TRUTH_FILE, TruthRecord, load_capture
from edgeleak.core.model import DatasetSource, ModelDir
from edgeleak.data.user_files import DataFileError
from edgeleak.errors import EdgeleakError, NotApplicable
from edgeleak.fl.features import cut_features
from edgeleak.scoring.plots import plot_overlay
from edgeleak.scoring.score import RecordScore, ScoreSummary, score_record, summarise


@dataclass(frozen=True)
class AttackRun:
    attack: str
    scores: tuple[RecordScore, ...]
    skipped: tuple[str, ...]  # why targets were not attacked
    summary: ScoreSummary
    seconds: float

    @property
    def records_per_second(self) -> float:
        return len(self.scores) / self.seconds if self.seconds > 0 else 0.0


def _truth(capture, truth_path: Path | None) -> dict[tuple[int, int], TruthRecord]:
    if truth_path is not None:
        records = [TruthRecord(r.meta["device"], r.meta["round"], r.arrays["inputs"], r.arrays["windows"], r.arrays["labels"])
                   for r in read_records(truth_path, "truth")]
    else:
        records = capture.truth()
    return {(t.device, t.round): t for t in records}


@functools.lru_cache(maxsize=4)
def _train_labels(source: DatasetSource) -> np.ndarray:
    from edgeleak.data import load_dataset

    return load_dataset(source).y_train


def _class_prior(capture, model: ModelDir, truth: dict) -> np.ndarray | None:
    """The label distribution the devices' batches are drawn from, as the server knows it: the training labels of
    the capture's data set (public), else the labels of the ground truth itself."""
    source = capture_dataset(model, capture.session)
    try:
        labels = _train_labels(source) if source else None
    except DataFileError:
        raise
    except EdgeleakError:
        labels = None
    if labels is None:
        labels = np.concatenate([r.labels for r in truth.values()]) if truth else np.zeros(0, np.int64)
    return np.bincount(np.asarray(labels, np.int64)) / len(labels) if len(labels) else None


@functools.lru_cache(maxsize=4)
def _classifier(model_path: Path):
    keras_path = model_path / "model.keras"
    if not keras_path.exists():
        return None
    import keras

    model = keras.models.load_model(keras_path)
    return lambda windows: np.argmax(np.asarray(model(windows.astype(np.float32), training=False)), axis=1)


def run_attack(capture_path: Path, attack_name: str, out: Path, *, truth_path: Path | None = None, aggregate: bool = False,
               model_path: Path | None = None, plots: int = 6, options: dict | None = None,
               limit: int | None = None) -> AttackRun:
    """Attack every applicable target (at most ``limit``), score each against the truth, write the results."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureWarning)
        capture = load_capture(capture_path)
        if truth_path is None and not (capture_path / TRUTH_FILE).exists():
            raise EdgeleakError(f"{capture_path} has no ground truth to score against; pass --truth FILE")
        truth = _truth(capture, truth_path)
    model = capture_model(capture, model_path)
    knowledge = server_knowledge(model, auxiliary_data(model, capture_dataset(model, capture.session)))
    attack = get_attack(attack_name, **(options or {}))
    targets = aggregate_targets(capture, knowledge) if aggregate else update_targets(capture, knowledge)
    classify = _classifier(model.path)
    channel_names = tuple(capture.session.get("channel_names", ()))
    out.mkdir(parents=True, exist_ok=True)
    (out / "plots").mkdir(exist_ok=True)
    scores, skipped, saved, true_counts = [], [], {}, []
    class_probs = _class_prior(capture, model, truth)
    start = time.perf_counter()
    for target in targets:
        if limit is not None and len(scores) >= limit:
            break
        reason = attack.applicable(target)
        where = f"round {target.target['round']} devices {target.target['devices']}"
        if reason:
            skipped.append(f"{where}: {reason}")
            continue
        parts = [truth.get((d, target.target["round"])) for d in target.target["devices"]]
        if any(p is None for p in parts):
            raise EdgeleakError(f"the ground truth lacks {where}")
        # The private data is the window the device held: the int8 input, in the data set's normalised units.
        inputs = np.concatenate([p.inputs for p in parts])
        windows = ((inputs.astype(np.float32) - knowledge.input_zero_point) * np.float32(knowledge.input_scale)).astype(np.float32)
        labels = np.concatenate([p.labels for p in parts])
        result = attack.run(target)
        features = cut_features(model, inputs) if result.features is not None else None
        score = score_record(result, round_=target.target["round"], devices=tuple(target.target["devices"]), windows=windows,
                             labels=labels, features=features, classify=classify, image=capture.session.get("dataset") == "digits",
                             class_probs=class_probs)
        scores.append(score)
        true_counts.append(np.bincount(labels, minlength=knowledge.num_classes))
        key = f"r{score.round}_d{'-'.join(map(str, score.devices))}"
        if result.windows is not None:
            saved[f"{key}_windows"] = result.windows
            if len(scores) <= plots and len(result.windows):
                from edgeleak.scoring.metrics import match_reconstructions

                oi, ri = match_reconstructions(windows, result.windows)[0]
                plot_overlay(windows[oi], result.windows[ri], channel_names, f"{attack_name}, {where}: Pearson r "
                             f"{score.pearson:.3f}", out / "plots" / f"{key}.png")
        if result.features is not None:
            saved[f"{key}_features"] = result.features
        if result.labels is not None:
            saved[f"{key}_labels"] = result.labels
    seconds = time.perf_counter() - start
    scores = _rebaseline(scores, true_counts)
    if not scores:
        reason = skipped[0] if skipped else "empty capture"
        raise NotApplicable(f"attack {attack_name} applies to no update in {capture_path}: {reason}", reason)
    run = AttackRun(attack_name, tuple(scores), tuple(skipped), summarise(scores), seconds)
    _write(out, run, saved)
    return run


HINDSIGHT_BATCHES = 20  # batches of one size from which the blind baseline is the best fixed guess in hindsight


def _rebaseline(scores: list[RecordScore], counts: list[np.ndarray]) -> list[RecordScore]:
    """The blind baseline of records with labels, from the batches themselves: the best fixed guess of counts in
    hindsight over this run's batches of the same size (``metrics.hindsight_label_accuracy``), an upper bound on any
    guess that ignores the update. The independent-draws formula (``blind_label_accuracy``) is right only when a
    batch's labels are independent; a device's batches hold windows recorded in a row, mostly of one activity, and
    no blind guess reaches that formula on them. Under 20 batches of a size the hindsight guess fits the truth
    itself, and the formula stays."""
    from edgeleak.scoring.metrics import hindsight_label_accuracy

    by_size: dict[int, list[int]] = {}
    for i, s in enumerate(scores):
        if s.label_baseline is not None:
            by_size.setdefault(s.samples, []).append(i)
    out = list(scores)
    for members in by_size.values():
        if len(members) < HINDSIGHT_BATCHES:
            continue
        hindsight = hindsight_label_accuracy(np.array([counts[i] for i in members]))
        for i in members:
            out[i] = dataclasses.replace(out[i], label_baseline=hindsight)
    return out


def _write(out: Path, run: AttackRun, saved: dict[str, np.ndarray]) -> None:
    np.savez_compressed(out / "reconstructions.npz", **saved)
    rows = [dataclasses.asdict(s) for s in run.scores]
    (out / "scores.json").write_text(strict_json.dumps({"attack": run.attack, "summary": dataclasses.asdict(run.summary),
                                                 "records": rows, "skipped": list(run.skipped),
                                                 "seconds": run.seconds}, indent=2, default=float))
    with open(out / "scores.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (" ".join(f"{x:.4f}" for x in v) if isinstance(v, tuple) else v) for k, v in row.items()})
