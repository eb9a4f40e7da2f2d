"""Figures of on-device training on the emulated Cortex-M4F board: static RAM and stack high-water
while training, instructions per training sample under QEMU -icount shift=0, the instructions a noisy
round adds (discrete Gaussian sampler, grid rounding and the privacy accountant), and UPDATE bytes on
the wire versus payload for each encoding. Built as a testing build, the only kind that reports ticks.

    .venv/bin/python bench/bench_training.py [--board mps2-an386] [--samples 8] [--no-momentum]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from edgeleak.boards import load_boards
from edgeleak.data import load_dataset
from edgeleak.device.build import build_for_model
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.device.infer import instructions_from_ticks
from edgeleak.quantize.pipeline import quantize_zoo_model
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify, TrainConfig
from edgeleak.train.update import _META_V2_LEN as META

ENCODINGS = [("float32", Encoding.FLOAT32, Sparsify.NONE), ("float16", Encoding.FLOAT16, Sparsify.NONE),
             ("int8", Encoding.INT8, Sparsify.NONE), ("float32 top-10%", Encoding.FLOAT32, Sparsify.TOP_K),
             ("int8 top-10%", Encoding.INT8, Sparsify.TOP_K)]


def measure(model_dir: Path, board_name: str, samples: int, no_momentum: bool = False) -> list[str]:
    board = load_boards().get(board_name)
    data = load_dataset("basic_motions")
    model = load_model_dir(model_dir)
    testing = ("-DEL_TESTING_BUILD=1",) + (("-DEL_TRAIN_NO_MOMENTUM=1",) if no_momentum else ())
    build, _ = build_for_model(board, model_dir, flags=testing)
    inputs = model.quantize(data.x_train[:samples])
    lines = []
    with open_device(board, model, icount=board.kind == "qemu", build_flags=testing) as session:
        client = session.client
        for x, y in zip(inputs, data.y_train[:samples]):
            client.add_sample(int(y), x.tobytes())
        client.configure(TrainConfig(learning_rate=0.05, batch_size=samples, local_steps=1))
        update = client.train()
        stats = client.stats()
        per_sample = instructions_from_ticks(update.meta.ticks, session.info.tick_hz) / samples
        lines.append(f"{model_dir.name}: {session.info.trainable_params:,} trainable parameters; static RAM "
                     f"{build.static_ram_bytes:,} B (incl. the reserved stack), stack high-water {stats.stack_high_water:,} B "
                     f"of {stats.stack_size:,} B; {per_sample:,.0f} instructions per training sample (one step, batch {samples})")
        clean = instructions_from_ticks(update.meta.ticks, session.info.tick_hz)
        params = session.info.trainable_params
        for name, extra in (("Gaussian on the update", {}),
                            ("DP-SGD, 1 step", {"clip_mode": ClipMode.PER_EXAMPLE, "noise_mode": NoiseMode.STEP})):
            fields = {"clip_mode": ClipMode.UPDATE, **extra}
            client.configure(TrainConfig(learning_rate=0.05, batch_size=samples, local_steps=1, clip_norm=1.0,
                                         noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1.0, **fields))
            noisy = instructions_from_ticks(client.train().meta.ticks, session.info.tick_hz)
            lines.append(f"  noisy round ({name}): {noisy - clean:+,.0f} instructions over the clean round, "
                         f"{(noisy - clean) / params:,.0f} per parameter (sampler, grid, accountant)")
        for name, encoding, sparsify in ENCODINGS:
            client.configure(TrainConfig(learning_rate=0.05, batch_size=samples, encoding=encoding, sparsify=sparsify,
                                         sparsify_fraction=0.1))
            before = client.counters.bytes_received
            update = client.train()
            wire = client.counters.bytes_received - before
            lines.append(f"  UPDATE {name:<16} payload {update.payload_bytes + META:>7,} B, on the wire {wire:>7,} B "
                         f"({100 * (update.payload_bytes + META) / wire:.0f}% efficient)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--no-momentum", action="store_true", help="a build without momentum (EL_TRAIN_NO_MOMENTUM)")
    args = parser.parse_args()
    data = load_dataset("basic_motions")
    with tempfile.TemporaryDirectory() as out:
        for name in ("imu_cnn", "mlp"):
            quantize_zoo_model(data, name, Path(out) / name)
            print("\n".join(measure(Path(out) / name, args.board, args.samples, args.no_momentum)))


if __name__ == "__main__":
    main()
