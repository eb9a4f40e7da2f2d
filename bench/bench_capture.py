"""Figures of the host side: seconds per round and updates per second on the host board and on QEMU, link bytes
per device-round for each update encoding (payload against wire per encoding: bench_training.py), and how many
emulated boards run side by side on this machine.

    .venv/bin/python bench/bench_capture.py [--model mlp] [--boards 1,2,4,8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from edgeleak.boards import load_boards
from edgeleak.data import load_dataset
from edgeleak.device.model_dir import load_model_dir
from edgeleak.fl.session import SessionPlan, run_session
from edgeleak.quantize.pipeline import quantize_zoo_model
from edgeleak.train.config import Encoding, TrainConfig


def session_figures(board: str, model_dir: Path, data, devices: int, rounds: int, encoding: Encoding, out: Path) -> str:
    plan = SessionPlan(devices=devices, rounds=rounds, samples_per_round=4,
                       config=TrainConfig(learning_rate=0.05, batch_size=4, encoding=encoding))
    start = time.perf_counter()
    summary = run_session(load_boards().get(board), load_model_dir(model_dir), data, plan, out)
    seconds = time.perf_counter() - start
    per_round = sum(r.seconds for r in summary.rounds) / len(summary.rounds)
    wire = sum(r.wire_bytes for r in summary.rounds) / (devices * rounds)
    return (f"{board:<11} {devices:>2} boards {encoding.name.lower():<8} {per_round:6.2f} s/round "
            f"{summary.updates / sum(r.seconds for r in summary.rounds):6.2f} updates/s  "
            f"link bytes per device-round {wire:>8,.0f} (both directions)  total {seconds:5.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--boards", default="1,2,4,8", help="QEMU boards side by side to try")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = load_dataset("basic_motions")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / args.model
        quantize_zoo_model(data, args.model, model_dir)
        k = 0
        for board in ("host", "mps2-an386"):
            for encoding in (Encoding.FLOAT32, Encoding.FLOAT16, Encoding.INT8):
                k += 1
                print(session_figures(board, model_dir, data, 2, args.rounds, encoding, Path(tmp) / f"c{k}"), flush=True)
        for n in (int(v) for v in args.boards.split(",")):
            k += 1
            print(session_figures("mps2-an386", model_dir, data, n, args.rounds, Encoding.FLOAT32, Path(tmp) / f"c{k}"), flush=True)


if __name__ == "__main__":
    main()
