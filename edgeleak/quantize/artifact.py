"""Write and read the firmware model artifact (docs/model-format.md, format version 1)."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.errors import EdgeleakError
from edgeleak.quantize import op_spec, prepare
from edgeleak.quantize.op_spec import OPCODES
from edgeleak.quantize.planner import Buffer, plan_arena
from edgeleak.quantize.tflite_graph import TfliteGraph, TfliteOp, TfliteTensor

MAGIC = b"ELMA"
FORMAT_VERSION = 1
HEADER_SIZE = 64
TENSOR_RECORD = 48
OP_RECORD = 80
MAX_TENSORS = 64
MAX_OPS = 64
NO_TENSOR = 0xFFFF

# What a user's model may contain, in Keras terms, for error messages.
SUPPORTED_TEXT = ("Conv1D/Conv2D, DepthwiseConv1D/2D, Average/MaxPooling1D/2D, GlobalAveragePooling1D/2D, "
                  "Reshape/Flatten, Dense (activations relu, relu6 or none, softmax at the end); TFLite ops "
                  + ", ".join(sorted(set(OPCODES))))
_TYPE_CODES = {"int8": 1, "int32": 2, "float32": 3}
_ELEMENT_SIZE = {"int8": 1, "int32": 4, "float32": 4}
# Inputs that carry data; the rest (shape, axis tensors) are folded into op parameters.
_DATA_INPUTS = {"RESHAPE": 1, "EXPAND_DIMS": 1, "SQUEEZE": 1, "MEAN": 1}


@dataclass(frozen=True)
class OpSummary:
    name: str
    output_shape: tuple[int, ...]
    macs: int


@dataclass(frozen=True)
class ExportedModel:
    """The artifact bytes and what a size report needs to know about them."""

    artifact: bytes
    sha256: str
    arena_size: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    cut_shape: tuple[int, ...]
    input_scale: float
    input_zero_point: int
    cut_scale: float
    cut_zero_point: int
    backbone_ops: int  # ops that run before the head (the cut tensor is ready after them)
    cut_tflite_index: int  # the cut tensor's index in the .tflite graph
    head_shapes: tuple[tuple[int, int], ...]
    ops: tuple[OpSummary, ...]

    @property
    def total_macs(self) -> int:
        return sum(op.macs for op in self.ops)


def _align4(n: int) -> int:
    return (n + 3) & ~3


class _DataBlob:
    """Constant bytes, each piece 4-byte aligned (16 for tensors, to suit SIMD loads)."""

    def __init__(self) -> None:
        self.parts = bytearray()

    def add(self, data: bytes, alignment: int = 4) -> int:
        pad = (-len(self.parts)) % alignment
        self.parts.extend(b"\0" * pad)
        offset = len(self.parts)
        self.parts.extend(data)
        return offset


def find_head(graph: TfliteGraph, head_layers: int) -> int:
    """Index of the first op of the head: the last ``head_layers`` FULLY_CONNECTED ops, then only SOFTMAX."""
    if not 1 <= head_layers <= 3:
        raise EdgeleakError(f"the trainable head must have 1 to 3 dense layers, got {head_layers}")
    fc = [op.index for op in graph.ops if op.name == "FULLY_CONNECTED"]
    if len(fc) < head_layers:
        raise EdgeleakError(f"the model has {len(fc)} dense layers in its TFLite graph; a head of {head_layers} does not exist")
    first = fc[-head_layers]
    tail = [op.name for op in graph.ops[first:]]
    expected = ["FULLY_CONNECTED"] * head_layers
    if tail[:head_layers] != expected or any(name != "SOFTMAX" for name in tail[head_layers:]):
        raise EdgeleakError(f"the cut does not map to the TFLite graph: after it come {', '.join(tail)}; a head must be dense layers ending the model")
    return first


def layer_of(tensor_name: str, layer_names: tuple[str, ...] = ()) -> str:
    """The Keras layer a TFLite tensor or MLIR location comes from. The converter names tensors
    ``model/model/layer_1/op;...``: the component that is one of ``layer_names`` (the converter appends ``_N``), else
    the one before the op."""
    parts = tensor_name.split(";")[0].split("/")
    for part in reversed(parts[:-1]):
        bare = re.sub(r"_\d+$", "", part)
        if part in layer_names or bare in layer_names:
            return part if part in layer_names else bare
    return parts[-2] if len(parts) > 1 else parts[0]


def check_supported(graph: TfliteGraph, layer_names: tuple[str, ...] = ()) -> None:
    """Every op, input and output is one the firmware runs in int8; else one line naming the layer and the op."""
    for index in graph.inputs + graph.outputs:
        t = graph.tensors[index]
        if t.type_name != "int8":
            raise EdgeleakError(f"model {('input' if index in graph.inputs else 'output')} {t.name!r} is {t.type_name}, not int8: convert it as a full-integer model")
    for op in graph.ops:
        if op.name not in OPCODES:
            layer = next((layer_of(graph.tensors[i].name, layer_names) for i in op.outputs if i >= 0), "?")
            raise EdgeleakError(f"layer {layer!r}: op {op.name} (op #{op.index}) is not supported by the firmware engine; "
                                f"supported: {SUPPORTED_TEXT}")
    for op in graph.ops:
        for index in op.inputs[:_DATA_INPUTS.get(op.name, 3)]:
            if index < 0:
                continue
            t = graph.tensors[index]
            if t.type_name == "float32" and not t.is_constant and op.name != "QUANTIZE":
                raise EdgeleakError(f"op {op.name} (op #{op.index}) computes in float32: the model is not full-integer")
            if t.type_name not in _TYPE_CODES:
                raise EdgeleakError(f"op {op.name} (op #{op.index}) uses a {t.type_name} tensor, which the firmware does not support")


def _pad_shape(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(shape) > 4:
        raise EdgeleakError(f"tensor of rank {len(shape)} is not supported (at most 4)")
    return tuple(list(shape) + [1] * (4 - len(shape)))  # type: ignore[return-value]


def _nhwc(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(shape) != 4:
        raise EdgeleakError(f"expected a 4-D NHWC tensor, got shape {shape}")
    return shape  # type: ignore[return-value]


def _per_channel_multipliers(inp: TfliteTensor, weights: TfliteTensor, out: TfliteTensor, channels: int) -> tuple[list[int], list[int]]:
    scales = weights.scales if len(weights.scales) > 1 else weights.scales * channels
    pairs = [prepare.quantize_multiplier(prepare.effective_scale(inp.scale, s, out.scale)) for s in scales]
    return [m for m, _ in pairs], [s for _, s in pairs]


def _op_params(op: TfliteOp, graph: TfliteGraph) -> tuple[list[int], list[int], list[int], int]:
    """Return (p[0..14], multipliers, shifts, macs) for one op; the slots are placed by op_spec's layouts."""
    t = graph.tensors
    inp, out = t[op.inputs[0]], t[op.outputs[0]]
    values: dict[str, int] = {}
    mult: list[int] = []
    shift: list[int] = []
    macs = 0
    layout = op_spec.spec(op.name).layout
    act = op.options.get("fusedActivationFunction", "NONE")
    if op.name in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"):
        w = t[op.inputs[1]]
        lo, hi = prepare.activation_range_int8(act, out.scale, out.zero_point)
        values.update(input_offset=-inp.zero_point, output_offset=out.zero_point, act_min=lo, act_max=hi)
        channels = w.shape[0] if op.name != "DEPTHWISE_CONV_2D" else w.shape[3]
        mult, shift = _per_channel_multipliers(inp, w, out, channels)
        if op.name == "FULLY_CONNECTED":
            if op.options.get("weightsFormat", 0) != 0:
                raise EdgeleakError(f"FULLY_CONNECTED op #{op.index} uses shuffled weights, which the firmware does not support")
            values.update(accum_depth=w.shape[1], out_depth=w.shape[0])
            macs = int(np.prod(inp.shape)) // w.shape[1] * w.shape[0] * w.shape[1]
        else:
            _, in_h, in_w, in_c = _nhwc(inp.shape)
            _, out_h, out_w, out_c = _nhwc(out.shape)
            fh, fw = w.shape[1], w.shape[2]
            sw, sh = op.options["strideW"], op.options["strideH"]
            dw, dh = op.options.get("dilationWFactor", 1), op.options.get("dilationHFactor", 1)
            pad = op.options["padding"]
            values.update(stride_w=sw, stride_h=sh, dilation_w=dw, dilation_h=dh,
                          pad_w=prepare.padding_amount(pad, in_w, fw, sw, dw), pad_h=prepare.padding_amount(pad, in_h, fh, sh, dh))
            if op.name == "DEPTHWISE_CONV_2D":
                values["depth_multiplier"] = out_c // in_c
                macs = out_h * out_w * out_c * fh * fw
            else:
                values["depth_multiplier"] = 0
                macs = out_h * out_w * out_c * fh * fw * in_c
    elif op.name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        _, in_h, in_w, _ = _nhwc(inp.shape)
        lo, hi = prepare.activation_range_int8(act, out.scale, out.zero_point)
        fw, fh = op.options["filterWidth"], op.options["filterHeight"]
        sw, sh = op.options["strideW"], op.options["strideH"]
        pad = op.options["padding"]
        values.update(act_min=lo, act_max=hi, stride_w=sw, stride_h=sh, filter_w=fw, filter_h=fh,
                      pad_w=prepare.padding_amount(pad, in_w, fw, sw, 1), pad_h=prepare.padding_amount(pad, in_h, fh, sh, 1))
    elif op.name == "MEAN":
        axes = t[op.inputs[1]].data
        if axes is None:
            raise EdgeleakError(f"MEAN op #{op.index} has a non-constant axis")
        rank = len(inp.shape)
        mask = 0
        for a in np.asarray(axes).reshape(-1).tolist():
            mask |= 1 << (int(a) % rank)
        m, s = prepare.quantize_multiplier(float(np.float64(np.float32(inp.scale)) / np.float64(np.float32(out.scale))))
        values.update(input_zero_point=inp.zero_point, output_zero_point=out.zero_point, multiplier=m, shift=s,
                      axis_mask=mask, keep_dims=int(bool(op.options.get("keepDims", False))))
    elif op.name == "QUANTIZE" and inp.type_name == "int8":
        m, s = prepare.quantize_multiplier(float(np.float64(np.float32(inp.scale)) / np.float64(np.float32(out.scale))))
        values.update(input_zero_point=inp.zero_point, output_zero_point=out.zero_point, multiplier=m, shift=s)
    elif op.name == "QUANTIZE":
        layout = op_spec.NONE  # float32 input: the output tensor's quantization is all it needs
    elif op.name == "SOFTMAX":
        m, s, diff_min = prepare.softmax_params_int8(op.options.get("beta", 1.0), inp.scale)
        values.update(input_multiplier=m, input_left_shift=s, diff_min=diff_min)
    return op_spec.pack(layout, **values), mult, shift, macs


