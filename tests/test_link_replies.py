"""Joining replies from a damaged line: a reply is only ever returned whole and as the device sent it."""

import struct

import numpy as np
from hypothesis import given, settings, strategies as st

from edgeleak.link.faults import READ, FaultLine, FaultSpec
from edgeleak.link.messages import ErrorCode, MsgType
from edgeleak.link.packet import MAX_BODY, FrameSplitter, Packet, PacketError, decode_frame, encode_message
from edgeleak.link.replies import ReplyAssembler, Seen

SEQ = 7


def _feed(assembler, splitter, data):
    results = []
    for frame in splitter.feed(data):
        try:
            packet = decode_frame(frame)
        except PacketError:
            results.append(assembler.bad_frame())
            continue
        results.append(assembler.packet(packet))
    return results


def _error(seq, code, text="x"):
    return Packet(MsgType.ERROR, seq, struct.pack("<H", code) + text.encode())


def test_a_clean_multi_chunk_reply_is_joined():
    body = bytes(range(256)) * 9  # 3 chunks
    a = ReplyAssembler()
    a.expect(SEQ, MsgType.UPDATE, single=False)
    results = _feed(a, FrameSplitter(), b"".join(encode_message(MsgType.UPDATE, SEQ, body)))
    assert [r.seen for r in results] == [Seen.CHUNK, Seen.CHUNK, Seen.REPLY] and results[-1].body == body


def test_a_lost_chunk_spoils_the_reply_until_its_end():
    body = bytes(3000)
    frames = encode_message(MsgType.UPDATE, SEQ, body)
    a = ReplyAssembler()
    a.expect(SEQ, MsgType.UPDATE, single=False)
    damaged = frames[0][:-5] + b"\x00"  # the first chunk cut short
    results = _feed(a, FrameSplitter(), damaged + frames[1] + frames[2])
    assert [r.seen for r in results] == [Seen.DAMAGED, Seen.NOTHING, Seen.DAMAGED]
    assert results[-1].ended and results[-1].ours
    assert not a.tainted  # the last chunk was a message boundary
    again = _feed(a, FrameSplitter(), b"".join(frames))  # the resend's reply, whole
    assert again[-1].seen == Seen.REPLY and again[-1].body == body


def test_a_single_chunk_reply_stands_on_its_own_after_damage():
    a = ReplyAssembler()
    a.expect(SEQ, MsgType.ACK, single=True)
    assert a.bad_frame().seen == Seen.DAMAGED
    result = a.packet(Packet(MsgType.ACK, SEQ, b"\x03\x00"))
    assert result.seen == Seen.REPLY and result.body == b"\x03\x00"
    b = ReplyAssembler()
    b.expect(SEQ, MsgType.UPDATE, single=False)  # the same frame could be the tail of a longer reply
    b.bad_frame()
    assert b.packet(Packet(MsgType.UPDATE, SEQ, b"tail")).seen == Seen.DAMAGED


def test_errors_crc_reports_stale_and_interleaved_messages():
    a = ReplyAssembler()
    a.expect(SEQ, MsgType.UPDATE, single=False)
    crc = a.packet(_error(999, ErrorCode.E_CRC))
    assert crc.seen == Seen.DEVICE_CRC and not crc.ours
    assert a.packet(_error(SEQ - 1, ErrorCode.E_STATE)).seen == Seen.NOTHING  # an old request's answer
    mine = a.packet(_error(SEQ, ErrorCode.E_STATE, "no samples"))
    assert mine.seen == Seen.ERROR and mine.code == ErrorCode.E_STATE and mine.text == "no samples"
    assert a.packet(Packet(MsgType.UPDATE, SEQ, bytes(MAX_BODY), flags=1)).seen == Seen.CHUNK
    assert a.packet(Packet(MsgType.ACK, SEQ - 1, b"")).seen == Seen.DAMAGED  # cannot sit inside our reply
    assert a.packet(Packet(MsgType.UPDATE, SEQ, b"end")).seen == Seen.REPLY  # a message on its own after a boundary


def test_quiet_starts_afresh():
    a = ReplyAssembler()
    a.expect(SEQ, MsgType.UPDATE, single=False)
    a.bad_frame()
    a.quiet()
    assert a.packet(Packet(MsgType.UPDATE, SEQ, b"whole")).seen == Seen.REPLY


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ours", "stale", "ack", "crc", "error"]), st.integers(0, 1)), min_size=1, max_size=14),
       st.integers(1, 3500), st.sampled_from([0.0, 3e-4, 2e-3, 1e-2]), st.integers(0, 2**32 - 1), st.booleans())
def test_no_damage_ever_yields_a_reply_the_device_did_not_send(stream, size, rate, seed, quiet_between):
    """The device sends its messages one after another (replays of the reply, old replies, ACKs, E_CRC, errors);
    the line drops, flips and duplicates bytes. Whatever comes out as a reply is one of the replies sent, whole."""
    rng = np.random.default_rng(seed)
    replies = [bytes(rng.integers(0, 256, size, dtype=np.uint8)), bytes(rng.integers(0, 256, size, dtype=np.uint8))]
    single = size <= MAX_BODY
    a = ReplyAssembler()
    a.expect(SEQ, MsgType.UPDATE, single=single)
    splitter = FrameSplitter()
    line = FaultLine(FaultSpec(flip=rate, drop=rate, dup=rate, seed=seed), READ)
    sent_ours = 0
    got = []
    for kind, variant in stream:
        if kind == "ours":
            frames = encode_message(MsgType.UPDATE, SEQ, replies[variant])
            sent_ours += 1
        elif kind == "stale":
            frames = encode_message(MsgType.UPDATE, SEQ - 1, bytes(rng.integers(0, 256, size, dtype=np.uint8)))
        elif kind == "ack":
            frames = encode_message(MsgType.ACK, SEQ + variant, b"\x01\x00")
        elif kind == "crc":
            frames = encode_message(MsgType.ERROR, int(rng.integers(0, 65536)), struct.pack("<H", ErrorCode.E_CRC) + b"bad CRC")
        else:
            frames = encode_message(MsgType.ERROR, SEQ + 1, struct.pack("<H", ErrorCode.E_STATE) + b"no")
        for result in _feed(a, splitter, line.apply(b"".join(frames))):
            if result.seen == Seen.REPLY:
                got.append(result.body)
            assert result.seen != Seen.ERROR  # no ERROR with our sequence number was sent
        if quiet_between:
            a.quiet()  # the line went silent between two messages
    assert all(body in replies for body in got)
    if rate == 0:
        assert len(got) == sent_ours  # a clean line loses nothing
