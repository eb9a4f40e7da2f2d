"""Figures of the quantize/build/inference stage: flash and RAM per zoo model on the Cortex-M4F board,
instructions per inference and per MAC under QEMU -icount shift=0, time to quantize and build.

    .venv/bin/python bench/bench_inference.py [--board mps2-an386] [--count 200]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from edgeleak.main_job import format_table, run_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2-an386")
    parser.add_argument("--count", type=int, default=200, help="inputs per model (instruction counts are medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        rows = [run_pipeline(name, Path(out), board_name=args.board, count=args.count) for name in ("imu_cnn", "mlp")]
    print(format_table(args.board, rows))


if __name__ == "__main__":
    main()
