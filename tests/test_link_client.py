"""The client's retry policy against a scripted device: what is resent, under which sequence number, and when it
gives up. The device here is a function of (request, how many times it has been seen) to the bytes it answers."""

import struct
import time

import pytest

from edgeleak.link.client import DeviceClient, DeviceError, LinkGaveUp
from edgeleak.link.messages import ErrorCode, MsgType
from edgeleak.link.packet import OFFSET, FrameSplitter, decode_frame, encode_message
from edgeleak.link.retry import LinkCounters, RequestTally, RetryPolicy

FAST = RetryPolicy.for_virtual_link(silence=0.3)


class ScriptedPort:
    """A pyserial-like port; ``answer(packet_type, seq, body, times_seen)`` gives the bytes the device sends back."""

    baudrate = 115200

    def __init__(self, answer, *, lose=lambda chunk: False) -> None:
        self._answer = answer
        self._lose = lose  # (offset, number of times that chunk came) -> the chunk is lost on the way
        self._splitter = FrameSplitter()
        self._joined = b""
        self._out = bytearray()
        self.requests: list[tuple[int, int]] = []  # (type, seq) of every whole message received
        self.chunks: list[int] = []  # offsets of the acknowledged chunks received

    def write(self, data: bytes) -> int:
        for frame in self._splitter.feed(data):
            packet = decode_frame(frame)
            if packet.offset is not None:  # an acknowledged chunk, joined where it continues the message
                offset = packet.offset
                if self._lose((offset, self.chunks.count(offset) + 1)):
                    self.chunks.append(offset)
                    continue
                self.chunks.append(offset)
                if offset == len(self._joined):
                    self._joined += packet.body[OFFSET.size:]
                if packet.more:
                    self._out += _message(MsgType.CHUNK_ACK, packet.seq, struct.pack("<I", len(self._joined)))
                    continue
            else:
                self._joined += packet.body
            if packet.more:
                continue
            self.requests.append((packet.type, packet.seq))
            seen = self.requests.count((packet.type, packet.seq))
            self._out += self._answer(packet.type, packet.seq, self._joined, seen)
            self._joined = b""
        return len(data)

    @property
    def in_waiting(self) -> int:
        return len(self._out)

    def read(self, size: int = 1) -> bytes:
        if not self._out:
            time.sleep(0.002)
            return b""
        out = bytes(self._out[:size])
        del self._out[:size]
        return out

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _message(mtype, seq, body=b"") -> bytes:
    return b"".join(encode_message(mtype, seq, body))


def _broken(frame: bytes) -> bytes:
    """The frame with a byte in its middle changed (its CRC fails; the 0x00 delimiter stays)."""
    middle = len(frame) // 2
    return frame[:middle] + bytes([frame[middle] ^ 0x40 or 1]) + frame[middle + 1:]


def _error(seq, code) -> bytes:
    return _message(MsgType.ERROR, seq, struct.pack("<H", code) + b"refused")


def test_a_damaged_reply_is_asked_again_under_the_same_number():
    def answer(mtype, seq, body, seen):
        return _broken(_message(MsgType.ACK, seq)) if seen == 1 else _message(MsgType.ACK, seq)

    port = ScriptedPort(answer)
    client = DeviceClient(port, policy=FAST)
    client.clear_samples()
    assert port.requests == [(MsgType.CLEAR_SAMPLES, 1)] * 2
    assert client.counters.retransmissions == 1 and client.counters.bad_frames == 1


def test_a_multi_chunk_update_with_a_lost_chunk_is_fetched_in_parts():
    """The round is not asked for again: the parts of its UPDATE are (RESEND), each a PART of the same bytes."""
    reply = bytes(range(256)) * 12  # three chunks

    def answer(mtype, seq, body, seen):
        if mtype == MsgType.RESEND:
            train_seq, length, offset = struct.unpack("<HHI", body)
            assert train_seq == 1
            return _message(MsgType.PART, seq, struct.pack("<II", len(reply), offset) + reply[offset:offset + length])
        frames = encode_message(MsgType.UPDATE, seq, reply)
        frames[1] = _broken(frames[1])  # the middle chunk is lost
        return b"".join(frames)

    port = ScriptedPort(answer)
    client = DeviceClient(port, policy=FAST)
    assert client.request(MsgType.TRAIN, b"", MsgType.UPDATE) == reply
    assert port.requests == [(MsgType.TRAIN, 1)] + [(MsgType.RESEND, k) for k in (2, 3, 4, 5)]  # 1016 bytes each
    assert client.counters.fetched_replies == 1


def test_a_device_crc_error_and_a_missing_reply_are_both_resent():
    def answer(mtype, seq, body, seen):
        if seen == 1:
            return _error(0xBEEF, ErrorCode.E_CRC)  # the device got a damaged frame
        if seen == 2:
            return b""  # the request was lost
        return _message(MsgType.ACK, seq, b"\x05\x00")

    port = ScriptedPort(answer)
    client = DeviceClient(port, policy=FAST)
    assert client.add_sample(1, b"\x00" * 8) == 5
    c = client.counters
    assert (c.retransmissions, c.device_crc_errors, c.timeouts) == (2, 1, 1)


