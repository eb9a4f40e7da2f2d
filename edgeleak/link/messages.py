"""Message types and body layouts of protocol version 2 (docs/protocol.md)."""

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
    RESEND = 0x0B
    ERROR = 0x7F
    ACK = 0x80
    INFO = 0x81
    OUTPUT = 0x82
    STATS_REPLY = 0x83
    CHUNK_ACK = 0x84
    UPDATE = 0x89
    PART = 0x8B


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
    E_BUDGET = 12
    E_ENTROPY = 13


class EntropySource(IntEnum):
    """Where the device's PRNG key came from (INFO)."""

    WEAK = 0
    HARDWARE = 1
    OS = 2
    EMULATOR = 3  # the emulator's host: the server's own machine, so a functional test only


_INFO = struct.Struct("<HHI32sIIIHHHH")
_TRAIN_TAIL = struct.Struct("<ffBBBBdfI")  # after the head shapes (docs/protocol.md, INFO)


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
    floor_epsilon: float = 0.0  # epsilon_max of the device's budget; 0: no floor
    floor_delta: float = 1e-5  # the delta the device reports epsilon at
    testing_build: bool = False
    entropy_source: EntropySource = EntropySource.WEAK
    floor_valid: bool = True  # False: the build's floor constants are invalid and it refuses every TRAIN
    rho_spent: float = 0.0  # zCDP spent on the stored samples; inf when unbounded
    epsilon_spent: float = 0.0  # at floor_delta; inf when unbounded
    max_round_work: int = 0  # compute cap: example-parameter products per round

    @property
    def floored(self) -> bool:
        return self.floor_epsilon != 0.0


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
    if len(rest) < tail + _TRAIN_TAIL.size:
        raise ValueError("INFO training fields are truncated")
    eps_max, delta, testing, entropy, flags, _, rho, eps, cap = _TRAIN_TAIL.unpack_from(rest, tail)
    try:
        source = EntropySource(entropy)
    except ValueError:
        raise ValueError(f"INFO names an unknown entropy source {entropy}") from None
    return dataclasses.replace(info, trainable_params=params, head_shapes=shapes, floor_epsilon=eps_max,
                               floor_delta=delta, testing_build=bool(testing), entropy_source=source,
                               floor_valid=bool(flags & 1), rho_spent=rho, epsilon_spent=eps, max_round_work=cap)


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


_RESEND = struct.Struct("<HHI")
_PART_HEAD = struct.Struct("<II")
PART_DATA_MAX = 1024 - _PART_HEAD.size  # bytes of a resent reply one PART carries


def pack_resend(train_seq: int, length: int, offset: int) -> bytes:
    """RESEND: bytes [offset, offset + length) of the UPDATE that answered the TRAIN numbered train_seq."""
    return _RESEND.pack(train_seq & 0xFFFF, length, offset)


@dataclass(frozen=True)
class Part:
    """A PART: bytes of a reply sent again, at ``offset`` in a reply of ``total`` bytes."""

    total: int
    offset: int
    data: bytes


def parse_part(body: bytes) -> Part:
    if len(body) < _PART_HEAD.size:
        raise ValueError(f"PART of {len(body)} bytes is shorter than its {_PART_HEAD.size}-byte head")
    total, offset = _PART_HEAD.unpack_from(body)
    data = bytes(body[_PART_HEAD.size:])
    if offset + len(data) > total:
        raise ValueError(f"PART of {len(data)} bytes at {offset} runs past the reply's {total} bytes")
    return Part(total, offset, data)


def parse_chunk_ack(body: bytes) -> int:
    """CHUNK_ACK: the bytes of the message being joined that the device holds."""
    if len(body) != 4:
        raise ValueError(f"CHUNK_ACK of {len(body)} bytes, expected 4")
    return struct.unpack("<I", body)[0]
