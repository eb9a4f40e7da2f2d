"""The op parameter layouts (edgeleak/quantize/op_spec.py) are the one definition: the firmware's generated header
and the format doc's op table match them, and the exporter's op records hold exactly their slots."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from edgeleak.firmware.fuzz_corpus import every_op_model
from edgeleak.quantize import op_spec
from edgeleak.quantize.artifact import read_header

REPO = Path(__file__).resolve().parents[1]


def test_the_generated_header_in_the_tree_is_up_to_date():
    assert op_spec.HEADER_PATH == REPO / "firmware" / "src" / "engine" / "el_op_params.h"
    assert op_spec.HEADER_PATH.read_text() == op_spec.c_header(), \
        "el_op_params.h is stale: run python -m edgeleak.quantize.op_spec"


def test_the_format_doc_op_table_is_the_spec():
    doc = (REPO / "docs" / "model-format.md").read_text()
    assert op_spec.doc_table() in doc, "docs/model-format.md's op table differs from op_spec.doc_table()"


def test_the_header_names_every_opcode_and_slot():
    header = op_spec.c_header()
    for op in op_spec.OPS:
        assert f"    EL_OP_{op.name} = {op.code}" in header
    defines = dict(re.findall(r"#define (EL_P_\w+) (\d+)", header))
    expected = {f"EL_P_{layout.name}_{p.name.upper()}": str(p.index) for layout in op_spec.LAYOUTS for p in layout.params}
    assert defines == expected


def test_layouts_are_well_formed():
    for layout in op_spec.LAYOUTS:
        indices = [p.index for p in layout.params]
        names = [p.name for p in layout.params]
        assert len(set(indices)) == len(indices) and all(0 <= i < op_spec.N_PARAMS for i in indices), layout.name
        assert len(set(names)) == len(names) and all(n.isidentifier() and n == n.lower() for n in names), layout.name
    assert len({op.code for op in op_spec.OPS}) == len(op_spec.OPS)
    assert all(op.layout in op_spec.LAYOUTS for op in op_spec.OPS)
    assert op_spec.OPCODES["SQUEEZE"] == op_spec.OPCODES["EXPAND_DIMS"] == op_spec.OPCODES["RESHAPE"]


def test_pack_places_by_name_and_unpack_inverts_it():
    p = op_spec.pack(op_spec.POOL, act_min=-128, act_max=127, stride_w=2, stride_h=1, filter_w=3, filter_h=1,
                     pad_w=1, pad_h=0)
    assert p == [0, 0, -128, 127, 2, 1, 3, 1, 1, 0, 0, 0, 0, 0, 0]
    assert op_spec.unpack(op_spec.POOL, p)["filter_w"] == 3
    assert op_spec.pack(op_spec.NONE) == [0] * 15


@pytest.mark.parametrize("values, message", [
    ({"input_multiplier": 1, "input_left_shift": 2}, r"missing \['diff_min'\]"),
    ({"input_multiplier": 1, "input_left_shift": 2, "diff_min": 0, "beta": 1}, r"unknown \['beta'\]"),
    ({"input_multiplier": 1 << 31, "input_left_shift": 2, "diff_min": 0}, "does not fit an i32"),
])
def test_pack_refuses_a_missing_unknown_or_oversized_slot(values, message):
    with pytest.raises(ValueError, match=message):
        op_spec.pack(op_spec.SOFTMAX, **values)


def test_exported_op_records_use_only_their_layout_slots():
    model = every_op_model()
    art = model.artifact
    header = read_header(art)
    off, _ = header.sections["OPS "]
    seen = set()
    for k in range(header.n_ops):
        opcode = art[off + 80 * k]
        p = struct.unpack_from("<15i", art, off + 80 * k + 20)
        spec = next(op for op in op_spec.OPS if op.code == opcode)
        used = {param.index for param in spec.layout.params}
        assert all(v == 0 for i, v in enumerate(p) if i not in used), spec.name
        seen.add(spec.name)
        if spec.layout is op_spec.CONV:
            named = op_spec.unpack(op_spec.CONV, p)
            assert named["stride_w"] >= 1 and named["dilation_h"] >= 1
            assert (named["depth_multiplier"] >= 1) == (spec.name == "DEPTHWISE_CONV_2D")
    assert {"FULLY_CONNECTED", "CONV_2D", "SOFTMAX"} <= seen
