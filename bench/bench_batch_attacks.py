"""Figures of the batch attacks (docs/attacks.md) on the other-wrist task, on updates the numpy oracle makes for
the zoo models (the device is tested equal to it): per batch size, the label accuracy of each label attack against
the blind guess; windows recovered exactly and at r >= 0.9 by neuron exclusivity, by Inverting Gradients seeded
from it, and by the crafted-weights imprint attack, without and with clipping and noise; and property inference on a host-board capture. Prints, asserts
nothing.

    python bench/bench_batch_attacks.py [--batches 12] [--steps 1] [--momentum 0]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from edgeleak.attacks import get_attack  # noqa: E402
from edgeleak.attacks.base import Reconstruction  # noqa: E402
from edgeleak.attacks.imprint import craft_imprint  # noqa: E402
from edgeleak.attacks.simulated import oracle_target  # noqa: E402
from edgeleak.attacks.targets import auxiliary_data, server_knowledge  # noqa: E402
from edgeleak.data import load_dataset  # noqa: E402
from edgeleak.device.model_dir import load_model_dir  # noqa: E402
from edgeleak.fl.features import cut_features  # noqa: E402
from edgeleak.quantize.pipeline import quantize_zoo_model  # noqa: E402
from edgeleak.scoring.metrics import blind_label_accuracy, label_accuracy  # noqa: E402
from edgeleak.scoring.score import score_record  # noqa: E402
from edgeleak.train.config import ClipMode, NoiseKind, TrainConfig  # noqa: E402

LABEL_ATTACKS = ("labels", "llg_star", "ilrg")
LR = 0.05


def batches(task, size: int, count: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.choice(len(task.y_train), size, replace=False) for _ in range(count)]


def target_of(models, task, name, indices, *, head=None, **options):
    """The oracle's update of the windows at ``indices``, the windows the device held and their labels."""
    model, knowledge, own = models[name]
    inputs = model.quantize(task.x_train[indices])
    labels = task.y_train[indices]
    target = oracle_target(knowledge, head or own, cut_features(model, inputs), labels,
                           TrainConfig(learning_rate=LR, **options), seed=0)
    return target, (inputs.astype(np.float32) - model.input_zero_point) * model.input_scale, labels


