"""A minimal, independent writer of the artifact format (docs/model-format.md) for loader tests."""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

TYPE = {"int8": 1, "int32": 2, "float32": 3}
SIZE = {"int8": 1, "int32": 4, "float32": 4}


@dataclass
class T:
    type: str
    shape: tuple
    const: np.ndarray | None = None
    arena_offset: int = 0
    scale: float = 1.0
    zero_point: int = 0


@dataclass
class Op:
    opcode: int
    inputs: list
    output: int
    p: list = field(default_factory=lambda: [0] * 15)
    mult: list = field(default_factory=list)
    shift: list = field(default_factory=list)


def build(tensors: list[T], ops: list[Op], arena_size: int, inp: int, out: int, cut: int = 0xFFFF) -> bytes:
    data = bytearray()

    def add(b: bytes) -> int:
        while len(data) % 16:
            data.append(0)
        off = len(data)
        data.extend(b)
        return off

    trec = bytearray()
    for t in tensors:
        count = int(np.prod(t.shape)) if t.shape else 1
        off = add(np.ascontiguousarray(t.const).tobytes()) if t.const is not None else t.arena_offset
        dims = list(t.shape) + [1] * (4 - len(t.shape))
        trec += struct.pack("<BBBB4iIIfiIII", TYPE[t.type], len(t.shape), 1 if t.const is not None else 0, 0, *dims,
                            off, count * SIZE[t.type], t.scale, t.zero_point, 0, 0, 0)
    orec = bytearray()
    for op in ops:
        qoff = add(np.asarray(op.mult + op.shift, dtype="<i4").tobytes()) if op.mult else 0
        ins = list(op.inputs) + [0xFFFF] * (3 - len(op.inputs))
        orec += struct.pack("<BBH3HHII15i", op.opcode, len(op.inputs), 0, *ins, op.output, qoff, len(op.mult), *op.p)
    sections = [(b"TENS", bytes(trec)), (b"OPS ", bytes(orec)), (b"DATA", bytes(data))]
    cursor = 64 + 12 * len(sections)
    table, body = bytearray(), bytearray()
    for tag, content in sections:
        pad = (-cursor) % 4
        body += b"\0" * pad
        cursor += pad
        table += struct.pack("<4sII", tag, cursor, len(content))
        body += content
        cursor += len(content)
    payload = bytes(table + body)
    header = struct.pack("<4sHHII32sHHIHHHH", b"ELMA", 1, 64, 64 + len(payload), zlib.crc32(payload),
                         hashlib.sha256(payload).digest(), len(tensors), len(ops), arena_size, inp, out, cut, len(sections))
    return header + payload


def fix_crc(artifact: bytes) -> bytes:
    """Recompute the CRC of a (possibly mutated) artifact over bytes [64, total)."""
    b = bytearray(artifact)
    total = min(int.from_bytes(b[8:12], "little"), len(b))
    b[12:16] = struct.pack("<I", zlib.crc32(bytes(b[64:total])) if total >= 64 else 0)
    return bytes(b)


def fc_softmax_model(seed: int = 0):
    """int8 [1, 12] -> FULLY_CONNECTED(6, per-channel, ReLU clamp) -> SOFTMAX. Returns (artifact, reference fn)."""
    from .tflm_ref import mbqm_np, quantize_multiplier

    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (6, 12), dtype=np.int8)
    b = rng.integers(-3000, 3000, 6).astype(np.int32)
    pairs = [quantize_multiplier(v) for v in rng.uniform(0.002, 0.01, 6)]
    mult, shift = [m for m, _ in pairs], [s for _, s in pairs]
    in_zp, fc_zp = 5, -20
    tensors = [
        T("int8", (1, 12), arena_offset=0, scale=0.05, zero_point=in_zp),
        T("int8", (6, 12), const=w, scale=0.01),
        T("int32", (6,), const=b, scale=0.0005),
        T("int8", (1, 6), arena_offset=16, scale=0.1, zero_point=fc_zp),
        T("int8", (1, 6), arena_offset=32, scale=1 / 256, zero_point=-128),
    ]
    p_fc = [-in_zp, fc_zp, fc_zp, 127, 12, 6] + [0] * 9
    sm_mult, sm_shift = quantize_multiplier(0.1 * (1 << 26))
    diff_min = -int(np.floor(31 * (1 << 26) / (1 << sm_shift)))
    p_sm = [sm_mult, sm_shift, diff_min] + [0] * 12
    ops = [Op(1, [0, 1, 2], 3, p_fc, mult, shift), Op(10, [3], 4, p_sm)]
    art = build(tensors, ops, 48, 0, 4)

    def ref_fc(x: np.ndarray) -> np.ndarray:
        acc = (x.astype(np.int64).reshape(1, 12) - in_zp) @ w.astype(np.int64).T + b
        return np.clip(mbqm_np(acc, np.array(mult), np.array(shift)) + fc_zp, fc_zp, 127).astype(np.int8).reshape(-1)

    return art, ref_fc
