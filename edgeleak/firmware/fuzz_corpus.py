"""Seeds and dictionaries for the firmware fuzz targets (firmware/fuzz/): model artifacts made with the project's
exporter, and link inputs made with the project's codec, so that libFuzzer starts from valid frames and artifacts.

    write_link_inputs(out_dir)    the model C file the link target links, its seed corpus and dictionary
    write_model_inputs(out_dir)   artifacts using every opcode (with and without a HEAD) and a dictionary

The models are built as TFLite graphs by hand (no TensorFlow) and exported by ``export_artifact``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeleak.core.head import DenseLayer
from edgeleak.link.cobs import cobs_encode
from edgeleak.link.messages import ErrorCode, MsgType, pack_resend
from edgeleak.link.packet import FLAG_OFFSET, MAX_BODY, MAX_CHUNK_DATA, PROTOCOL_VERSION
from edgeleak.quantize.artifact import OPCODES, ExportedModel, export_artifact, read_head
from edgeleak.quantize.codegen import MAX_SAMPLES, artifact_to_c
from edgeleak.quantize.tflite_graph import TfliteGraph, TfliteOp, TfliteTensor
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify, TrainConfig

# --- models --------------------------------------------------------------------------------------------------


@dataclass
class _GraphBuilder:
    rng: np.random.Generator
    tensors: list[TfliteTensor] = field(default_factory=list)
    ops: list[TfliteOp] = field(default_factory=list)

    def tensor(self, type_name: str, shape: tuple[int, ...], scales: tuple[float, ...] = (), zero_point: int = 0,
               data: np.ndarray | None = None, quantized_dimension: int = 0) -> int:
        zps = (zero_point,) * len(scales)
        self.tensors.append(TfliteTensor(len(self.tensors), f"t{len(self.tensors)}", type_name, shape, scales, zps,
                                         quantized_dimension, data))
        return len(self.tensors) - 1

    def weights(self, shape: tuple[int, ...], scales: tuple[float, ...], quantized_dimension: int = 0) -> int:
        data = self.rng.integers(-127, 128, shape, dtype=np.int8)
        return self.tensor("int8", shape, scales, 0, data, quantized_dimension)

    def bias(self, count: int, scale: float) -> int:
        return self.tensor("int32", (count,), (scale,), 0, self.rng.integers(-2000, 2000, count).astype(np.int32))

    def op(self, name: str, inputs: tuple[int, ...], output: int, **options) -> int:
        self.ops.append(TfliteOp(len(self.ops), name, inputs, (output,), options))
        return output


def every_op_model(*, hidden: tuple[int, ...] = (16,), classes: int = 5, per_channel: bool = True,
                   activation: str = "RELU", padding: str = "SAME", dilation: int = 1, fc_bias: bool = True,
                   head: bool = True, seed: int = 0) -> ExportedModel:
    """An int8 [1, 6, 6, 2] window through every opcode of the engine, a 12-feature cut, then a float head
    of len(hidden) + 1 dense layers (1 to 3) and SOFTMAX:

        CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D, DEQUANTIZE, QUANTIZE (float -> int8),
        QUANTIZE (int8 -> int8), MEAN, RESHAPE, FULLY_CONNECTED (cut), FULLY_CONNECTED x (L), SOFTMAX
    """
    rng = np.random.default_rng(seed)
    g = _GraphBuilder(rng)
    s_in = 0.05
    x = g.tensor("int8", (1, 6, 6, 2), (s_in,), 3)
    w_scales = tuple(float(s) for s in rng.uniform(0.005, 0.02, 4)) if per_channel else (0.01,)
    conv_w = g.weights((4, 3, 3, 2), w_scales, 0)
    conv_b = g.bias(4, s_in * w_scales[0])
    y = g.op("CONV_2D", (x, conv_w, conv_b), g.tensor("int8", (1, 6, 6, 4), (0.08,), -5), strideW=1, strideH=1,
             dilationWFactor=dilation, dilationHFactor=dilation, padding=padding if dilation == 1 else "SAME",
             fusedActivationFunction=activation)
    dw_scales = tuple(float(s) for s in rng.uniform(0.005, 0.02, 8)) if per_channel else (0.01,)
    dw_w = g.weights((1, 3, 3, 8), dw_scales, 3)
    dw_b = g.bias(8, 0.08 * dw_scales[0])
    y = g.op("DEPTHWISE_CONV_2D", (y, dw_w, dw_b), g.tensor("int8", (1, 3, 3, 8), (0.1,), 4), strideW=2, strideH=2,
             dilationWFactor=1, dilationHFactor=1, padding="SAME", depthMultiplier=2, fusedActivationFunction="RELU6")
    y = g.op("AVERAGE_POOL_2D", (y,), g.tensor("int8", (1, 2, 2, 8), (0.1,), 4), filterWidth=2, filterHeight=2,
             strideW=1, strideH=1, padding="VALID", fusedActivationFunction="NONE")
    y = g.op("MAX_POOL_2D", (y,), g.tensor("int8", (1, 2, 2, 8), (0.1,), 4), filterWidth=2, filterHeight=2,
             strideW=1, strideH=1, padding="SAME", fusedActivationFunction="NONE")
    y = g.op("DEQUANTIZE", (y,), g.tensor("float32", (1, 2, 2, 8)))
    y = g.op("QUANTIZE", (y,), g.tensor("int8", (1, 2, 2, 8), (0.1,), 0))
    y = g.op("QUANTIZE", (y,), g.tensor("int8", (1, 2, 2, 8), (0.07,), 2))
    axes = g.tensor("int32", (2,), data=np.array([1, 2], dtype=np.int32))
    y = g.op("MEAN", (y, axes), g.tensor("int8", (1, 1, 1, 8), (0.06,), 1), keepDims=True)
    shape = g.tensor("int32", (2,), data=np.array([1, 8], dtype=np.int32))
    y = g.op("RESHAPE", (y, shape), g.tensor("int8", (1, 8), (0.06,), 1))
    fc_w = g.weights((12, 8), (0.02,))
    fc_b = g.bias(12, 0.06 * 0.02) if fc_bias else -1
    y = g.op("FULLY_CONNECTED", (y, fc_w, fc_b), g.tensor("int8", (1, 12), (0.1,), -10),
             fusedActivationFunction="RELU", weightsFormat=0)
    sizes = [12, *hidden, classes]
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = k == len(sizes) - 2
        w = g.weights((n_out, n_in), (0.02,))
        b = g.bias(n_out, 0.1 * 0.02)
        y = g.op("FULLY_CONNECTED", (y, w, b), g.tensor("int8", (1, n_out), (0.1,), 0 if last else -20),
                 fusedActivationFunction="NONE" if last else "RELU", weightsFormat=0)
        layers.append(DenseLayer(rng.normal(0.0, 0.2, (n_out, n_in)).astype(np.float32),
                                 rng.normal(0.0, 0.05, n_out).astype(np.float32)))
    y = g.op("SOFTMAX", (y,), g.tensor("int8", (1, classes), (1 / 256,), -128), beta=1.0)
    graph = TfliteGraph(tuple(g.tensors), tuple(g.ops), (x,), (y,))
    return export_artifact(graph, layers if head else [])


def dense_model(*, features: int = 12, hidden: int = 8, classes: int = 3, seed: int = 1) -> ExportedModel:
    """The whole network is the head: int8 [1, features] -> FULLY_CONNECTED x 2 -> SOFTMAX (the cut is the input)."""
    rng = np.random.default_rng(seed)
    g = _GraphBuilder(rng)
    x = g.tensor("int8", (1, features), (0.1,), 0)
    y = x
    layers = []
    for n_in, n_out, last in ((features, hidden, False), (hidden, classes, True)):
        w = g.weights((n_out, n_in), (0.02,))
        y = g.op("FULLY_CONNECTED", (y, w, g.bias(n_out, 0.002)), g.tensor("int8", (1, n_out), (0.1,), 0),
                 fusedActivationFunction="NONE" if last else "RELU", weightsFormat=0)
        layers.append(DenseLayer(rng.normal(0.0, 0.2, (n_out, n_in)).astype(np.float32), np.zeros(n_out, np.float32)))
    y = g.op("SOFTMAX", (y,), g.tensor("int8", (1, classes), (1 / 256,), -128), beta=1.0)
    return export_artifact(TfliteGraph(tuple(g.tensors), tuple(g.ops), (x,), (y,)), layers)


LINK_MODEL_HIDDEN = (64,)
"""A head of 12 -> 64 -> 5: P = 1157 parameters, so LOAD_WEIGHTS (4,628 B) exceeds the 1,024-byte link buffer and
arrives in several chunks joined into d (docs/protocol.md), as on real models."""


def link_model() -> ExportedModel:
    return every_op_model(hidden=LINK_MODEL_HIDDEN)


def loader_models() -> dict[str, ExportedModel]:
    """Artifacts for the loader target: every opcode, per-channel and per-tensor, 1 to 3 head layers, no HEAD."""
    return {
        "every_op_head2": every_op_model(),
        "every_op_head1": every_op_model(hidden=(), per_channel=False, activation="RELU6", padding="VALID"),
        "every_op_head3": every_op_model(hidden=(10, 7), dilation=2, fc_bias=False, seed=3),
        "every_op_no_head": every_op_model(head=False, activation="NONE", seed=4),
        "dense_whole_head": dense_model(),
    }


def model_dictionary() -> list[bytes]:
    tokens = [b"ELMA", b"TENS", b"OPS ", b"DATA", b"HEAD", b"\x01\x00", b"\x40\x00", b"\xff\xff", b"\x00\x00\x80\x3f"]
    tokens += [bytes([code]) for code in sorted(set(OPCODES.values()))]
    tokens += [struct.pack("<i", v) for v in (-128, 127, 1 << 30, 65535, 65536, -1)]
    return tokens


# --- link inputs ----------------------------------------------------------------------------------------------

BOARD_FRAMED = 0x01
BOARD_WEAK_ENTROPY = 0x02
BOARD_SENSOR = 0x04
BOARD_SENSOR_STOPS = 0x08

CTL_MORE = 0x01
CTL_BAD_CRC = 0x02
CTL_RAW = 0x04
CTL_OLD_VERSION = 0x08
CTL_ACKED = 0x80
CHUNK_SIZES = (1024, 1, 7, 64, 254, 300, 1000, 1023)
"""The chunk size of a framed record is CHUNK_SIZES[(ctl >> 4) & 7], at most MAX_CHUNK_DATA with CTL_ACKED."""


def chunk_ctl(size: int) -> int:
    return CHUNK_SIZES.index(size) << 4


@dataclass(frozen=True)
class Record:
    """One message as the link target's framed mode encodes it (firmware/fuzz/fuzz_link.c). With CTL_ACKED the
    chunks carry their offset, ``base`` plus their place in ``body``."""

    type: int
    seq: int
    body: bytes = b""
    ctl: int = 0
    base: int = 0

    def encode(self) -> bytes:
        body = struct.pack("<I", self.base) + self.body if self.ctl & CTL_ACKED else self.body
        return struct.pack("<BBHH", self.type, self.ctl, self.seq & 0xFFFF, len(body)) + body

    def wire(self) -> bytes:
        """The bytes the harness puts on the wire for this record."""
        if self.ctl & CTL_RAW:
            return self.body
        acked = bool(self.ctl & CTL_ACKED)
        size = CHUNK_SIZES[(self.ctl >> 4) & 7]
        size = min(size, MAX_CHUNK_DATA) if acked else size
        starts = range(0, len(self.body), size) or [0]
        out = bytearray()
        for k, start in enumerate(starts):
            chunk = self.body[start:start + size]
            last = k == len(starts) - 1
            more = not last or bool(self.ctl & CTL_MORE)
            version = 1 if last and self.ctl & CTL_OLD_VERSION else PROTOCOL_VERSION
            if acked:
                chunk = struct.pack("<I", (self.base + start) & 0xFFFFFFFF) + chunk
            flags = int(more) | (FLAG_OFFSET if acked else 0)
            raw = struct.pack("<BBBBHH", version, self.type, flags, 0, self.seq & 0xFFFF, len(chunk)) + chunk
            crc = zlib.crc32(raw) ^ (0x00010000 if last and self.ctl & CTL_BAD_CRC else 0)
            out += cobs_encode(raw + struct.pack("<I", crc)) + b"\x00"
        return bytes(out)


def framed_input(board: int, records: list[Record]) -> bytes:
    return bytes([board | BOARD_FRAMED]) + b"".join(r.encode() for r in records)


def raw_input(board: int, records: list[Record]) -> bytes:
    return bytes([board & ~BOARD_FRAMED]) + b"".join(r.wire() for r in records)


def _f32(values) -> bytes:
    return np.asarray(values, dtype="<f4").tobytes()


def link_seeds(model: ExportedModel) -> dict[str, tuple[int, list[Record]]]:
    """Seed inputs by name: (board flags, records), one or more for every message type and reply path."""
    n_in = int(np.prod(model.input_shape))
    rng = np.random.default_rng(7)

    def window(k: int) -> bytes:
        return rng.integers(-128, 128, n_in, dtype=np.int8).tobytes() if k >= 0 else b""

    def sample(seq: int, label: int) -> Record:
        return Record(MsgType.SAMPLE, seq, bytes([label, 0, 0, 0]) + window(seq))

    def samples(first: int, count: int, classes: int = 5) -> list[Record]:
        return [sample(first + k, k % classes) for k in range(count)]

    def configure(seq: int, **kw) -> Record:
        return Record(MsgType.CONFIGURE, seq, TrainConfig(**kw).pack())

    weights = b"".join(_f32(layer.weights.reshape(-1)) + _f32(layer.bias) for layer in read_head(model.artifact))
    t = MsgType
    configs = {
        "plain": dict(learning_rate=0.05, momentum=0.9, batch_size=2, local_steps=2),
        # sigma 2 and 3: one release fits a floor of epsilon 8 (4.7 and 4.4 on 4 samples), a second does not
        "clip_update_gauss": dict(clip_mode=ClipMode.UPDATE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN,
                                  noise_multiplier=2.0, batch_size=2, local_steps=2),
        "dpsgd": dict(clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5, noise_kind=NoiseKind.GAUSSIAN,
                      noise_multiplier=3.0, noise_mode=NoiseMode.STEP, batch_size=2, local_steps=3),
        "laplace_topk_f16": dict(clip_mode=ClipMode.UPDATE, clip_norm=2.0, noise_kind=NoiseKind.LAPLACE,
                                 noise_multiplier=0.5, sparsify=Sparsify.TOP_K, sparsify_fraction=0.25,
                                 encoding=Encoding.FLOAT16),
        "random_mask_int8": dict(sparsify=Sparsify.RANDOM, sparsify_fraction=0.5, encoding=Encoding.INT8,
                                 clip_mode=ClipMode.PER_EXAMPLE, clip_norm=1.0),
        "epochs": dict(local_steps=0, epochs=1, batch_size=3),
        "seeded_gauss": dict(clip_mode=ClipMode.UPDATE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN,
                             noise_multiplier=2.0, seed=0x1234, round=7),
        "gauss_top_k": dict(clip_mode=ClipMode.PER_EXAMPLE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN,
                            noise_multiplier=2.5, sparsify=Sparsify.TOP_K, sparsify_fraction=0.1,
                            encoding=Encoding.INT8, local_steps=0, epochs=1),
    }
    seeds: dict[str, tuple[int, list[Record]]] = {
        "hello_stats": (0, [Record(t.HELLO, 1), Record(t.STATS, 2)]),
        "infer": (0, [Record(t.INFER, 1, window(1)), Record(t.INFER, 2, window(2)[:-1]),
                      Record(t.INFER, 3, window(3), chunk_ctl(7)), Record(t.INFER, 4, window(4) * 20)]),
        "train_default": (0, [*samples(1, 3), Record(t.TRAIN, 4), Record(t.TRAIN, 4), Record(t.STATS, 5)]),
        "weights_round": (0, [configure(1, **configs["plain"]), Record(t.LOAD_WEIGHTS, 2, weights),
                              *samples(3, 4), Record(t.TRAIN, 7), Record(t.CLEAR_SAMPLES, 8), Record(t.TRAIN, 9)]),
        "weights_odd_chunks": (0, [Record(t.LOAD_WEIGHTS, 1, weights, chunk_ctl(1000)),
                                   Record(t.LOAD_WEIGHTS, 2, weights[:-4]),
                                   Record(t.LOAD_WEIGHTS, 3, _f32([np.nan]) + weights[4:])]),
        "sense": (BOARD_SENSOR, [configure(1, **configs["plain"]),
                                 Record(t.SENSE, 2, struct.pack("<BBH", 1, 6, 2) + _f32([0.0] * 6) + _f32([1.0] * 6)),
                                 Record(t.SENSE, 3, struct.pack("<BBH", 2, 3, 1) + _f32([0.0] * 3) + _f32([2.0] * 3)),
                                 Record(t.TRAIN, 4)]),
        "sense_stops": (BOARD_SENSOR | BOARD_SENSOR_STOPS,
                        [Record(t.SENSE, 1, struct.pack("<BBH", 0, 6, 8) + _f32([0.5] * 6) + _f32([3.0] * 6))]),
        "sense_no_sensor": (0, [Record(t.SENSE, 1, struct.pack("<BBH", 0, 6, 1) + _f32([0.0] * 6) + _f32([1.0] * 6))]),
        "errors": (0, [Record(t.HELLO, 1, b"x"), Record(0x42, 2), Record(t.CONFIGURE, 3, bytes(43)),
                       Record(t.CONFIGURE, 4, bytes(5000)), Record(t.SAMPLE, 5, bytes([9, 0, 0, 0]) + window(5)),
                       Record(t.CLEAR_SAMPLES, 6, b"x"), Record(t.TRAIN, 7, b"x"), Record(t.TRAIN, 8),
                       Record(t.STATS, 9, ctl=CTL_BAD_CRC), Record(t.HELLO, 10, ctl=CTL_OLD_VERSION)]),
        "unfinished": (0, [Record(t.CONFIGURE, 1, bytes(20), CTL_MORE), Record(t.HELLO, 2),
                           Record(t.SAMPLE, 3, bytes(30), CTL_MORE), Record(t.SAMPLE, 3, bytes(50)),
                           Record(0, 0, b"\x05\x02\x01\x00\x00garbage\x00\x00", CTL_RAW), Record(t.STATS, 4)]),
        "reset": (0, [*samples(1, 2), Record(t.RESET, 3), Record(t.HELLO, 4), Record(t.TRAIN, 5),
                      Record(t.RESET, 6, b"x")]),
        "retransmit": (0, [configure(1, **configs["plain"]), configure(1, **configs["plain"]), sample(2, 1),
                           sample(2, 1), Record(t.CLEAR_SAMPLES, 3), Record(t.CLEAR_SAMPLES, 3),
                           sample(4, 0), Record(t.TRAIN, 5), Record(t.HELLO, 6), Record(t.TRAIN, 5)]),
        "store_full": (0, [*samples(1, MAX_SAMPLES + 1), Record(t.TRAIN, 100)]),
        "weak_entropy": (BOARD_WEAK_ENTROPY, [configure(1, **configs["clip_update_gauss"]), *samples(2, 2),
                                              Record(t.TRAIN, 9)]),
        # sigma 4: releases of epsilon 2.2 each until the budget of a floor of 8 is spent (about 9)
        "budget": (0, [configure(1, clip_mode=ClipMode.UPDATE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN,
                                 noise_multiplier=4.0), *samples(2, 2),
                       *[Record(t.TRAIN, 10 + k) for k in range(12)], Record(t.HELLO, 30)]),
    }
    acked = CTL_ACKED | chunk_ctl(300)
    tail = len(weights) - len(weights) % 300 if len(weights) % 300 else len(weights) - 300
    seeds.update({
        # acknowledged chunks: a whole message, its final chunk again (a kept reply), a gap, copies, a restart
        "acked_weights": (0, [configure(1, **configs["plain"]), Record(t.LOAD_WEIGHTS, 2, weights, acked),
                              Record(t.LOAD_WEIGHTS, 2, weights[tail:], acked, tail),
                              Record(t.LOAD_WEIGHTS, 2, weights[:300], acked | CTL_MORE),
                              Record(t.LOAD_WEIGHTS, 3, weights[600:900], acked | CTL_MORE, 600),
                              Record(t.LOAD_WEIGHTS, 3, weights[:300], acked | CTL_MORE),
                              Record(t.LOAD_WEIGHTS, 3, weights[:300], acked | CTL_MORE),
                              Record(t.LOAD_WEIGHTS, 3, weights[300:], acked, 300),
                              *samples(4, 2), Record(t.TRAIN, 6)]),
        "acked_infer": (0, [Record(t.INFER, 1, window(1), CTL_ACKED | chunk_ctl(64)),
                            Record(t.INFER, 1, window(1)[-(n_in % 64 or 64):], CTL_ACKED | chunk_ctl(64),
                                   n_in - (n_in % 64 or 64)),
                            Record(t.INFER, 1, window(1), CTL_ACKED | chunk_ctl(64)),
                            Record(t.SAMPLE, 2, bytes([1, 0, 0, 0]) + window(2), CTL_ACKED | chunk_ctl(7)),
                            Record(t.CONFIGURE, 3, bytes(2000), CTL_ACKED | chunk_ctl(1000))]),
        # parts of an UPDATE again (RESEND): in pieces, past its end, for another TRAIN, malformed
        "resend": (0, [configure(1, **configs["clip_update_gauss"]), *samples(2, 3), Record(t.TRAIN, 5),
                       Record(t.RESEND, 6, pack_resend(5, 100, 0)), Record(t.RESEND, 7, pack_resend(5, 1016, 60)),
                       Record(t.RESEND, 8, pack_resend(5, 0xFFFF, 4 * 1157)), Record(t.RESEND, 9, pack_resend(4, 8, 0)),
                       Record(t.RESEND, 10, pack_resend(5, 0, 0)), Record(t.RESEND, 11, pack_resend(5, 8, 1 << 31)),
                       Record(t.RESEND, 12, b"\x05\x00"), Record(t.CLEAR_SAMPLES, 13),
                       Record(t.RESEND, 14, pack_resend(5, 8, 0))]),
    })
    for name, cfg in configs.items():
        seeds[f"config_{name}"] = (0, [configure(1, **cfg), *samples(2, 4), Record(t.TRAIN, 6)])
    return seeds


def link_dictionary(model: ExportedModel) -> list[bytes]:
    """Protocol constants, and whole frames of the messages without a body (valid CRCs to splice in)."""
    tokens = [b"\x00", bytes([PROTOCOL_VERSION])]
    for mtype in MsgType:
        tokens.append(bytes([PROTOCOL_VERSION, mtype, 0, 0]))
        tokens.append(bytes([mtype, 0]))  # a framed-mode record head: type, ctl
    tokens += [bytes([PROTOCOL_VERSION, MsgType.LOAD_WEIGHTS, 1, 0])]  # a chunk with MORE
    tokens += [bytes([PROTOCOL_VERSION, MsgType.LOAD_WEIGHTS, FLAG_OFFSET | 1, 0]), bytes([FLAG_OFFSET]),
               bytes([CTL_ACKED | chunk_ctl(300)])]  # acknowledged chunks
    tokens += [Record(MsgType.RESEND, 2, pack_resend(1, 64, 0)).wire(), pack_resend(1, 1016, 0)]
    for mtype in (MsgType.HELLO, MsgType.STATS, MsgType.TRAIN, MsgType.CLEAR_SAMPLES, MsgType.RESET):
        tokens.append(Record(mtype, 1).wire())
    n_in = int(np.prod(model.input_shape))
    params = sum(n_in_l * n_out + n_out for n_in_l, n_out in model.head_shapes)
    tokens += [struct.pack("<H", v) for v in (44, n_in, 4 + n_in, MAX_BODY, 4 * params, 0xFFFF)]
    tokens += [struct.pack("<H", int(code)) for code in ErrorCode]
    tokens += [_f32([v]) for v in (1.0, 0.01, 0.5, 2.0, 10.0, 1e-3, 1e30, 3.4e38, 1e-45, -0.0)]
    tokens += [b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\x80\xff"]  # NaN, +inf, -inf
    return tokens


def write_dictionary(path: Path, tokens: list[bytes]) -> Path:
    lines = [f'kw{k}="' + "".join(f"\\x{b:02x}" for b in token) + '"' for k, token in enumerate(dict.fromkeys(tokens))]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


@dataclass(frozen=True)
class TargetInputs:
    seeds: Path
    dictionary: Path
    model_c: Path | None = None


def write_link_inputs(out: Path, model: ExportedModel | None = None) -> TargetInputs:
    """``out/model.c`` (the link target's model, default link_model()), ``out/seeds/`` (framed and raw form of every
    seed), ``out/link.dict``."""
    model = model or link_model()
    seeds_dir = out / "seeds"
    seeds_dir.mkdir(parents=True, exist_ok=True)
    model_c = out / "model.c"
    model_c.write_text(artifact_to_c(model.artifact), encoding="utf-8")
    for name, (board, records) in link_seeds(model).items():
        (seeds_dir / f"{name}.framed").write_bytes(framed_input(board, records))
        (seeds_dir / f"{name}.raw").write_bytes(raw_input(board, records))
    return TargetInputs(seeds_dir, write_dictionary(out / "link.dict", link_dictionary(model)), model_c)


def write_model_inputs(out: Path) -> TargetInputs:
    """``out/seeds/*.elm`` (artifacts the exporter wrote) and ``out/model.dict``."""
    seeds_dir = out / "seeds"
    seeds_dir.mkdir(parents=True, exist_ok=True)
    for name, model in loader_models().items():
        (seeds_dir / f"{name}.elm").write_bytes(model.artifact)
    return TargetInputs(seeds_dir, write_dictionary(out / "model.dict", model_dictionary()))
