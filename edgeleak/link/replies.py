"""Joining the reply to a request from the frames of a noisy line (docs/protocol.md, Link recovery).

Chunks carry no offset, so a multi-chunk reply is only trusted when all of it comes in one run of valid frames
that starts at a message boundary (the end of the device's previous message). A bad frame taints the line until
the next boundary: a chunk may have been lost there. The device sends one message at a time, so any message
that is not the one being joined ends it. Pure: fed with frames, no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from edgeleak.link.messages import ErrorCode, MsgType, parse_chunk_ack, parse_error
from edgeleak.link.packet import Packet

MAX_REPLY = 1 << 20  # bytes a reply may grow to before it is taken for garbage


class Seen(Enum):
    NOTHING = "nothing"  # a stale or foreign frame, or a chunk that is not the last
    CHUNK = "chunk"  # a valid chunk of the reply, more to come (the device is answering)
    REPLY = "reply"  # the whole reply, in body
    ERROR = "error"  # the device answered this request with an ERROR (code, text)
    DEVICE_CRC = "device_crc"  # the device reports a frame it got with a bad CRC
    HELD = "held"  # a CHUNK_ACK to this request: the device holds ``held`` bytes of it
    DAMAGED = "damaged"  # a bad frame, or a reply that cannot be trusted (tainted, interleaved)


@dataclass(frozen=True)
class Result:
    seen: Seen
    body: bytes = b""
    code: int = 0
    text: str = ""
    ours: bool = False  # a valid frame of this request's reply: the device has acted on it
    ended: bool = False  # a damaged reply whose last chunk arrived: the device has finished sending it
    held: int = 0  # HELD: bytes of the request the device holds


class ReplyAssembler:
    """Joins the chunks of the reply to one request; keeps the line's taint across requests."""

    def __init__(self) -> None:
        self.tainted = False
        self._seq = -1
        self._type = -1
        self._single = False
        self._body: bytearray | None = None

    def expect(self, seq: int, reply_type: int, *, single: bool) -> None:
        """Join replies of ``reply_type`` with ``seq`` from now on. ``single``: the reply always fits one chunk,
        so a valid last chunk is the whole reply even on a tainted line. A reply being joined for the same
        request is kept (a resend does not discard a reply already on its way)."""
        if (seq, reply_type) != (self._seq, self._type):
            self._body = None
        self._seq, self._type, self._single = seq, reply_type, single

    def quiet(self) -> None:
        """The line has been silent long enough that the device finished sending: a new message starts next."""
        self.tainted = False
        self._body = None

    def bad_frame(self) -> Result:
        self.tainted = True
        self._body = None
        return Result(Seen.DAMAGED)

    def packet(self, p: Packet) -> Result:
        last = not p.more
        if p.type == MsgType.CHUNK_ACK and last:  # one frame, a message of its own
            self._body = None
            self.tainted = False
            try:
                held = parse_chunk_ack(p.body)
            except ValueError:
                return Result(Seen.NOTHING)
            return Result(Seen.HELD, held=held) if p.seq == self._seq else Result(Seen.NOTHING)
        if p.type == MsgType.ERROR:
            self._body = None
            if last:
                self.tainted = False
            if not last:
                return Result(Seen.NOTHING)
            code, text = parse_error(p.body)
            if code == ErrorCode.E_CRC:
                return Result(Seen.DEVICE_CRC, code=code, text=text)
            if p.seq == self._seq:
                return Result(Seen.ERROR, code=code, text=text, ours=True)
            return Result(Seen.NOTHING)
        if p.seq != self._seq or p.type != self._type:
            interrupted = self._body is not None
            self._body = None
            if last:
                self.tainted = False
            return Result(Seen.DAMAGED) if interrupted else Result(Seen.NOTHING)
        if self.tainted:
            if not last:
                return Result(Seen.NOTHING, ours=True)
            self.tainted = False
            joined = self._body is not None
            self._body = None
            if self._single and not joined:
                return Result(Seen.REPLY, body=p.body, ours=True)
            return Result(Seen.DAMAGED, ours=True, ended=True)
        if self._body is None:
            self._body = bytearray()
        self._body += p.body
        if not last:
            if len(self._body) > MAX_REPLY:
                self._body = None
                self.tainted = True
                return Result(Seen.DAMAGED, ours=True)
            return Result(Seen.CHUNK, ours=True)
        body = bytes(self._body)
        self._body = None
        return Result(Seen.REPLY, body=body, ours=True)
