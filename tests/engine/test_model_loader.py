"""el_model_load on valid, truncated and corrupted artifacts: every bad artifact gets a status, never a crash."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from .elm_builder import T, Op, build, fc_softmax_model, fix_crc

EL_OK, EL_ERR_ARG, EL_ERR_MAGIC, EL_ERR_VERSION, EL_ERR_CRC, EL_ERR_BOUNDS, EL_ERR_UNSUPPORTED, EL_ERR_ARENA, EL_ERR_SHAPE = range(9)


def _patch(art: bytes, offset: int, fmt: str, value) -> bytes:
    b = bytearray(art)
    struct.pack_into(fmt, b, offset, value)
    return fix_crc(bytes(b))


def _section(art: bytes, tag: bytes) -> tuple[int, int]:
    for i in range(int.from_bytes(art[62:64], "little")):
        t, off, size = struct.unpack_from("<4sII", art, 64 + 12 * i)
        if t == tag:
            return off, size
    raise KeyError(tag)


def test_valid_artifact_runs(engine):
    art, ref_fc = fc_softmax_model()
    status, keep = engine.load(art)
    assert status == EL_OK
    assert [engine.t_model_field(i) for i in range(6)] == [5, 2, 48, 0, 4, 0xFFFF]
    rng = np.random.default_rng(1)
    for _ in range(20):
        x = rng.integers(-128, 128, 12, dtype=np.int8)
        status, fc_out = engine.run(x, n_ops=1, which=3)
        assert status == EL_OK
        assert np.frombuffer(fc_out, dtype=np.int8).tolist() == ref_fc(x).tolist()
        status, out = engine.run(x)
        assert status == EL_OK and len(out) == 6
        probs = np.frombuffer(out, dtype=np.int8).astype(int) + 128
        assert abs(probs.sum() - 256) <= 6  # the int8 softmax sums to ~1
    assert engine.run(np.zeros(12, np.int8), n_ops=3)[0] == EL_ERR_ARG


def test_header_errors(engine):
    art, _ = fc_softmax_model()
    assert engine.load(b"ELMB" + art[4:])[0] == EL_ERR_MAGIC
    assert engine.load(_patch(art, 4, "<H", 2))[0] == EL_ERR_VERSION
    bad_crc = bytearray(art)
    bad_crc[100] ^= 1
    assert engine.load(bytes(bad_crc))[0] == EL_ERR_CRC
    assert engine.load(_patch(art, 48, "<H", 65))[0] == EL_ERR_BOUNDS  # more tensors than the limit
    assert engine.load(_patch(art, 50, "<H", 65))[0] == EL_ERR_BOUNDS
    assert engine.load(_patch(art, 62, "<H", 9))[0] == EL_ERR_BOUNDS
    assert engine.load(_patch(art, 56, "<H", 5))[0] == EL_ERR_BOUNDS  # graph input index out of range
    assert engine.load(_patch(art, 58, "<H", 1))[0] == EL_ERR_BOUNDS  # graph output is a constant
    assert engine.load(art, arena_len=47)[0] == EL_ERR_ARENA


def test_truncations_are_refused(engine):
    art, _ = fc_softmax_model()
    for n in range(0, len(art), 7):
        status, _keep = engine.load(art[:n])
        assert status != EL_OK


def test_record_errors(engine):
    art, _ = fc_softmax_model()
    tens, _ = _section(art, b"TENS")
    ops, _ = _section(art, b"OPS ")
    data, data_size = _section(art, b"DATA")
    qoff = data + int.from_bytes(art[ops + 12:ops + 16], "little")
    cases = {
        "tensor type": (tens + 0, "<B", 7, EL_ERR_UNSUPPORTED),
        "tensor rank": (tens + 1, "<B", 5, EL_ERR_SHAPE),
        "tensor dim 0": (tens + 4, "<i", 0, EL_ERR_SHAPE),
        "tensor trailing dim": (tens + 16, "<i", 2, EL_ERR_SHAPE),
        "tensor size": (tens + 24, "<I", 13, EL_ERR_BOUNDS),
        "arena offset": (tens + 20, "<I", 40, EL_ERR_ARENA),
        "const offset": (tens + 48 + 20, "<I", data_size, EL_ERR_BOUNDS),
        "int8 zero point": (tens + 32, "<i", 300, EL_ERR_BOUNDS),
        "opcode": (ops + 0, "<B", 99, EL_ERR_UNSUPPORTED),
        "input count": (ops + 1, "<B", 4, EL_ERR_BOUNDS),
        "input index": (ops + 4, "<H", 5, EL_ERR_BOUNDS),
        "output constant": (ops + 10, "<H", 1, EL_ERR_BOUNDS),
        "output index": (ops + 10, "<H", 9, EL_ERR_BOUNDS),
        "multiplier offset": (ops + 12, "<I", data_size - 8, EL_ERR_BOUNDS),
        "multiplier misaligned": (ops + 12, "<I", 2, EL_ERR_BOUNDS),
        "multiplier count": (ops + 16, "<I", 3, EL_ERR_BOUNDS),
        "fc accum depth": (ops + 20 + 16, "<i", 11, EL_ERR_SHAPE),
        "fc act range": (ops + 20 + 12, "<i", -128, EL_ERR_BOUNDS),
        "fc shift": (qoff + 4 * 6, "<i", 31, EL_ERR_BOUNDS),
        "fc multiplier sign": (qoff, "<i", -5, EL_ERR_BOUNDS),
        "softmax shift": (ops + 80 + 24, "<i", 31, EL_ERR_BOUNDS),
        "softmax diff_min": (ops + 80 + 28, "<i", 1, EL_ERR_BOUNDS),
        "section offset": (64 + 4, "<I", 66, EL_ERR_BOUNDS),
        "section size": (64 + 8, "<I", 1 << 20, EL_ERR_BOUNDS),
    }
    for name, (offset, fmt, value, want) in cases.items():
        status, _keep = engine.load(_patch(art, offset, fmt, value))
        assert status == want, f"{name}: got {status}, want {want}"


def test_shape_checks_per_op(engine):
    conv_p = [0, 0, -128, 127, 1, 1, 1, 1, 0, 0] + [0] * 5
    w = np.ones((4, 1, 3, 2), np.int8)
    good = [T("int8", (1, 1, 8, 2)), T("int8", (4, 1, 3, 2), const=w), T("int8", (1, 1, 6, 4), arena_offset=16)]
    art = build(good, [Op(2, [0, 1], 2, conv_p, [1 << 30] * 4, [-1] * 4)], 48, 0, 2)
    assert engine.load(art)[0] == EL_OK
    status, out = engine.run(np.ones(16, np.int8))
    assert status == EL_OK and np.frombuffer(out, np.int8).tolist() == [2] * 24  # 6 * 0.25 = 1.5 rounds away from zero
    bad_out = [good[0], good[1], T("int8", (1, 1, 6, 3), arena_offset=16)]
    assert engine.load(build(bad_out, [Op(2, [0, 1], 2, conv_p, [1 << 30] * 3, [-1] * 3)], 48, 0, 2))[0] == EL_ERR_SHAPE
    bad_rank = [T("int8", (8, 2)), good[1], good[2]]
    assert engine.load(build(bad_rank, [Op(2, [0, 1], 2, conv_p, [1 << 30] * 4, [-1] * 4)], 48, 0, 2))[0] == EL_ERR_SHAPE
    no_requant = build(good, [Op(2, [0, 1], 2, conv_p)], 48, 0, 2)
    assert engine.load(no_requant)[0] == EL_ERR_BOUNDS
    zero_stride = list(conv_p)
    zero_stride[4] = 0
    assert engine.load(build(good, [Op(2, [0, 1], 2, zero_stride, [1 << 30] * 4, [-1] * 4)], 48, 0, 2))[0] == EL_ERR_BOUNDS
    mean_bad = [T("int8", (1, 5, 3)), T("int8", (1, 5), arena_offset=16)]
    assert engine.load(build(mean_bad, [Op(6, [0], 1, [0, 0, 1 << 30, 1, 0b010, 0] + [0] * 9)], 32, 0, 1))[0] == EL_ERR_SHAPE
    mean_ok = [T("int8", (1, 5, 3)), T("int8", (1, 3), arena_offset=16)]
    assert engine.load(build(mean_ok, [Op(6, [0], 1, [0, 0, 1 << 30, 1, 0b010, 0] + [0] * 9)], 32, 0, 1))[0] == EL_OK
    reshape_bad = [T("int8", (1, 6)), T("int8", (1, 5), arena_offset=0)]
    assert engine.load(build(reshape_bad, [Op(7, [0], 1)], 8, 0, 1))[0] == EL_ERR_SHAPE


def test_reshape_copies_when_offsets_differ(engine):
    tensors = [T("int8", (1, 6)), T("int8", (2, 3), arena_offset=8)]
    assert engine.load(build(tensors, [Op(7, [0], 1)], 16, 0, 1))[0] == EL_OK
    x = np.arange(6, dtype=np.int8)
    status, out = engine.run(x)
    assert status == EL_OK and out == x.tobytes()


@pytest.mark.parametrize("seed", range(4))
def test_random_corruption_never_crashes(engine, seed):
    """Mutated artifacts (CRC fixed up so the parser sees them) load with a status; loaded ones run."""
    art, _ = fc_softmax_model(seed)
    rng = np.random.default_rng(seed)
    ok = 0
    for _ in range(500):
        b = bytearray(art)
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(16 if rng.random() < 0.2 else 48, len(b)))
            b[pos] = int(rng.integers(0, 256)) if rng.random() < 0.5 else b[pos] ^ (1 << int(rng.integers(0, 8)))
        status, keep = engine.load(fix_crc(bytes(b)))
        assert 0 <= status <= EL_ERR_SHAPE
        if status == EL_OK:
            ok += 1
            engine.run(rng.integers(-128, 128, 12, dtype=np.int8))
    assert ok < 500
