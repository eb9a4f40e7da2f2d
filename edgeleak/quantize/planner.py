"""Arena planning: place non-constant tensors so that tensors alive at the same time never overlap."""

from __future__ import annotations

from dataclasses import dataclass

ALIGNMENT = 16


@dataclass(frozen=True)
class Buffer:
    """A span of arena bytes needed from op ``first`` to op ``last`` (inclusive)."""

    key: int
    size: int
    first: int
    last: int


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def plan_arena(buffers: list[Buffer]) -> tuple[dict[int, int], int]:
    """Greedy by size (largest first), lowest offset that fits; returns offsets by key and arena size."""
    placed: list[tuple[int, int, Buffer]] = []  # (offset, aligned size, buffer)
    offsets: dict[int, int] = {}
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first, b.key)):
        clashes = sorted((off, size) for off, size, other in placed if not (other.last < buf.first or buf.last < other.first))
        offset = 0
        for off, size in clashes:
            if offset + _align(buf.size) <= off:
                break
            offset = max(offset, off + size)
        placed.append((offset, _align(buf.size), buf))
        offsets[buf.key] = offset
    total = max((off + size for off, size, _ in placed), default=0)
    return offsets, total
