"""A hand-written 8 -> 4 int8 fully-connected model artifact (docs/model-format.md), for firmware tests.

Independent of the quantize pipeline so firmware tests run without TensorFlow.
Output: out[j] = clamp(sum_i w[j][i] * x[i] + b[j]) * 0.5 (multiplier 2^30, shift 0), with
w[j][i] = 1 when i // 2 == j, else 0, and b = 0: out[j] = (x[2j] + x[2j+1]) / 2, rounded.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

from edgeleak.quantize import op_spec
from edgeleak.quantize.codegen import TrainingBuffers, training_buffers_c

INPUT_SIZE = 8
OUTPUT_SIZE = 4
ARENA_SIZE = 32


def _tensor(type_: int, dims: tuple[int, ...], const: bool, offset: int, size: int, scale: float = 1.0) -> bytes:
    padded = tuple(dims) + (1,) * (4 - len(dims))
    return struct.pack("<BBBB4iIIfiIII", type_, len(dims), 1 if const else 0, 0, *padded, offset, size, scale, 0, 0, 0, 0)


def tiny_artifact() -> bytes:
    weights = bytes(1 if i // 2 == j else 0 for j in range(OUTPUT_SIZE) for i in range(INPUT_SIZE))
    bias = struct.pack("<4i", 0, 0, 0, 0)
    mult = struct.pack("<ii", 1 << 30, 0)
    data = weights + bias + mult  # weights @0 (32), bias @32 (16), multiplier/shift @48 (8)
    tens = b"".join([
        _tensor(1, (1, INPUT_SIZE), False, 0, INPUT_SIZE),
        _tensor(1, (OUTPUT_SIZE, INPUT_SIZE), True, 0, 32),
        _tensor(2, (OUTPUT_SIZE,), True, 32, 16),
        _tensor(1, (1, OUTPUT_SIZE), False, 16, OUTPUT_SIZE, 0.5),
    ])
    params = op_spec.pack(op_spec.FC, input_offset=0, output_offset=0, act_min=-128, act_max=127,
                          accum_depth=INPUT_SIZE, out_depth=OUTPUT_SIZE)
    ops = struct.pack("<BBH3HHII15i", op_spec.OPCODES["FULLY_CONNECTED"], 3, 0, 0, 1, 2, 3, 48, 1, *params)
    n_sections = 3
    body_start = 64 + 12 * n_sections
    sections = []
    blobs = b""
    offset = body_start
    for tag, blob in ((b"TENS", tens), (b"OPS ", ops), (b"DATA", data)):
        sections.append(struct.pack("<4sII", tag, offset, len(blob)))
        pad = (-len(blob)) % 4
        blobs += blob + b"\0" * pad
        offset += len(blob) + pad
    rest = b"".join(sections) + blobs
    total = 64 + len(rest)
    header = struct.pack("<4sHHII32sHHIHHHH", b"ELMA", 1, 64, total, zlib.crc32(rest),
                         hashlib.sha256(rest).digest(), 4, 1, ARENA_SIZE, 0, 3, 0xFFFF, n_sections)
    assert len(header) == 64
    return header + rest


def artifact_c_source(artifact: bytes, arena_size: int = ARENA_SIZE) -> str:
    rows = ",\n".join("  " + ", ".join("0x%02x" % b for b in artifact[i:i + 16]) for i in range(0, len(artifact), 16))
    return (
        "#include <stdint.h>\n"
        "__attribute__((aligned(16))) const uint8_t el_model_artifact[%d] = {\n%s\n};\n"
        "const uint32_t el_model_artifact_len = %du;\n"
        "__attribute__((aligned(16))) uint8_t el_model_arena[%d];\n"
        "const uint32_t el_model_arena_len = %du;\n" % (len(artifact), rows, len(artifact), arena_size, arena_size)
        + "\n".join(training_buffers_c(TrainingBuffers(0, 0, 0))) + "\n"  # no HEAD: nothing trains
    )


def write_tiny_model_c(path: Path, *, arena_size: int = ARENA_SIZE) -> Path:
    path.write_text(artifact_c_source(tiny_artifact(), arena_size), encoding="utf-8")
    return path


def expected_output(x: bytes) -> bytes:
    """What the tiny model computes for an 8-byte int8 input (TFLite rounding: halves round toward +inf)."""
    vals = struct.unpack("<8b", x)
    out = []
    for j in range(OUTPUT_SIZE):
        acc = vals[2 * j] + vals[2 * j + 1]
        q = (acc + 1) // 2  # TFLite's rounding doubling high multiply by 2^30: halves round up
        out.append(max(-128, min(127, q)))
    return struct.pack("<4b", *out)
