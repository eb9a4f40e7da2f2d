"""Message types and body layouts of protocol version 1 (docs/protocol.md)."""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from enum import IntEnum


class MsgType(IntEnum):
    HELLO = 0x01
    INFER = 0x02
    STATS = 0x03
    RESET = 0x04
    CONFIGURE = 0x05
    LOAD_WEIGHTS = 0x06
    SAMPLE = 0x07
    CLEAR_SAMPLES = 0x08
    TRAIN = 0x09
    SENSE = 0x0A
    ERROR = 0x7F
    ACK = 0x80
    INFO = 0x81
    OUTPUT = 0x82
    STATS_REPLY = 0x83
    UPDATE = 0x89


class ErrorCode(IntEnum):
    E_CRC = 1
    E_UNKNOWN = 2
    E_LENGTH = 3
    E_TOO_BIG = 4
    E_MODEL = 5
    E_KERNEL = 6
    E_CONFIG = 7
    E_FLOOR = 8
    E_SEED = 9
    E_FULL = 10
    E_STATE = 11


_INFO = struct.Struct("<HHI32sIIIHHHH")


@dataclass(frozen=True)
class DeviceInfo:
    protocol_version: int
    model_format_version: int
    boot_id: int
    model_hash: str
    arena_bytes: int
    static_ram_bytes: int
    tick_hz: int
    input_bytes: int
    output_bytes: int
    max_message: int
    max_samples: int
    board: str
    firmware_version: str
    trainable_params: int = 0
    head_shapes: tuple[tuple[int, int], ...] = ()
    floor_max_clip: float = 0.0  # 0: no floor
    floor_min_noise: float = 0.0  # 0: no floor
    testing_build: bool = False


def parse_info(body: bytes) -> DeviceInfo:
    if len(body) < _INFO.size:
        raise ValueError(f"INFO body of {len(body)} bytes is shorter than {_INFO.size}")
    (proto, fmt, boot, digest, arena, static, hz, n_in, n_out, max_msg, max_samples) = _INFO.unpack_from(body)
    rest = body[_INFO.size:]
    board, _, rest = rest.partition(b"\x00")
    version, _, rest = rest.partition(b"\x00")
    info = DeviceInfo(proto, fmt, boot, digest.hex(), arena, static, hz, n_in, n_out, max_msg, max_samples,
                      board.decode("utf-8", "replace"), version.decode("utf-8", "replace"))
    if len(rest) < 6:
        return info  # a device without training support
    params, n_layers = struct.unpack_from("<IH", rest)
    shapes = tuple(struct.unpack_from("<HH", rest, 6 + 4 * k) for k in range(min(n_layers, 3)))
    tail = 6 + 4 * len(shapes)
    if len(rest) < tail + 9:
        raise ValueError("INFO training fields are truncated")
    max_clip, min_noise, testing = struct.unpack_from("<ffB", rest, tail)
    return dataclasses.replace(info, trainable_params=params, head_shapes=shapes, floor_max_clip=max_clip,
                               floor_min_noise=min_noise, testing_build=bool(testing))


@dataclass(frozen=True)
class InferResult:
    ticks: int
    output: bytes


def parse_output(body: bytes) -> InferResult:
    if len(body) < 4:
        raise ValueError("OUTPUT body shorter than 4 bytes")
    return InferResult(struct.unpack_from("<I", body)[0], body[4:])


@dataclass(frozen=True)
class DeviceStats:
    ticks: int
    stack_high_water: int
    stack_size: int
    inferences: int


def parse_stats(body: bytes) -> DeviceStats:
    if len(body) < 16:
        raise ValueError("STATS_REPLY body shorter than 16 bytes")
    return DeviceStats(*struct.unpack_from("<IIII", body))


def parse_error(body: bytes) -> tuple[int, str]:
    if len(body) < 2:
        return 0, "malformed error frame"
    return struct.unpack_from("<H", body)[0], body[2:].decode("utf-8", "replace")
