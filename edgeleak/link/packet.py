"""Packets of protocol version 2: header, body, CRC-32; framed with COBS and a 0x00 delimiter."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from edgeleak.link.cobs import CobsError, cobs_decode, cobs_encode

PROTOCOL_VERSION = 2
HEADER = struct.Struct("<BBBBHH")
MAX_BODY = 1024
FLAG_MORE = 0x01
FLAG_OFFSET = 0x02  # the body starts with the u32 offset of the chunk's data in its message
OFFSET = struct.Struct("<I")
MAX_CHUNK_DATA = MAX_BODY - OFFSET.size
MIN_PACKET = HEADER.size + 4


class PacketError(ValueError):
    """A frame that is not a valid packet (bad COBS, length, version or CRC)."""

    def __init__(self, message: str, *, crc: bool = False) -> None:
        super().__init__(message)
        self.crc = crc


@dataclass(frozen=True)
class Packet:
    type: int
    seq: int
    body: bytes = b""
    flags: int = 0

    @property
    def more(self) -> bool:
        return bool(self.flags & FLAG_MORE)

    @property
    def offset(self) -> int | None:
        """The chunk's place in its message (an OFFSET chunk), else None."""
        if not self.flags & FLAG_OFFSET or len(self.body) < OFFSET.size:
            return None
        return OFFSET.unpack_from(self.body)[0]


def encode_packet(packet: Packet) -> bytes:
    """The packet as a wire frame: COBS(header + body + crc) + 0x00."""
    if len(packet.body) > MAX_BODY:
        raise ValueError(f"body of {len(packet.body)} bytes exceeds {MAX_BODY}; chunk the message")
    raw = HEADER.pack(PROTOCOL_VERSION, packet.type, packet.flags, 0, packet.seq & 0xFFFF, len(packet.body)) + packet.body
    return cobs_encode(raw + struct.pack("<I", zlib.crc32(raw))) + b"\x00"


def decode_frame(frame: bytes) -> Packet:
    """Decode one frame (without its 0x00 delimiter)."""
    try:
        raw = cobs_decode(frame)
    except CobsError as exc:
        raise PacketError(str(exc)) from None
    if len(raw) < MIN_PACKET:
        raise PacketError(f"packet of {len(raw)} bytes is shorter than {MIN_PACKET}")
    version, mtype, flags, _, seq, length = HEADER.unpack_from(raw)
    if version != PROTOCOL_VERSION:
        raise PacketError(f"protocol version {version}, expected {PROTOCOL_VERSION}")
    if length > MAX_BODY or HEADER.size + length + 4 != len(raw):
        raise PacketError(f"body length {length} disagrees with packet length {len(raw)}")
    (crc,) = struct.unpack_from("<I", raw, len(raw) - 4)
    if zlib.crc32(raw[:-4]) != crc:
        raise PacketError("CRC mismatch", crc=True)
    return Packet(type=mtype, seq=seq, body=bytes(raw[HEADER.size:-4]), flags=flags)


def encode_message(mtype: int, seq: int, body: bytes) -> list[bytes]:
    """A message as one or more frames: chunks of MAX_BODY, all but the last flagged MORE."""
    chunks = [body[i:i + MAX_BODY] for i in range(0, len(body), MAX_BODY)] or [b""]
    return [encode_packet(Packet(mtype, seq, chunk, FLAG_MORE if k < len(chunks) - 1 else 0)) for k, chunk in enumerate(chunks)]


class FrameSplitter:
    """Accumulates received bytes and yields complete frames (the bytes between 0x00 delimiters). A frame longer
    than ``max_frame`` is dropped up to the next delimiter and counted in ``overflows``."""

    def __init__(self, max_frame: int = 4096) -> None:
        self._buffer = bytearray()
        self._max = max_frame
        self._overflow = False
        self.overflows = 0

    def feed(self, data: bytes) -> list[bytes]:
        frames = []
        for byte in data:
            if byte == 0:
                if self._overflow:
                    self.overflows += 1
                elif self._buffer:
                    frames.append(bytes(self._buffer))
                self._buffer.clear()
                self._overflow = False
            elif len(self._buffer) < self._max:
                self._buffer.append(byte)
            else:
                self._overflow = True  # drop until the next delimiter
        return frames


def encode_chunk(mtype: int, seq: int, body: bytes, offset: int, size: int) -> bytes:
    """The acknowledged chunk of ``body`` that starts at ``offset``: at most ``size`` bytes (1 to 1020) after the
    u32 offset, MORE unless it reaches the end (docs/protocol.md, Acknowledged chunks)."""
    if not 1 <= size <= MAX_CHUNK_DATA:
        raise ValueError(f"chunk size must lie in [1, {MAX_CHUNK_DATA}], got {size}")
    if not 0 <= offset <= len(body):
        raise ValueError(f"offset {offset} is outside a body of {len(body)} bytes")
    data = body[offset:offset + size]
    flags = FLAG_OFFSET | (FLAG_MORE if offset + len(data) < len(body) else 0)
    return encode_packet(Packet(mtype, seq, OFFSET.pack(offset) + data, flags))
