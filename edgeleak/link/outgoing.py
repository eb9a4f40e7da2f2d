"""A request on its way to the device: one frame when it fits a chunk, else acknowledged chunks that carry their
offset (docs/protocol.md, Acknowledged chunks). Pure: no I/O, no clock.

The device answers every chunk but the one completing the message with a CHUNK_ACK of the bytes it holds; the
sender goes on from there. A CHUNK_ACK that says less than the sender already knows the device holds is a late
copy and changes nothing, except 0: the device has started over (it dropped the message for another, or asks for
a message it has already answered to come again from the start)."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeleak.link.packet import MAX_CHUNK_DATA, encode_chunk, encode_message

MIN_CHUNK = 64  # the smallest chunk the sender shrinks to on a damaging line
GROW_AFTER = 8  # clean exchanges in a row before the size doubles again


@dataclass
class ChunkSize:
    """Bytes per chunk (or per resent part): halved after damage down to MIN_CHUNK, doubled back towards ``top``
    after GROW_AFTER clean exchanges in a row. A message of n bytes crosses a line that damages each byte with
    probability q intact with probability (1 - q)^n, so on a bad line small pieces are cheaper."""

    top: int
    size: int = field(default=0)
    streak: int = 0

    def __post_init__(self) -> None:
        self.size = self.size or self.top

    def after(self, *, clean: bool) -> None:
        if not clean:
            self.size, self.streak = max(MIN_CHUNK, self.size // 2), 0
            return
        self.streak += 1
        if self.streak >= GROW_AFTER:
            self.size, self.streak = min(self.top, self.size * 2), 0


class Outgoing:
    def __init__(self, mtype: int, seq: int, body: bytes, chunk: int = MAX_CHUNK_DATA) -> None:
        self.mtype, self.seq, self.body = mtype, seq, body
        self.chunked = len(body) > min(chunk, MAX_CHUNK_DATA)
        self.size = chunk
        self.offset = 0  # the device holds body[:offset]

    def frames(self) -> list[bytes]:
        """What to send now: the whole message, or the chunk at the offset the device holds."""
        if not self.chunked:
            return encode_message(self.mtype, self.seq, self.body)
        return [encode_chunk(self.mtype, self.seq, self.body, self.offset, self.size)]

    @property
    def final(self) -> bool:
        """The next send completes the message on the device (its reply is the request's)."""
        return not self.chunked or self.offset + self.size >= len(self.body)

    def held(self, count: int) -> bool:
        """The device holds ``count`` bytes: True when that moves the sender (on, or back to the start)."""
        if not self.chunked:
            return False
        if count == 0:
            moved = self.offset != 0
            self.offset = 0
            return moved
        if count <= self.offset:
            return False  # a late copy of an earlier CHUNK_ACK
        if count < len(self.body):
            self.offset = count
            return True
        # all of it: the message was joined already; its final chunk asks for the reply again
        last = max(0, len(self.body) - self.size)
        moved = self.offset != last
        self.offset = last
        return moved
