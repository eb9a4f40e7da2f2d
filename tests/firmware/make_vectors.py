"""Regenerate tests/vectors/protocol.json: python tests/firmware/make_vectors.py

The JSON file is the contract; the C codec (tests/firmware/test_vectors.py) and the
Python codec (edgeleak.link) are both tested against it. Hex strings, lower case.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from wire import cobs_encode, frame, message_frames, packet

OUT = Path(__file__).resolve().parents[1] / "vectors" / "protocol.json"


def _cobs(name: str, data: bytes) -> dict:
    return {"name": name, "decoded": data.hex(), "encoded": cobs_encode(data).hex()}


def _pkt(name: str, msg_type: int, seq: int, body: bytes, flags: int = 0) -> dict:
    return {"name": name, "type": msg_type, "flags": flags, "seq": seq, "body": body.hex(),
            "packet": packet(msg_type, seq, body, flags).hex(), "frame": frame(msg_type, seq, body, flags).hex()}


def _bad_crc(msg_type: int, seq: int) -> bytes:
    p = bytearray(packet(msg_type, seq))
    p[-1] ^= 0x5A
    return bytes(p)


def main() -> None:
    nz254 = bytes(range(1, 255))
    nz255 = bytes(range(1, 256))
    info_like = bytes(60) + b"mps2-an386\x000.1.0\x00"
    chunked = bytes((i * 37 + 11) % 256 for i in range(2500))
    vectors = {
        "description": "Test vectors for docs/protocol.md v1. cobs: encoded has no 0x00 delimiter. "
                       "packets: packet = header+body+crc, frame = COBS(packet)+0x00. messages: a body "
                       "split into chunks of at most 1024 bytes, MORE on all but the last. invalid: frames "
                       "(with delimiter) a receiver must drop; reason is the first check that fails; "
                       "the device answers 'crc' with ERROR E_CRC (code 1) and ignores the others.",
        "cobs": [
            _cobs("empty", b""),
            _cobs("one zero", b"\x00"),
            _cobs("two zeros", b"\x00\x00"),
            _cobs("zero run", b"\x11" + b"\x00" * 5 + b"\x22"),
            _cobs("no zeros", b"\x11\x22\x33\x44"),
            _cobs("trailing zero", b"\x11\x22\x00"),
            _cobs("253 non-zero", bytes(range(1, 254))),
            _cobs("254 non-zero (full block, then a final 0x01 code)", nz254),
            _cobs("255 non-zero", nz255),
            _cobs("254 non-zero then zero", nz254 + b"\x00"),
            _cobs("zero then 254 non-zero", b"\x00" + nz254),
            _cobs("600 mixed", bytes((i * 7) % 256 if i % 300 else 0 for i in range(600))),
        ],
        "packets": [
            _pkt("HELLO", 0x01, 1, b""),
            _pkt("STATS seq 0xABCD", 0x03, 0xABCD, b""),
            _pkt("RESET", 0x04, 7, b""),
            _pkt("ACK", 0x80, 7, b""),
            _pkt("ERROR E_CRC", 0x7F, 2, struct.pack("<H", 1) + b"bad CRC"),
            _pkt("INFER zeros", 0x02, 3, bytes(8)),
            _pkt("OUTPUT", 0x82, 3, struct.pack("<I", 1234) + bytes([0x80, 0x7F, 0x00, 0x01])),
            _pkt("INFO-like", 0x81, 1, info_like),
            _pkt("1024-byte body", 0x02, 9, bytes((i * 13) % 256 for i in range(1024))),
            _pkt("chunk with MORE", 0x02, 10, b"\x01\x02\x03", flags=1),
        ],
        "messages": [
            {"name": "2500-byte INFER in 3 chunks", "type": 0x02, "seq": 11, "body": chunked.hex(),
             "frames": [f.hex() for f in message_frames(0x02, 11, chunked)]},
            {"name": "exactly 1024 bytes: one chunk", "type": 0x02, "seq": 12, "body": chunked[:1024].hex(),
             "frames": [f.hex() for f in message_frames(0x02, 12, chunked[:1024])]},
            {"name": "1025 bytes: 1024 + 1", "type": 0x82, "seq": 13, "body": chunked[:1025].hex(),
             "frames": [f.hex() for f in message_frames(0x82, 13, chunked[:1025])]},
        ],
        "invalid": [
            {"name": "empty packet", "reason": "short", "frame": (cobs_encode(b"") + b"\0").hex()},
            {"name": "11 bytes", "reason": "short", "frame": (cobs_encode(packet(1, 1)[:11]) + b"\0").hex()},
            {"name": "body length says 5, has 0", "reason": "length",
             "frame": (cobs_encode(_len_lie()) + b"\0").hex()},
            {"name": "body length 1025", "reason": "length", "frame": (cobs_encode(_too_long()) + b"\0").hex()},
            {"name": "CRC flipped", "reason": "crc", "seq": 5, "frame": (cobs_encode(_bad_crc(1, 5)) + b"\0").hex()},
            {"name": "version 1 (before the privacy budget)", "reason": "version",
             "frame": (cobs_encode(packet(1, 6, version=1)) + b"\0").hex()},
            {"name": "bad COBS (code past end)", "reason": "cobs", "frame": "0511220000"[:6] + "00"},
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(vectors, indent=1) + "\n", encoding="utf-8")
    print(OUT)


def _len_lie() -> bytes:
    head = struct.pack("<BBBBHH", 2, 1, 0, 0, 1, 5)
    return head + struct.pack("<I", zlib.crc32(head))


def _too_long() -> bytes:
    head = struct.pack("<BBBBHH", 2, 2, 0, 0, 1, 1025) + bytes(1025)
    return head + struct.pack("<I", zlib.crc32(head))


if __name__ == "__main__":
    main()
