"""Message types and body layouts of protocol version 1 (docs/protocol.md)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum


class MsgType(IntEnum):
    HELLO = 0x01
    INFER = 0x02
    STATS = 0x03
    RESET = 0x04
    ERROR = 0x7F
    ACK = 0x80
    INFO = 0x81
    OUTPUT = 0x82
    STATS_REPLY = 0x83


class ErrorCode(IntEnum):
    E_CRC = 1
    E_UNKNOWN = 2
    E_LENGTH = 3
    E_TOO_BIG = 4
    E_MODEL = 5
    E_KERNEL = 6


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
    board: str
    firmware_version: str


def parse_info(body: bytes) -> DeviceInfo:
    if len(body) < _INFO.size:
        raise ValueError(f"INFO body of {len(body)} bytes is shorter than {_INFO.size}")
    (proto, fmt, boot, digest, arena, static, hz, n_in, n_out, max_msg, _) = _INFO.unpack_from(body)
    strings = body[_INFO.size:].split(b"\x00")
    board = strings[0].decode("utf-8", "replace") if strings else ""
    version = strings[1].decode("utf-8", "replace") if len(strings) > 1 else ""
    return DeviceInfo(proto, fmt, boot, digest.hex(), arena, static, hz, n_in, n_out, max_msg, board, version)


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
