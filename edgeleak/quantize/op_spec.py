"""The op parameter layouts of the model artifact (docs/model-format.md, op record): the one definition.

Each opcode's ``p[0..14]`` slots are named here. The exporter places parameters by name (:func:`pack`); the firmware
reads them through ``firmware/src/engine/el_op_params.h``, which :func:`c_header` generates; the op table of
docs/model-format.md is :func:`doc_table`. Tests check that the header and the doc in the tree match this module.

    python -m edgeleak.quantize.op_spec   # rewrites el_op_params.h from this module
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

N_PARAMS = 15
"""``i32`` parameter slots in an op record."""

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


@dataclass(frozen=True)
class Param:
    index: int
    name: str  # a C identifier, lower case
    doc: str = ""


@dataclass(frozen=True)
class Layout:
    """Named slots shared by the opcodes that use the layout; the other slots are 0."""

    name: str
    params: tuple[Param, ...]

    def index(self, name: str) -> int:
        for p in self.params:
            if p.name == name:
                return p.index
        raise KeyError(f"layout {self.name} has no parameter {name!r}")


@dataclass(frozen=True)
class OpSpec:
    code: int
    name: str
    layout: Layout
    inputs: str  # doc: the op's input tensors
    params_doc: str = "{params}"  # doc: the parameters cell; {params} is the layout's slots
    aliases: tuple[str, ...] = ()  # other TFLite ops that map to this opcode


def _layout(name: str, *params: tuple[int, str] | tuple[int, str, str]) -> Layout:
    return Layout(name, tuple(Param(*p) for p in params))


FC = _layout("FC", (0, "input_offset"), (1, "output_offset"), (2, "act_min"), (3, "act_max"),
             (4, "accum_depth", "input depth, the accumulation length"), (5, "out_depth", "output depth"))
CONV = _layout("CONV", (0, "input_offset"), (1, "output_offset"), (2, "act_min"), (3, "act_max"),
               (4, "stride_w"), (5, "stride_h"), (6, "dilation_w"), (7, "dilation_h"), (8, "pad_w"), (9, "pad_h"),
               (10, "depth_multiplier", "`DEPTHWISE_CONV_2D` only; 0 for `CONV_2D`"))
POOL = _layout("POOL", (2, "act_min"), (3, "act_max"), (4, "stride_w"), (5, "stride_h"), (6, "filter_w"),
               (7, "filter_h"), (8, "pad_w"), (9, "pad_h"))
MEAN = _layout("MEAN", (0, "input_zero_point"), (1, "output_zero_point"), (2, "multiplier"),
               (3, "shift", "of `s_in / s_out`"), (4, "axis_mask", "bit i = reduce over dim i"), (5, "keep_dims"))
REQUANTIZE = _layout("REQUANTIZE", (0, "input_zero_point"), (1, "output_zero_point"), (2, "multiplier"),
                     (3, "shift", "of `s_in / s_out`"))
SOFTMAX = _layout("SOFTMAX", (0, "input_multiplier"), (1, "input_left_shift"), (2, "diff_min"))
NONE = _layout("NONE")

LAYOUTS = (FC, CONV, POOL, MEAN, REQUANTIZE, SOFTMAX, NONE)

OPS = (
    OpSpec(1, "FULLY_CONNECTED", FC, "input int8, weights int8 `[out, in]`, bias int32 `[out]` or absent"),
    OpSpec(2, "CONV_2D", CONV, "input int8 NHWC, filter int8 OHWI per-channel, bias int32"),
    OpSpec(3, "DEPTHWISE_CONV_2D", CONV, "input int8 NHWC, filter int8 `[1, H, W, C*M]` per-channel, bias int32"),
    OpSpec(4, "AVERAGE_POOL_2D", POOL, "input int8 NHWC"),
    OpSpec(5, "MAX_POOL_2D", POOL, "input int8 NHWC"),
    OpSpec(6, "MEAN", MEAN, "input int8"),
    OpSpec(7, "RESHAPE", NONE, "input (any type)",
           "none: the output aliases the input bytes (`RESHAPE`, `EXPAND_DIMS`, `SQUEEZE` all map here)",
           aliases=("EXPAND_DIMS", "SQUEEZE")),
    OpSpec(8, "QUANTIZE", REQUANTIZE, "input float32 or int8",
           "float32 input: none (uses the output tensor's scale and zero point); int8 input (requantize): {params}"),
    OpSpec(9, "DEQUANTIZE", NONE, "input int8", "none (uses the input tensor's scale and zero point)"),
    OpSpec(10, "SOFTMAX", SOFTMAX, "input int8",
           "{params} (as TFLite Micro's `CalculateSoftmaxParams` for int8 in, int8 out)"),
)

OPCODES: dict[str, int] = {name: op.code for op in OPS for name in (op.name, *op.aliases)}
"""TFLite op name -> opcode, aliases included."""

def spec(op_name: str) -> OpSpec:
    """The spec of an opcode by its name (``CONV_2D``) or a TFLite alias (``SQUEEZE``)."""
    code = OPCODES.get(op_name)
    if code is None:
        raise KeyError(f"no opcode for op {op_name!r}")
    return next(op for op in OPS if op.code == code)


def pack(layout: Layout, **values: int) -> list[int]:
    """``p[0..14]`` of an op record: every slot of ``layout`` given by name, the rest 0."""
    given = set(values)
    expected = {p.name for p in layout.params}
    if given != expected:
        missing, unknown = sorted(expected - given), sorted(given - expected)
        raise ValueError(f"layout {layout.name}: missing {missing}, unknown {unknown}")
    p = [0] * N_PARAMS
    for param in layout.params:
        v = int(values[param.name])
        if not INT32_MIN <= v <= INT32_MAX:
            raise ValueError(f"layout {layout.name}: {param.name} = {v} does not fit an i32")
        p[param.index] = v
    return p


def unpack(layout: Layout, p: list[int] | tuple[int, ...]) -> dict[str, int]:
    """The named slots of ``p[0..14]`` (the inverse of :func:`pack` on its slots)."""
    if len(p) != N_PARAMS:
        raise ValueError(f"an op record has {N_PARAMS} parameters, got {len(p)}")
    return {param.name: int(p[param.index]) for param in layout.params}


# --- generated text -----------------------------------------------------------------------------------------------

HEADER_PATH = Path(__file__).resolve().parents[2] / "firmware" / "src" / "engine" / "el_op_params.h"


def c_header() -> str:
    """``el_op_params.h``: the opcodes and, per layout, each parameter's slot in ``p[0..14]``."""
    lines = [
        "/**",
        " * @file el_op_params.h",
        " * @brief Opcodes and op parameter slots of the model artifact's op record (docs/model-format.md).",
        " *",
        " * Generated from edgeleak/quantize/op_spec.py (python -m edgeleak.quantize.op_spec); do not edit.",
        " * EL_P_<LAYOUT>_<NAME> is the index into the record's i32 p[EL_OP_N_PARAMS] of a parameter.",
        " */",
        "#ifndef EL_OP_PARAMS_H",
        "#define EL_OP_PARAMS_H",
        "",
        f"#define EL_OP_N_PARAMS {N_PARAMS}",
        "",
        "/* Opcodes. */",
        "enum {",
    ]
    lines += [f"    EL_OP_{op.name} = {op.code}{',' if k < len(OPS) - 1 else ''}" for k, op in enumerate(OPS)]
    lines += ["};", ""]
    for layout in LAYOUTS:
        users = ", ".join(op.name for op in OPS if op.layout is layout)
        if not layout.params:
            lines += [f"/* Layout {layout.name} ({users}): no parameters. */", ""]
            continue
        lines.append(f"/* Layout {layout.name} ({users}). */")
        lines += [f"#define EL_P_{layout.name}_{p.name.upper()} {p.index}" for p in layout.params]
        lines.append("")
    lines += ["#endif /* EL_OP_PARAMS_H */", ""]
    return "\n".join(lines)


def _params_text(layout: Layout) -> str:
    return ", ".join(f"p{p.index} {p.name}" + (f" ({p.doc})" if p.doc else "") for p in layout.params)


def doc_table() -> str:
    """The opcode table of docs/model-format.md."""
    rows = ["| opcode | op | inputs | parameters |", "|---|---|---|---|"]
    for op in OPS:
        cell = op.params_doc.replace("{params}", _params_text(op.layout))
        rows.append(f"| {op.code} | `{op.name}` | {op.inputs} | {cell} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    HEADER_PATH.write_text(c_header())


if __name__ == "__main__":
    main()
