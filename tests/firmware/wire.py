"""A small reference codec for docs/protocol.md, used only by the firmware tests and to
(re)generate tests/vectors/protocol.json. The project's codec is edgeleak.link."""

from __future__ import annotations

import struct
import zlib

BODY_MAX = 1024
MORE = 0x01


def cobs_encode(data: bytes) -> bytes:
    out = bytearray([0])
    code_at, code = 0, 1
    for i, b in enumerate(data):
        if b == 0:
            out[code_at] = code
            code_at, code = len(out), 1
            out.append(0)
        else:
            out.append(b)
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at, code = len(out), 1
                out.append(0)
    out[code_at] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        i += 1
        if code == 0 or i + code - 1 > len(data) or 0 in data[i:i + code - 1]:
            raise ValueError("bad COBS")
        out += data[i:i + code - 1]
        i += code - 1
        if code != 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def packet(msg_type: int, seq: int, body: bytes = b"", flags: int = 0, version: int = 2) -> bytes:
    head = struct.pack("<BBBBHH", version, msg_type, flags, 0, seq, len(body)) + body
    return head + struct.pack("<I", zlib.crc32(head))


def frame(msg_type: int, seq: int, body: bytes = b"", flags: int = 0) -> bytes:
    return cobs_encode(packet(msg_type, seq, body, flags)) + b"\0"


def message_frames(msg_type: int, seq: int, body: bytes) -> list[bytes]:
    chunks = [body[i:i + BODY_MAX] for i in range(0, len(body), BODY_MAX)] or [b""]
    return [frame(msg_type, seq, c, MORE if k + 1 < len(chunks) else 0) for k, c in enumerate(chunks)]


def parse_packet(pkt: bytes) -> tuple[int, int, int, bytes]:
    """(type, flags, seq, body); raises ValueError for anything the device would drop."""
    if len(pkt) < 12:
        raise ValueError("short")
    version, msg_type, flags, _, seq, n = struct.unpack_from("<BBBBHH", pkt)
    if n > BODY_MAX or n + 12 != len(pkt):
        raise ValueError("length")
    if zlib.crc32(pkt[:8 + n]) != struct.unpack_from("<I", pkt, 8 + n)[0]:
        raise ValueError("crc")
    if version != 2:
        raise ValueError("version")
    return msg_type, flags, seq, pkt[8:8 + n]


class FrameReader:
    """Split a byte stream into decoded messages (joins MORE chunks)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.parts: list[bytes] = []

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        out = []
        self.buf += data
        while b"\0" in self.buf:
            raw, _, rest = bytes(self.buf).partition(b"\0")
            self.buf = bytearray(rest)
            if not raw:
                continue
            msg_type, flags, seq, body = parse_packet(cobs_decode(raw))
            self.parts.append(body)
            if not flags & MORE:
                out.append((msg_type, seq, b"".join(self.parts)))
                self.parts = []
        return out
