"""Damage of a noisy serial line: every byte, independently, may be dropped, have one bit flipped, or arrive twice.

For byte i of a direction, with uniform draws (a, b, c, e) in [0, 1) and the rates (drop, flip, dup):
    a < drop: the byte is lost; otherwise b < flip flips bit floor(8 e), and c < dup sends it twice.
The draws are taken four per byte, in byte order, from a generator seeded with (seed, direction): the damage
depends only on the seed and on the byte's position in its direction, never on how reads and writes split the bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from urllib.parse import urlencode

import numpy as np

WRITTEN, READ = 0, 1  # directions: host to device, device to host


@dataclass(frozen=True, kw_only=True)
class FaultSpec:
    """Per-byte probabilities of damage (each in [0, 1], the same in both directions) and the seed of the draws."""

    flip: float = 0.0
    drop: float = 0.0
    dup: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("flip", "drop", "dup"):
            value = getattr(self, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    @property
    def clean(self) -> bool:
        return self.flip == 0 and self.drop == 0 and self.dup == 0

    def query(self) -> str:
        """The URL query of these settings: ``flip=0.001&drop=0.001&dup=0.001&seed=1``."""
        return urlencode([(f.name, repr(getattr(self, f.name))) for f in fields(self)])

    def wrap(self, url: str) -> str:
        """A ``fault://`` URL around a board's URL: ``socket://HOST:PORT`` or a device path (a pseudo-terminal)."""
        if url.startswith("socket://"):
            return f"fault://{url[len('socket://'):].split('?', 1)[0]}?{self.query()}"
        if url.startswith("/"):
            return f"fault://{url}?{self.query()}"
        raise ValueError(f"fault:// wraps socket://HOST:PORT or a device path such as /dev/pts/5, got {url!r}")


@dataclass(frozen=True)
class FaultCounts:
    """Damage applied in one direction."""

    bytes: int = 0  # bytes offered to the line
    flipped: int = 0
    dropped: int = 0
    duplicated: int = 0

    @property
    def damaged(self) -> int:
        return self.flipped + self.dropped + self.duplicated


@dataclass(frozen=True)
class FaultReport:
    written: FaultCounts  # host to device
    read: FaultCounts  # device to host


@dataclass(frozen=True)
class Events:
    """The damaged bytes of a block of draws, by offset in the block (ascending)."""

    offsets: np.ndarray  # int64
    drop: np.ndarray  # bool
    flip_mask: np.ndarray  # uint8: the bit to flip, 0 for none
    dup: np.ndarray  # bool


def draw_events(rng: np.random.Generator, n: int, spec: FaultSpec) -> Events:
    """The damage of the next ``n`` bytes of a direction (four draws per byte, see the module docstring)."""
    u = rng.random((n, 4))
    drop = u[:, 0] < spec.drop
    flip = ~drop & (u[:, 1] < spec.flip)
    dup = ~drop & (u[:, 2] < spec.dup)
    (offsets,) = np.nonzero(drop | flip | dup)
    masks = np.where(flip, np.left_shift(1, (u[:, 3] * 8).astype(np.int64)), 0).astype(np.uint8)
    return Events(offsets.astype(np.int64), drop[offsets], masks[offsets], dup[offsets])


def apply_events(data: bytes, events: Events, lo: int, hi: int, start: int) -> tuple[bytes, FaultCounts]:
    """Damage ``data`` (bytes ``start ...`` of a block) with the events ``lo:hi`` of that block."""
    out = bytearray()
    last = 0
    flipped = dropped = duplicated = 0
    for k in range(lo, hi):
        i = int(events.offsets[k]) - start
        out += data[last:i]
        last = i + 1
        if events.drop[k]:
            dropped += 1
            continue
        byte = data[i] ^ int(events.flip_mask[k])
        flipped += events.flip_mask[k] != 0
        out.append(byte)
        if events.dup[k]:
            out.append(byte)
            duplicated += 1
    out += data[last:]
    return bytes(out), FaultCounts(len(data), int(flipped), dropped, duplicated)


class FaultLine:
    """One direction of a noisy line: its draws and the damage applied so far."""

    BLOCK = 1 << 15  # bytes of draws made at once

    def __init__(self, spec: FaultSpec, direction: int) -> None:
        self.spec = spec
        self._rng = np.random.default_rng([spec.seed, direction])
        self._events: Events | None = None
        self._pos = self.BLOCK  # position in the current block; BLOCK: draw the next one
        self._counts = FaultCounts()

    @property
    def counts(self) -> FaultCounts:
        return self._counts

    def apply(self, data: bytes) -> bytes:
        data = bytes(data)
        if self.spec.clean:
            self._add(FaultCounts(len(data)))
            return data
        out = []
        while data:
            if self._pos == self.BLOCK:
                self._events = draw_events(self._rng, self.BLOCK, self.spec)
                self._pos = 0
            take = min(len(data), self.BLOCK - self._pos)
            lo, hi = np.searchsorted(self._events.offsets, [self._pos, self._pos + take])
            piece, counts = apply_events(data[:take], self._events, int(lo), int(hi), self._pos)
            out.append(piece)
            self._add(counts)
            self._pos += take
            data = data[take:]
        return b"".join(out)

    def _add(self, c: FaultCounts) -> None:
        t = self._counts
        self._counts = FaultCounts(t.bytes + c.bytes, t.flipped + c.flipped, t.dropped + c.dropped,
                                   t.duplicated + c.duplicated)