def _tensor_record(t: TfliteTensor, data_offset: int, channel_scales_offset: int) -> bytes:
    dims = _pad_shape(t.shape)
    size = int(np.prod(t.shape, dtype=np.int64)) * _ELEMENT_SIZE[t.type_name]
    per_channel = len(t.scales) > 1
    flags = (1 if t.is_constant else 0) | (2 if per_channel else 0)
    return struct.pack("<BBBB4iIIfiIII", _TYPE_CODES[t.type_name], len(t.shape), flags,
                       t.quantized_dimension if per_channel else 0, *dims, data_offset, size,
                       float(t.scale), int(t.zero_point), channel_scales_offset, 0, 0)


def _head_section(head: list[DenseLayer]) -> bytes:
    out = bytearray(struct.pack("<HH", len(head), 1))
    for layer in head:
        out += struct.pack("<HH", layer.weights.shape[1], layer.weights.shape[0])
    for layer in head:
        out += np.ascontiguousarray(layer.weights, dtype="<f4").tobytes()
        out += np.ascontiguousarray(layer.bias, dtype="<f4").tobytes()
    return bytes(out)


def export_artifact(graph: TfliteGraph, head: list[DenseLayer]) -> ExportedModel:
    """Build the artifact for ``graph`` whose last ``len(head)`` dense layers are the float ``head``."""
    check_supported(graph)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise EdgeleakError("the model must have exactly one input and one output")
    head_first = find_head(graph, len(head)) if head else len(graph.ops)
    fc_ops = [op for op in graph.ops[head_first:] if op.name == "FULLY_CONNECTED"]
    for layer, op in zip(head, fc_ops):
        w = graph.tensors[op.inputs[1]]
        if tuple(w.shape) != layer.weights.shape:
            raise EdgeleakError(f"head layer shape {layer.weights.shape} does not match the TFLite weights {w.shape}")

    # Tensors the firmware needs, in first-use order.
    used: list[int] = []
    for op in graph.ops:
        for index in list(op.inputs[:_DATA_INPUTS.get(op.name, 3)]) + list(op.outputs):
            if index >= 0 and index not in used:
                used.append(index)
    if graph.inputs[0] not in used:
        used.insert(0, graph.inputs[0])
    if len(used) > MAX_TENSORS or len(graph.ops) > MAX_OPS:
        raise EdgeleakError(f"the model has {len(used)} tensors and {len(graph.ops)} ops; the firmware takes at most {MAX_TENSORS} and {MAX_OPS}")
    new_index = {old: new for new, old in enumerate(used)}

    # Lifetimes; a reshape output shares its input's buffer (alias groups).
    root = {i: i for i in used}
    for op in graph.ops:
        if OPCODES[op.name] == OPCODES["RESHAPE"]:
            root[op.outputs[0]] = root[op.inputs[0]]
    first_use: dict[int, int] = {}
    last_use: dict[int, int] = {}
    for k, op in enumerate(graph.ops):
        for index in list(op.inputs[:_DATA_INPUTS.get(op.name, 3)]) + list(op.outputs):
            if index < 0 or graph.tensors[index].is_constant:
                continue
            r = root[index]
            first_use.setdefault(r, k)
            last_use[r] = k
    first_use[root[graph.inputs[0]]] = -1
    last_use[root[graph.outputs[0]]] = len(graph.ops)
    sizes: dict[int, int] = {}
    for index in used:
        t = graph.tensors[index]
        if not t.is_constant:
            size = int(np.prod(t.shape, dtype=np.int64)) * _ELEMENT_SIZE[t.type_name]
            sizes[root[index]] = max(sizes.get(root[index], 0), size)
    offsets, arena_size = plan_arena([Buffer(r, sizes[r], first_use[r], last_use[r]) for r in sizes])

    data = _DataBlob()
    tensor_records = bytearray()
    for index in used:
        t = graph.tensors[index]
        data_offset = data.add(np.ascontiguousarray(t.data).astype(t.data.dtype.newbyteorder("<")).tobytes(), 16) if t.is_constant else offsets[root[index]]
        scales_offset = data.add(np.asarray(t.scales, dtype="<f4").tobytes()) if len(t.scales) > 1 else 0
        tensor_records += _tensor_record(t, data_offset, scales_offset)

    op_records = bytearray()
    summaries = []
    for op in graph.ops:
        p, mult, shift, macs = _op_params(op, graph)
        n_in = _DATA_INPUTS.get(op.name, len(op.inputs))
        ins = [new_index[i] if i >= 0 else NO_TENSOR for i in op.inputs[:n_in]] + [NO_TENSOR] * (3 - n_in)
        quant_offset = data.add(np.asarray(mult + shift, dtype="<i4").tobytes()) if mult else 0
        op_records += struct.pack("<BBH3HHII15i", OPCODES[op.name], n_in, 0, *ins, new_index[op.outputs[0]],
                                  quant_offset, len(mult), *p)
        summaries.append(OpSummary(op.name, graph.tensors[op.outputs[0]].shape, macs))

    head_bytes = _head_section(head) if head else b""
    cut_old = graph.ops[head_first].inputs[0] if head else graph.outputs[0]
    sections = [(b"TENS", bytes(tensor_records)), (b"OPS ", bytes(op_records)), (b"DATA", bytes(data.parts))]
    if head_bytes:
        sections.append((b"HEAD", head_bytes))
    table_size = 12 * len(sections)
    body = bytearray()
    table = bytearray()
    cursor = HEADER_SIZE + table_size
    for tag, content in sections:
        pad = _align4(cursor) - cursor
        body += b"\0" * pad
        cursor += pad
        table += struct.pack("<4sII", tag, cursor, len(content))
        body += content
        cursor += len(content)
    payload = bytes(table + body)
    total = HEADER_SIZE + len(payload)
    digest = hashlib.sha256(payload).digest()
    header = struct.pack("<4sHHII32sHHIHHHH", MAGIC, FORMAT_VERSION, HEADER_SIZE, total, zlib.crc32(payload), digest,
                         len(used), len(graph.ops), arena_size, new_index[graph.inputs[0]], new_index[graph.outputs[0]],
                         new_index[cut_old], len(sections))
    inp, out, cut = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]], graph.tensors[cut_old]
    return ExportedModel(
        artifact=header + payload, sha256=digest.hex(), arena_size=arena_size,
        input_shape=inp.shape, output_shape=out.shape, cut_shape=cut.shape,
        input_scale=inp.scale, input_zero_point=inp.zero_point, cut_scale=cut.scale, cut_zero_point=cut.zero_point,
        backbone_ops=head_first, cut_tflite_index=cut_old, head_shapes=tuple((l.weights.shape[1], l.weights.shape[0]) for l in head),
        ops=tuple(summaries),
    )


