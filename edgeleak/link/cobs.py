"""Consistent Overhead Byte Stuffing: removes every zero byte so that 0x00 can end a frame."""

from __future__ import annotations


class CobsError(ValueError):
    """The encoded bytes are not valid COBS."""


def max_encoded_size(n: int) -> int:
    """Worst-case COBS size of ``n`` bytes (without the 0x00 delimiter)."""
    return n + n // 254 + 1


def cobs_encode(data: bytes) -> bytes:
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(encoded: bytes) -> bytes:
    out = bytearray()
    i = 0
    n = len(encoded)
    while i < n:
        code = encoded[i]
        if code == 0:
            raise CobsError("zero byte inside a COBS frame")
        end = i + code
        if end > n:
            raise CobsError("COBS block runs past the end of the frame")
        block = encoded[i + 1:end]
        if 0 in block:
            raise CobsError("zero byte inside a COBS frame")
        out += block
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)