def test_a_lost_chunk_of_a_request_is_resent_alone_and_joined_once():
    """Chunks carry their offset and are acknowledged: a lost one goes again by itself; a damaging line makes
    the chunks smaller."""
    weights = bytes(range(256)) * 10  # 2,560 bytes: three chunks of 1020 bytes on a clean line
    got = []

    def answer(mtype, seq, body, seen):
        got.append(body)
        return _message(MsgType.ACK, seq)

    port = ScriptedPort(answer, lose=lambda chunk: chunk == (1020, 1))
    client = DeviceClient(port, policy=FAST)
    client.request(MsgType.LOAD_WEIGHTS, weights, MsgType.ACK)
    assert got == [weights] and port.requests == [(MsgType.LOAD_WEIGHTS, 1)]
    assert port.chunks == [0, 1020, 1020, 1530, 2040, 2550]  # after the loss, 510-byte chunks
    assert client.counters.retransmissions == 1 and client.counters.timeouts == 1


def test_refusals_of_a_clean_request_are_raised_at_once():
    port = ScriptedPort(lambda mtype, seq, body, seen: _error(seq, ErrorCode.E_LENGTH))
    client = DeviceClient(port, policy=FAST)
    with pytest.raises(DeviceError) as info:
        client.clear_samples()
    assert info.value.code == ErrorCode.E_LENGTH and len(port.requests) == 1


def test_a_reply_that_does_not_parse_is_taken_for_damage_then_reported():
    port = ScriptedPort(lambda mtype, seq, body, seen: _message(MsgType.OUTPUT, seq, b"\x01"))
    client = DeviceClient(port, policy=FAST)
    with pytest.raises(Exception, match="invalid OUTPUT 3 times"):
        client.infer(b"\x00" * 4)
    assert len(port.requests) == 3


def test_silence_gives_up_as_a_dead_link_in_one_line():
    port = ScriptedPort(lambda mtype, seq, body, seen: b"")
    client = DeviceClient(port, policy=FAST)
    with pytest.raises(LinkGaveUp) as info:
        client.stats()
    assert info.value.dead and info.value.tally.attempts >= 3 and info.value.tally.timeouts == info.value.tally.attempts
    assert str(info.value).startswith("no reply from the device to STATS (seq 1): nothing came back for ")


def test_the_attempts_are_bounded():
    port = ScriptedPort(lambda mtype, seq, body, seen: _broken(_message(MsgType.ACK, seq)))
    client = DeviceClient(port, policy=RetryPolicy.for_virtual_link(attempts=7))
    with pytest.raises(LinkGaveUp) as info:
        client.reset()
    assert not info.value.dead and len(port.requests) == 7 and info.value.tally.bad_frames == 7
    assert "failed 7 attempts" in str(info.value) and "7 bad frames" in str(info.value)


def test_a_training_round_waits_its_budget_then_backs_off():
    """A TRAIN the device is slow to answer is resent only after its budget (doubling from twice the time it took
    before), never before an answer could have come."""
    client = DeviceClient(ScriptedPort(lambda *a: b""), policy=RetryPolicy.for_virtual_link(slow_compute=2.0))
    first = client._wait(MsgType.TRAIN, 14, acted=False, silent=0)
    assert first == pytest.approx(0.01 + 2.0)
    client._turnaround[MsgType.TRAIN] = 0.1
    assert client._wait(MsgType.TRAIN, 14, acted=False, silent=0) == pytest.approx(0.2)
    assert client._wait(MsgType.TRAIN, 14, acted=False, silent=2) == pytest.approx(0.8)
    assert client._wait(MsgType.TRAIN, 14, acted=False, silent=9) == pytest.approx(first)
    assert client._wait(MsgType.TRAIN, 14, acted=True, silent=0) == pytest.approx(0.015)


def test_policy_validation_and_uart_timing():
    with pytest.raises(ValueError, match="attempts must be an integer >= 1"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="quiet must be a finite number of seconds >= 0"):
        RetryPolicy(quiet=float("nan"))
    uart = RetryPolicy.for_uart(115200)
    assert uart.byte_time == pytest.approx(10 / 115200)
    assert uart.first_wait(1000, 0.5) == pytest.approx(0.1 + (1000 + 1042) * 10 / 115200 + 0.5)
    total = LinkCounters(retransmissions=2, bad_frames=1) + LinkCounters(retransmissions=3)
    assert (total.retransmissions, total.bad_frames) == (5, 1)
    tally = RequestTally("INFER", 9, 4, 1.5, 2, 1, 0, 1, 300, 0.2)
    assert "\n" not in tally.noisy_line() + tally.dead_line()


def test_a_long_sense_is_awaited_for_its_recording_not_the_training_budget():
    from edgeleak.link.retry import sense_budget

    assert sense_budget(2, 1.0, 20.0) == 20.0  # short recordings keep the training budget
    assert sense_budget(19, 1.0, 20.0) > 20.0  # 19 one-second windows would have outlasted it
    assert sense_budget(60, 1.0, 20.0) == pytest.approx(92.0) and sense_budget(60, 0.5, 20.0) == pytest.approx(47.0)
