import json
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from edgeleak.link.cobs import CobsError, cobs_decode, cobs_encode, max_encoded_size
from edgeleak.link.packet import (FLAG_MORE, MAX_BODY, FrameSplitter, Packet, PacketError, decode_frame, encode_message,
                                  encode_packet)

VECTORS = Path(__file__).resolve().parent / "vectors" / "protocol.json"


@given(st.binary(max_size=3000))
def test_cobs_round_trips_and_removes_zeros(data):
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert len(encoded) <= max_encoded_size(len(data))
    assert cobs_decode(encoded) == data


@pytest.mark.parametrize("data,encoded", [
    (b"", b"\x01"), (b"\x00", b"\x01\x01"), (b"\x00\x00", b"\x01\x01\x01"), (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255)) + b"\x01"),
])
def test_cobs_known_encodings(data, encoded):
    assert cobs_encode(data) == encoded and cobs_decode(encoded) == data


@pytest.mark.parametrize("bad", [b"\x05\x11", b"\x02\x00", b"\x00"])
def test_cobs_rejects_malformed_frames(bad):
    with pytest.raises(CobsError):
        cobs_decode(bad)


@given(st.integers(0, 255), st.integers(0, 0xFFFF), st.binary(max_size=MAX_BODY), st.booleans())
def test_packets_round_trip(mtype, seq, body, more):
    frame = encode_packet(Packet(mtype, seq, body, FLAG_MORE if more else 0))
    assert frame.endswith(b"\x00") and 0 not in frame[:-1]
    assert decode_frame(frame[:-1]) == Packet(mtype, seq, body, FLAG_MORE if more else 0)


@given(st.binary(min_size=1, max_size=200), st.integers(0, 10_000))
def test_any_single_bit_flip_is_detected(body, position):
    frame = bytearray(encode_packet(Packet(0x02, 7, body))[:-1])
    raw = bytearray(cobs_decode(bytes(frame)))
    bit = position % (8 * len(raw))
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(PacketError):
        decode_frame(cobs_encode(bytes(raw)))


def test_length_and_version_are_checked():
    raw = struct.pack("<BBBBHH", 2, 2, 0, 0, 1, 5) + b"abc"
    with pytest.raises(PacketError, match="disagrees"):
        decode_frame(cobs_encode(raw + struct.pack("<I", zlib.crc32(raw))))
    raw = struct.pack("<BBBBHH", 1, 2, 0, 0, 1, 0)
    with pytest.raises(PacketError, match="version 1"):
        decode_frame(cobs_encode(raw + struct.pack("<I", zlib.crc32(raw))))
    with pytest.raises(ValueError, match="chunk"):
        encode_packet(Packet(2, 1, bytes(MAX_BODY + 1)))


def test_large_messages_are_chunked_and_the_splitter_reassembles_frames():
    body = bytes(range(256)) * 9  # 2304 bytes -> 3 chunks
    frames = encode_message(0x02, 9, body)
    assert len(frames) == 3
    splitter = FrameSplitter()
    stream = b"\x13\x37garbage\x00" + b"".join(frames)
    received = [frame for i in range(0, len(stream), 7) for frame in splitter.feed(stream[i:i + 7])]
    packets = []
    for frame in received:
        try:
            packets.append(decode_frame(frame))
        except PacketError:
            pass  # the leading garbage
    assert [p.more for p in packets] == [True, True, False]
    assert b"".join(p.body for p in packets) == body


def test_python_codec_matches_the_shared_test_vectors():
    """The same vectors the C codec is tested against (tests/firmware/test_vectors.py)."""
    vectors = json.loads(VECTORS.read_text())
    for case in vectors["cobs"]:
        assert cobs_encode(bytes.fromhex(case["decoded"])).hex() == case["encoded"], case["name"]
        assert cobs_decode(bytes.fromhex(case["encoded"])).hex() == case["decoded"], case["name"]
    for case in vectors["packets"]:
        packet = Packet(int(case["type"]), int(case["seq"]), bytes.fromhex(case["body"]), int(case["flags"]))
        assert encode_packet(packet).hex() == case["frame"], case["name"]
        assert decode_frame(bytes.fromhex(case["frame"])[:-1]) == packet, case["name"]
    for case in vectors["messages"]:
        frames = encode_message(int(case["type"]), int(case["seq"]), bytes.fromhex(case["body"]))
        assert [f.hex() for f in frames] == case["frames"], case["name"]
    for case in vectors["invalid"]:
        frame = bytes.fromhex(case["frame"])
        with pytest.raises(PacketError):
            decode_frame(frame[:-1] if frame.endswith(b"\x00") else frame)
