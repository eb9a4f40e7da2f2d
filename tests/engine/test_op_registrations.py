"""Each op's prepare reads the slots op_spec names: a bad value in a named slot is refused with the status the
slot's check gives, and the slots outside an op's layout are ignored. The same names place the exporter's values
(tests/test_op_spec.py), so these vectors tie the C registrations to the Python layouts."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from edgeleak.firmware.fuzz_corpus import every_op_model
from edgeleak.quantize import op_spec
from edgeleak.quantize.artifact import read_header

from .elm_builder import fix_crc

EL_OK, EL_ERR_BOUNDS, EL_ERR_SHAPE = 0, 5, 8

# A value each named slot refuses, and the status the loader gives for it (None: the slot takes any value).
BAD = {
    "input_offset": (129, EL_ERR_BOUNDS), "output_offset": (128, EL_ERR_BOUNDS),
    "act_min": (-129, EL_ERR_BOUNDS), "act_max": (128, EL_ERR_BOUNDS),
    "accum_depth": (None, EL_ERR_SHAPE), "out_depth": (None, EL_ERR_SHAPE),  # None: one more than the weights say
    "stride_w": (0, EL_ERR_BOUNDS), "stride_h": (1025, EL_ERR_BOUNDS),
    "dilation_w": (0, EL_ERR_BOUNDS), "dilation_h": (0, EL_ERR_BOUNDS),
    "pad_w": (-1, EL_ERR_BOUNDS), "pad_h": (65536, EL_ERR_BOUNDS),
    "depth_multiplier": (0, EL_ERR_BOUNDS),
    "filter_w": (0, EL_ERR_BOUNDS), "filter_h": (65536, EL_ERR_BOUNDS),
    "input_zero_point": (128, EL_ERR_BOUNDS), "output_zero_point": (-129, EL_ERR_BOUNDS),
    "multiplier": (-1, EL_ERR_BOUNDS), "shift": (31, EL_ERR_BOUNDS),
    "axis_mask": (1 << 4, EL_ERR_SHAPE), "keep_dims": (7, EL_OK),
    "input_multiplier": (-1, EL_ERR_BOUNDS), "input_left_shift": (31, EL_ERR_BOUNDS), "diff_min": (1, EL_ERR_BOUNDS),
}


def _ops(art: bytes):
    header = read_header(art)
    off, _ = header.sections["OPS "]
    tens, _ = header.sections["TENS"]
    for k in range(header.n_ops):
        rec = off + 80 * k
        spec = next(op for op in op_spec.OPS if op.code == art[rec])
        in_type = art[tens + 48 * struct.unpack_from("<H", art, rec + 4)[0]]
        layout = op_spec.NONE if spec.name == "QUANTIZE" and in_type == 3 else spec.layout  # float32 input
        yield k, rec, spec, layout


def _with_slot(art: bytes, rec: int, index: int, value: int) -> bytes:
    b = bytearray(art)
    struct.pack_into("<i", b, rec + 20 + 4 * index, value)
    return fix_crc(bytes(b))


def test_every_named_slot_is_read_and_checked(engine):
    art = every_op_model().artifact
    assert engine.load(art)[0] == EL_OK
    checked = set()
    for k, rec, spec, layout in _ops(art):
        p = list(struct.unpack_from("<15i", art, rec + 20))
        for name, value in op_spec.unpack(layout, p).items():
            bad, status = BAD[name]
            if name == "depth_multiplier" and spec.name == "CONV_2D":
                bad, status = 0, EL_OK  # CONV_2D ignores the slot
            if bad is None:
                bad = value + 1
            got = engine.load(_with_slot(art, rec, layout.index(name), bad))[0]
            assert got == status, f"op #{k} {spec.name}: {name} = {bad} gave status {got}, expected {status}"
            checked.add((spec.name, name))
    assert {(op.name, p.name) for op in op_spec.OPS for p in op.layout.params} <= checked


def test_slots_outside_an_ops_layout_are_ignored(engine):
    art = every_op_model().artifact
    x = np.random.default_rng(0).integers(-128, 128, 72, dtype=np.int8)
    status, keep = engine.load(art)
    assert status == EL_OK
    expected = engine.run(x)
    del keep
    for k, rec, spec, layout in _ops(art):
        used = {p.index for p in layout.params}
        mutated = art
        for index in set(range(op_spec.N_PARAMS)) - used:
            mutated = _with_slot(mutated, rec, index, -12345)
        status, keep = engine.load(mutated)
        assert status == EL_OK, f"op #{k} {spec.name}"
        assert engine.run(x) == expected, f"op #{k} {spec.name}"
        del keep


@pytest.mark.parametrize("opcode", [0, 11, 255])
def test_an_opcode_without_a_registration_is_unsupported(engine, opcode):
    art = bytearray(every_op_model().artifact)
    off, _ = read_header(bytes(art)).sections["OPS "]
    art[off] = opcode
    assert engine.load(fix_crc(bytes(art)))[0] == 6  # EL_ERR_UNSUPPORTED
