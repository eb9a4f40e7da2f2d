"""Figures of the attack harness on captures from the emulated board: records per second of the analytic attack,
seconds per record of the optimization attacks, and the quality they reach (Pearson r, label accuracy).

    .venv/bin/python bench/bench_attacks.py [--board mps2-an386]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from edgeleak.attacks.runner import run_attack
from edgeleak.boards import load_boards
from edgeleak.data import load_dataset
from edgeleak.device.model_dir import load_model_dir
from edgeleak.fl.session import SessionPlan, run_session
from edgeleak.quantize.pipeline import quantize_zoo_model
from edgeleak.train.config import TrainConfig

CASES = [  # (name, model, samples, config, attacks)
    ("mlp b1 k1", "mlp", 1, TrainConfig(learning_rate=0.05), ("analytic", "labels")),
    ("mlp b1 k3", "mlp", 1, TrainConfig(learning_rate=0.05, local_steps=3), ("inverting_gradients", "dlg")),
    ("mlp b2 k2", "mlp", 2, TrainConfig(learning_rate=0.05, batch_size=2, local_steps=2), ("inverting_gradients", "dlg")),
    ("imu_cnn b1 k1", "imu_cnn", 1, TrainConfig(learning_rate=0.05), ("analytic", "feature_inversion")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    data = load_dataset("basic_motions")
    board = load_boards().get(args.board)
    with tempfile.TemporaryDirectory() as tmp:
        models = {}
        for k, (name, model, samples, config, attacks) in enumerate(CASES):
            if model not in models:
                models[model] = Path(tmp) / model
                quantize_zoo_model(data, model, models[model], epochs=2)
            capture = Path(tmp) / f"capture{k}"
            run_session(board, load_model_dir(models[model]), data,
                        SessionPlan(devices=args.devices, rounds=args.rounds, config=config, samples_per_round=samples), capture)
            for attack in attacks:
                run = run_attack(capture, attack, Path(tmp) / f"attack{k}-{attack}", plots=0)
                s = run.summary
                print(f"{name:<14} {attack:<20} {s.records:>2} records  {run.records_per_second:8.2f} records/s "
                      f"({run.seconds / max(1, s.records):6.2f} s/record)  Pearson r {s.pearson[0]:.3f}  "
                      f"labels {s.label_accuracy[0]:.2f}  features err {s.feature_error[0]:.2g}  success {s.success_rate:.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
