"""Read a ``.tflite`` flatbuffer into plain typed records (tensors, ops, options) for the exporter."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgeleak.errors import EdgeleakError

_NUMPY_TYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8, 10: np.float64}
_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 7: "int16", 9: "int8", 10: "float64"}


@dataclass(frozen=True)
class TfliteTensor:
    index: int
    name: str
    type_name: str
    shape: tuple[int, ...]
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    quantized_dimension: int
    data: np.ndarray | None  # constant contents, or None for activations

    @property
    def scale(self) -> float:
        return self.scales[0] if self.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0

    @property
    def is_constant(self) -> bool:
        return self.data is not None


@dataclass(frozen=True)
class TfliteOp:
    index: int
    name: str
    inputs: tuple[int, ...]  # -1 for an absent optional input
    outputs: tuple[int, ...]
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TfliteGraph:
    tensors: tuple[TfliteTensor, ...]
    ops: tuple[TfliteOp, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _enum_names(enum_class) -> dict[int, str]:
    return {v: k for k, v in vars(enum_class).items() if not k.startswith("_") and isinstance(v, int)}


def parse_tflite(model_bytes: bytes) -> TfliteGraph:
    """Parse the first subgraph of a TFLite model; raise EdgeleakError if it is not a TFLite model."""
    schema = _schema()
    if len(model_bytes) < 8 or model_bytes[4:8] != b"TFL3":
        raise EdgeleakError("not a TFLite model (no TFL3 identifier); pass the model.tflite that 'edgeleak quantize' wrote")
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(model_bytes, 0))
    except Exception as exc:  # flatbuffers raises assorted errors on truncated input
        raise EdgeleakError(f"the TFLite model is malformed ({type(exc).__name__}); re-run 'edgeleak quantize'") from None
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise EdgeleakError("the TFLite model must have exactly one subgraph (control flow is not supported)")
    op_names = _enum_names(schema.BuiltinOperator)
    activation_names = _enum_names(schema.ActivationFunctionType)
    padding_names = _enum_names(schema.Padding)
    graph = model.subgraphs[0]

    tensors = []
    for i, t in enumerate(graph.tensors):
        q = t.quantization
        scales = tuple(float(s) for s in (q.scale if q is not None and q.scale is not None else ()))
        zps = tuple(int(z) for z in (q.zeroPoint if q is not None and q.zeroPoint is not None else ()))
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        buffer = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
        data = None
        if buffer is not None and buffer.data is not None and len(buffer.data) > 0:
            dtype = _NUMPY_TYPES.get(t.type)
            if dtype is None:
                raise EdgeleakError(f"tensor {t.name.decode() if t.name else i} has unsupported type {_TYPE_NAMES.get(t.type, t.type)}")
            data = np.frombuffer(bytes(bytearray(buffer.data)), dtype=dtype).reshape(shape)
        tensors.append(TfliteTensor(
            index=i, name=t.name.decode() if isinstance(t.name, bytes) else str(t.name),
            type_name=_TYPE_NAMES.get(t.type, f"type{t.type}"), shape=shape, scales=scales, zero_points=zps,
            quantized_dimension=int(q.quantizedDimension) if q is not None else 0, data=data,
        ))

    ops = []
    for i, op in enumerate(graph.operators):
        code = model.operatorCodes[op.opcodeIndex]
        name = op_names.get(max(code.builtinCode, code.deprecatedBuiltinCode), f"op{code.builtinCode}")
        if name == "CUSTOM":
            name = f"CUSTOM:{code.customCode.decode() if code.customCode else '?'}"
        options = {}
        if op.builtinOptions is not None:
            for key, value in vars(op.builtinOptions).items():
                if key == "fusedActivationFunction":
                    value = activation_names.get(value, str(value))
                elif key == "padding":
                    value = padding_names.get(value, str(value))
                options[key] = value
        ops.append(TfliteOp(index=i, name=name, inputs=tuple(int(x) for x in op.inputs),
                            outputs=tuple(int(x) for x in op.outputs), options=options))
    return TfliteGraph(tensors=tuple(tensors), ops=tuple(ops),
                       inputs=tuple(int(x) for x in graph.inputs), outputs=tuple(int(x) for x in graph.outputs))
