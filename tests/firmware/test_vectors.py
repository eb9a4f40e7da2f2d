"""The C codec (firmware/src/proto, through ctypes) reproduces tests/vectors/protocol.json."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from edgeleak.firmware.pio_offline import FIRMWARE_DIR

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "protocol.json"
SRC = FIRMWARE_DIR / "src"

_SHIM = r"""
#include <string.h>
#include "proto/el_rx.h"
static el_rx rx;
static uint8_t buf[8192];
static el_rx_msg last;
void shim_rx_init(void) { el_rx_init(&rx, buf, sizeof(buf)); }
/* feed bytes; return the last event; copy the last message out */
int shim_rx_feed(const uint8_t *p, size_t n, uint8_t *type, uint16_t *seq, uint8_t *body, size_t *len)
{
    int ev = EL_RX_NONE;
    size_t i;
    for (i = 0; i < n; i++) {
        el_rx_msg m;
        int e = (int)el_rx_feed(&rx, p[i], &m);
        if (e != EL_RX_NONE) { ev = e; last = m; }
    }
    if (ev != EL_RX_NONE) {
        *type = last.type; *seq = last.seq; *len = last.len;
        if (last.body != NULL && last.len) memcpy(body, last.body, last.len);
    }
    return ev;
}
"""


class CobsResult(ctypes.Structure):
    _fields_ = [("len", ctypes.c_size_t), ("status", ctypes.c_int)]


class Pkt(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint8), ("flags", ctypes.c_uint8), ("seq", ctypes.c_uint16),
                ("len", ctypes.c_uint16), ("body", ctypes.c_char_p)]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler")
    out = tmp_path_factory.mktemp("proto")
    shim = out / "shim.c"
    shim.write_text(_SHIM, encoding="utf-8")
    so = out / "libelproto.so"
    sources = [SRC / "proto" / n for n in ("el_cobs.c", "el_packet.c", "el_rx.c")] + [SRC / "engine" / "el_crc32.c", shim]
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-shared", "-fPIC", "-I", str(SRC),
                    "-o", str(so), *map(str, sources)], check=True, capture_output=True)
    lib = ctypes.CDLL(str(so))
    lib.el_cobs_encode.restype = CobsResult
    lib.el_cobs_decode.restype = CobsResult
    for f in (lib.el_cobs_encode, lib.el_cobs_decode):
        f.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    lib.el_frame_encode.restype = CobsResult
    lib.el_frame_encode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    lib.el_pkt_write.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(Pkt), ctypes.POINTER(ctypes.c_size_t)]
    lib.shim_rx_feed.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint8),
                                 ctypes.POINTER(ctypes.c_uint16), ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t)]
    return lib


@pytest.fixture(scope="module")
def vectors():
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def _encode(lib, data: bytes) -> bytes:
    dst = ctypes.create_string_buffer(len(data) + len(data) // 254 + 1)
    r = lib.el_cobs_encode(dst, len(dst), data, len(data))
    assert r.status == 0
    return dst.raw[:r.len]


def _decode(lib, data: bytes) -> tuple[int, bytes]:
    dst = ctypes.create_string_buffer(max(len(data), 1))
    r = lib.el_cobs_decode(dst, len(dst), data, len(data))
    return r.status, dst.raw[:r.len]


def _frame(lib, msg_type: int, flags: int, seq: int, body: bytes) -> tuple[bytes, bytes]:
    pkt = ctypes.create_string_buffer(1036)
    written = ctypes.c_size_t()
    p = Pkt(msg_type, flags, seq, len(body), body)
    assert lib.el_pkt_write(pkt, len(pkt), ctypes.byref(p), ctypes.byref(written)) == 0
    packet = pkt.raw[:written.value]
    frame = ctypes.create_string_buffer(1042)
    r = lib.el_frame_encode(frame, len(frame), packet, len(packet))
    assert r.status == 0
    return packet, frame.raw[:r.len]


def _feed(lib, data: bytes):
    t, s, n = ctypes.c_uint8(), ctypes.c_uint16(), ctypes.c_size_t()
    body = ctypes.create_string_buffer(8192)
    ev = lib.shim_rx_feed(data, len(data), ctypes.byref(t), ctypes.byref(s), body, ctypes.byref(n))
    return ev, t.value, s.value, body.raw[:n.value]


def test_vector_file_has_the_cases(vectors):
    assert len(vectors["cobs"]) >= 10 and len(vectors["packets"]) >= 8 and vectors["messages"]
    names = " ".join(v["name"] for v in vectors["cobs"])
    assert "254" in names and "255" in names and "zero run" in names


def test_cobs_vectors(lib, vectors):
    for v in vectors["cobs"]:
        data, enc = bytes.fromhex(v["decoded"]), bytes.fromhex(v["encoded"])
        assert _encode(lib, data) == enc, v["name"]
        assert _decode(lib, enc) == (0, data), v["name"]


def test_packet_vectors(lib, vectors):
    for v in vectors["packets"]:
        packet, frame = _frame(lib, v["type"], v["flags"], v["seq"], bytes.fromhex(v["body"]))
        assert packet.hex() == v["packet"], v["name"]
        assert frame.hex() == v["frame"], v["name"]


def test_packet_vectors_are_received(lib, vectors):
    lib.shim_rx_init()
    for v in vectors["packets"]:
        if v["flags"]:
            continue
        ev, t, s, body = _feed(lib, bytes.fromhex(v["frame"]))
        assert (ev, t, s, body.hex()) == (1, v["type"], v["seq"], v["body"]), v["name"]


def test_message_vectors(lib, vectors):
    lib.shim_rx_init()
    for v in vectors["messages"]:
        body = bytes.fromhex(v["body"])
        chunks = [body[i:i + 1024] for i in range(0, len(body), 1024)]
        frames = [_frame(lib, v["type"], 1 if k + 1 < len(chunks) else 0, v["seq"], c)[1] for k, c in enumerate(chunks)]
        assert [f.hex() for f in frames] == v["frames"], v["name"]
        ev, t, s, got = _feed(lib, b"".join(bytes.fromhex(f) for f in v["frames"]))
        assert (ev, t, s, got) == (1, v["type"], v["seq"], body), v["name"]


def test_invalid_vectors_are_dropped(lib, vectors):
    lib.shim_rx_init()
    for v in vectors["invalid"]:
        ev, _, s, _ = _feed(lib, bytes.fromhex(v["frame"]))
        if v["reason"] == "crc":
            assert (ev, s) == (2, v["seq"]), v["name"]  # EL_RX_BAD_CRC
        else:
            assert ev == 0, v["name"]


def test_frames_encode_and_decode_in_place(lib, vectors):
    """The device's writer encodes a packet placed at the end of its frame buffer over itself, and its reader decodes
    a frame over itself: the bytes are those of the separate-buffer codec for every vector and a worst case."""
    cases = [bytes.fromhex(v["decoded"]) for v in vectors["cobs"]]
    cases += [bytes(range(1, 256)) * 4 + bytes(16), bytes(1036), bytes([7]) * 1036]
    for data in cases:
        n = len(data)
        k = n // 254 + 1  # EL_COBS_ENCODED_MAX(n) - n
        buf = ctypes.create_string_buffer(n + k + 1)
        ctypes.memmove(ctypes.addressof(buf) + k, data, n)
        src = ctypes.cast(ctypes.addressof(buf) + k, ctypes.c_char_p)
        r = lib.el_frame_encode(buf, len(buf), src, n)
        assert r.status == 0
        assert buf.raw[:r.len] == _encode(lib, data) + b"\0"
        enc = buf.raw[:r.len - 1]
        r = lib.el_cobs_decode(buf, len(buf), buf, len(enc))
        assert (r.status, buf.raw[:r.len]) == (0, data)