def window_rs(windows: np.ndarray, reconstructed: np.ndarray | None) -> np.ndarray:
    """Per true window, the r of its matched reconstruction (0 when none), as the scorer counts it."""
    record = score_record(Reconstruction(windows=reconstructed), round_=0, devices=(0,), windows=windows,
                          labels=np.zeros(len(windows), np.int64))
    return np.array(record.window_pearsons) if record.window_pearsons else np.zeros(len(windows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=12, help="batches per batch size (default 12)")
    parser.add_argument("--steps", type=int, default=1, help="local steps per round (default 1)")
    parser.add_argument("--momentum", type=float, default=0.0, help="momentum (default 0)")
    parser.add_argument("--optimization", type=int, default=3,
                        help="batches per size for inverting_gradients_from_analytic (slow; default 3)")
    args = parser.parse_args()
    task = load_dataset("basic_motions_other_wrist")
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("mlp", "imu_cnn"):
            quantize_zoo_model(task, name, Path(tmp) / name)
            model = load_model_dir(Path(tmp) / name)
            models[name] = (model, server_knowledge(model, auxiliary_data(model, task.name)), model.head)
        prior = np.bincount(task.y_train) / len(task.y_train)
        options = {"local_steps": args.steps, "momentum": args.momentum}
        print(f"other-wrist task, {args.batches} batches per size, {args.steps} step(s), momentum {args.momentum:g}")
        print(f"{'model':8} {'batch':>5} " + " ".join(f"{a:>9}" for a in LABEL_ATTACKS) + f" {'blind':>7}"
              f" {'excl exact':>10} {'excl r.9':>8} {'IG exact':>8} {'IG r.9':>7}")
        for name in ("mlp", "imu_cnn"):
            for batch in (1, 4, 16, 32):
                acc = {a: [] for a in LABEL_ATTACKS}
                exact = r90 = total = 0
                for idx in batches(task, batch, args.batches):
                    target, windows, labels = target_of(models, task, name, idx, batch_size=min(batch, 32), **options)
                    for a in LABEL_ATTACKS:
                        acc[a].append(label_accuracy(labels, get_attack(a).run(target).labels))
                    if name == "mlp":
                        rs = window_rs(windows, get_attack("exclusive_neurons").run(target).windows)
                        exact, r90, total = exact + int(np.sum(rs > 0.999)), r90 + int(np.sum(rs >= 0.9)), total + batch
                cells = " ".join(f"{np.mean(acc[a]):9.3f}" for a in LABEL_ATTACKS)
                excl = f" {exact / total:10.3f} {r90 / total:8.3f}" if total else f" {'-':>10} {'-':>8}"
                if name == "mlp" and args.optimization:
                    fit = np.concatenate([window_rs(w, get_attack("inverting_gradients_from_analytic").run(t).windows)
                                          for t, w, _ in (target_of(models, task, name, idx, batch_size=batch, **options)
                                                          for idx in batches(task, batch, args.optimization))])
                    excl += f" {np.mean(fit > 0.999):8.3f} {np.mean(fit >= 0.9):7.3f}"
                print(f"{name:8} {batch:5d} {cells} {blind_label_accuracy(batch, prior):7.3f}{excl}")
        print("\nimprint (crafted weights, mlp): share of windows recovered exactly / at r >= 0.9")
        model, knowledge, head = models["mlp"]
        evil = craft_imprint(head, knowledge.auxiliary.features, seed=1)
        defenses = {"none": {}, "clip C=1": dict(clip_mode=ClipMode.UPDATE, clip_norm=1.0),
                    "clip C=1 + noise σ=0.1": dict(clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                                                   noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.1),
                    "clip C=1 + noise σ=1": dict(clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                                                 noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1.0)}
        for label, defense in defenses.items():
            cells = []
            for batch in (1, 4, 16, 32):
                exact = r90 = 0
                for idx in batches(task, batch, args.batches):
                    target, windows, _ = target_of(models, task, "mlp", idx, head=evil, batch_size=batch, **defense)
                    rs = window_rs(windows, get_attack("imprint").run(target).windows)
                    exact, r90 = exact + int(np.sum(rs > 0.999)), r90 + int(np.sum(rs >= 0.9))
                n = batch * args.batches
                cells.append(f"B={batch}: {exact / n:.2f}/{r90 / n:.2f}")
            print(f"  {label:24} " + "  ".join(cells))
        _wearers(models, task, Path(tmp))


def _wearers(models, task, tmp: Path) -> None:
    from edgeleak.attacks.inference import infer_from_capture
    from edgeleak.boards import load_boards
    from edgeleak.fl.session import SessionPlan, run_session

    print("\nproperty inference on host-board captures (mlp, 8 devices, 10 rounds, 4 samples per round, batch 4)")
    for partition in ("iid", "by-class"):
        plan = SessionPlan(devices=8, rounds=10, config=TrainConfig(learning_rate=0.05, batch_size=4),
                           samples_per_round=4, partition=partition, seed=0)
        start = time.perf_counter()
        run_session(load_boards().get("host"), models["mlp"][0], task, plan, tmp / f"cap-{partition}")
        mix, who = infer_from_capture(tmp / f"cap-{partition}")
        print(f"  {partition:8} dominant activity {mix.accuracy:.2f} (chance {mix.chance:.2f}), mix L1 {mix.error:.2f} "
              f"(prior {mix.chance_error:.2f}); identity {who.accuracy:.2f} (chance {who.chance:.2f}) "
              f"[{time.perf_counter() - start:.0f} s]")


if __name__ == "__main__":
    main()