@dataclass(frozen=True)
class ArtifactHeader:
    version: int
    total_size: int
    sha256: str
    n_tensors: int
    n_ops: int
    arena_size: int
    input_tensor: int
    output_tensor: int
    cut_tensor: int
    sections: dict[str, tuple[int, int]]


def read_header(artifact: bytes) -> ArtifactHeader:
    """Validate magic, version, size, CRC and hash; raise EdgeleakError naming what is wrong."""
    if len(artifact) < HEADER_SIZE or artifact[:4] != MAGIC:
        raise EdgeleakError("not an edgeleak model artifact (bad magic); re-run 'edgeleak quantize'")
    (_, version, header_size, total, crc, digest, n_t, n_o, arena, i_in, i_out, i_cut, n_s) = struct.unpack_from(
        "<4sHHII32sHHIHHHH", artifact)
    if version != FORMAT_VERSION or header_size != HEADER_SIZE:
        raise EdgeleakError(f"model artifact format version {version} is not supported (this edgeleak reads {FORMAT_VERSION})")
    if total != len(artifact):
        raise EdgeleakError(f"model artifact is truncated or padded: header says {total} bytes, file has {len(artifact)}")
    payload = artifact[HEADER_SIZE:]
    if zlib.crc32(payload) != crc or hashlib.sha256(payload).digest() != digest:
        raise EdgeleakError("model artifact is corrupt (CRC or hash mismatch); re-run 'edgeleak quantize'")
    sections = {}
    for k in range(n_s):
        tag, off, size = struct.unpack_from("<4sII", artifact, HEADER_SIZE + 12 * k)
        sections[tag.decode("ascii", "replace")] = (off, size)
    return ArtifactHeader(version, total, digest.hex(), n_t, n_o, arena, i_in, i_out, i_cut, sections)


def read_head(artifact: bytes) -> list[DenseLayer]:
    """The float head stored in an artifact (empty if it has none)."""
    header = read_header(artifact)
    if "HEAD" not in header.sections:
        return []
    off, _ = header.sections["HEAD"]
    n_layers, _ = struct.unpack_from("<HH", artifact, off)
    shapes = [struct.unpack_from("<HH", artifact, off + 4 + 4 * k) for k in range(n_layers)]
    cursor = off + 4 + 4 * n_layers
    layers = []
    for n_in, n_out in shapes:
        w = np.frombuffer(artifact, "<f4", n_in * n_out, cursor).reshape(n_out, n_in)
        cursor += 4 * n_in * n_out
        b = np.frombuffer(artifact, "<f4", n_out, cursor)
        cursor += 4 * n_out
        layers.append(DenseLayer(w.astype(np.float32), b.astype(np.float32)))
    return layers
