"""Run the loader/kernels on corrupted artifacts inside a sanitizer-instrumented build.

Invoked as a script by test_sanitized.py (ASan must be preloaded into the interpreter process);
argv: path of the instrumented library, number of mutations, seed.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.conftest import Engine  # noqa: E402
from engine.elm_builder import fc_softmax_model, fix_crc  # noqa: E402


def main() -> int:
    lib, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    engine = Engine(ctypes.CDLL(lib))
    rng = np.random.default_rng(seed)
    art, _ = fc_softmax_model(seed)
    loaded = 0
    for _ in range(count):
        b = bytearray(art)
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(48, len(b)))
            b[pos] = int(rng.integers(0, 256))
        status, keep = engine.load(fix_crc(bytes(b)))
        if status == 0:
            loaded += 1
            engine.run(rng.integers(-128, 128, 12, dtype=np.int8))
        del keep
    print(f"fuzz ok: {loaded}/{count} loaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
