"""Figures of the link under damage: inferences and training rounds through a fault:// link that drops, flips and
duplicates bytes (each at the given rate, both directions): throughput, retries, bad frames, outcome.

    .venv/bin/python bench/bench_link.py [--board host] [--zoo imu_cnn|mlp] [--count 1000] [--rounds 20]
                                         [--rates 0,1e-4,1e-3]

Inferences are compared with TFLite Micro. Training runs on a testing build with a seeded configuration, so a
round's update is a function of its inputs alone: every update captured through a damaged link is compared with the
same session's update through a clean one ("identical"), which counts silent corruptions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak.boards import load_boards
from edgeleak.capture.store import load_capture
from edgeleak.core.model import ModelDir
from edgeleak.data import load_dataset
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.device.verify import reference_outputs, verification_inputs
from edgeleak.errors import EdgeleakError
from edgeleak.fl.session import SessionPlan, run_session
from edgeleak.link.faults import FaultReport, FaultSpec
from edgeleak.link.retry import LinkCounters
from edgeleak.quantize.pipeline import quantize_zoo_model
from edgeleak.train.config import TrainConfig


@dataclass(frozen=True)
class LinkFigures:
    workload: str
    rate: float
    done: int  # inferences or rounds completed
    asked: int
    seconds: float
    exact: int | None  # inferences identical to TFLite Micro
    counters: LinkCounters
    damage: FaultReport | None  # bytes damaged by the fault link (inference only: the session closes its ports)
    outcome: str

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


def inference_figures(board_name: str, model: ModelDir, windows: np.ndarray, count: int, rate: float, seed: int) -> LinkFigures:
    from edgeleak.reference.interpreters import TflmReference

    inputs = verification_inputs(model, windows, count)
    expected = reference_outputs(TflmReference(model.tflite), inputs)
    spec = FaultSpec(flip=rate, drop=rate, dup=rate, seed=seed)
    exact = done = 0
    outcome = "ok"
    with open_device(load_boards().get(board_name), model, faults=spec) as session:
        client = session.client
        start = time.perf_counter()
        try:
            for x, y in zip(inputs, expected):
                output = np.frombuffer(client.infer(x.tobytes()).output, np.int8)
                exact += int(np.array_equal(output, y.reshape(-1)))
                done += 1
        except EdgeleakError as exc:
            outcome = f"stopped: {exc}"
        seconds = time.perf_counter() - start
        damage = client.port.faults
        counters = client.counters
    return LinkFigures("inference", rate, done, count, seconds, exact, counters, damage, outcome)


def training_figures(board_name: str, model: ModelDir, data, rounds: int, devices: int, rate: float, seed: int,
                     out: Path, clean: Path | None) -> LinkFigures:
    """A session through the damaging link; with ``clean`` (the capture of the same session through a clean link),
    every captured update is compared with the clean one."""
    plan = SessionPlan(devices=devices, rounds=rounds, samples_per_round=8, build_flags=("-DEL_TESTING_BUILD=1",),
                       config=TrainConfig(learning_rate=0.05, batch_size=4, seed=1234),
                       faults=FaultSpec(flip=rate, drop=rate, dup=rate, seed=seed) if rate else None)
    start = time.perf_counter()
    try:
        summary = run_session(load_boards().get(board_name), model, data, plan, out)
    except EdgeleakError as exc:
        return LinkFigures("training", rate, 0, rounds, time.perf_counter() - start, None, LinkCounters(), None,
                           f"stopped: {exc}")
    seconds = sum(r.seconds for r in summary.rounds)
    redone = sum(r.redone for r in summary.rounds)
    captured = load_capture(out).updates
    once = len({(u.device, u.round) for u in captured}) == len(captured)
    outcome = f"{len(captured)}/{rounds * devices} updates captured{'' if once else ' (some twice)'}, {redone} rounds redone"
    exact = None
    if clean is not None:
        reference = {(u.device, u.round): u.tensors for u in load_capture(clean).updates}
        exact = sum(all(np.array_equal(a, b) for a, b in zip(u.tensors, reference.get((u.device, u.round), ())))
                    and (u.device, u.round) in reference for u in captured)
    return LinkFigures("training", rate, len(summary.rounds), rounds, seconds, exact, summary.link, None, outcome)


def format_table(board: str, model: str, rows: list[LinkFigures]) -> str:
    lines = [f"board {board}, model {model}; damage: per byte, each of flip, drop and dup, both directions",
             "| workload | damage | done | per second | identical | retries | bad frames | E_CRC | timeouts | parts fetched "
             "| bytes damaged (to / from device) | outcome |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rate = f"{r.rate:g}" if r.rate else "0"
        unit = "inferences/s" if r.workload == "inference" else "rounds/s"
        exact = "-" if r.exact is None else f"{r.exact}/{r.done}" if r.workload == "inference" else f"{r.exact} updates"
        damage = f"{r.damage.written.damaged:,} / {r.damage.read.damaged:,}" if r.damage else "-"
        c = r.counters
        lines.append(f"| {r.workload} | {rate} | {r.done}/{r.asked} | {r.per_second:,.2f} {unit} | {exact} | "
                     f"{c.retransmissions:,} | {c.bad_frames:,} | {c.device_crc_errors:,} | {c.timeouts:,} | "
                     f"{c.fetched_replies:,} | {damage} | {r.outcome} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="host", help="host (default) or a QEMU board")
    parser.add_argument("--model", help="model directory (default: quantize the --zoo model)")
    parser.add_argument("--zoo", default="imu_cnn", help="zoo model to quantize: imu_cnn (default; a 1.9 KB head) or "
                        "mlp (a 38 KB head: LOAD_WEIGHTS and UPDATE of many chunks)")
    parser.add_argument("--count", type=int, default=1000, help="inferences per damage rate")
    parser.add_argument("--rounds", type=int, default=20, help="training rounds per damage rate")
    parser.add_argument("--devices", type=int, default=1, help="boards in the training session")
    parser.add_argument("--rates", default="0,1e-4,1e-3", help="damage rates to try, comma-separated")
    parser.add_argument("--seed", type=int, default=1, help="seed of the damage")
    args = parser.parse_args()
    data = load_dataset("basic_motions")
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as out:
        model_dir = Path(args.model) if args.model else Path(out) / args.zoo
        if not args.model:
            quantize_zoo_model(data, args.zoo, model_dir)
        model = load_model_dir(model_dir)
        rows = [inference_figures(args.board, model, data.x_test, args.count, rate, args.seed) for rate in rates]
        clean = Path(out) / "capture-clean"
        training_figures(args.board, model, data, args.rounds, args.devices, 0.0, args.seed, clean, None)
        rows += [training_figures(args.board, model, data, args.rounds, args.devices, rate, args.seed,
                                  Path(out) / f"capture-{k}", clean) for k, rate in enumerate(rates)]
    print(format_table(args.board, model_dir.name, rows))


if __name__ == "__main__":
    main()
