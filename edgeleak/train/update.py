"""Decode the UPDATE message (docs/protocol.md) into typed metadata and dense float arrays."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify

_META = struct.Struct("<IIHHffHBBffBBBBfffIHHI")  # the first 60 bytes, as in version 1
_META_V1_LEN = 64
_PRIVACY = struct.Struct("<IIhHdfB3x")  # bytes 60..88 of version 2
_META_V2_LEN = _META.size + _PRIVACY.size
_BLOCK = struct.Struct("<HBBHHf")
_VALUE_BYTES = {Encoding.FLOAT32: 4, Encoding.FLOAT16: 2, Encoding.INT8: 1}


class UpdateFormatError(ValueError):
    """An UPDATE body that does not follow the format; the update is not used."""


@dataclass(frozen=True)
class UpdateMeta:
    """What the device reports it did: the effective hyperparameters and defenses of the round."""

    round: int
    boot_id: int
    samples: int
    steps: int
    learning_rate: float
    momentum: float
    batch_size: int
    clip_mode: ClipMode
    noise_kind: NoiseKind
    clip_norm: float
    noise_multiplier: float
    noise_mode: NoiseMode
    sparsify: Sparsify
    encoding: Encoding
    seeded: bool
    sparsify_fraction: float
    pre_clip_norm: float
    loss: float
    ticks: int
    epochs: int = 0  # epochs when the round ran in epochs, else 0 (it ran local steps)
    # What the device reports of its privacy account (protocol version 2; None in version-1 updates).
    sensitivity_units: int | None = None  # B: grid steps of the sensitivity unit; 0 without discrete noise
    noise_units: int | None = None  # s: the discrete Gaussian's scale in grid steps; 0 without
    grid_exponent: int | None = None  # e: the grid step is 2**e
    compositions: int | None = None  # A: mechanisms composed for one window by this release
    rho_total: float | None = None  # zCDP spent on the stored samples after this release (inf: unbounded)
    epsilon_total: float | None = None  # epsilon after this release at the device's delta (inf: unbounded)
    floor_enforced: bool | None = None  # the build enforces a floor

    @property
    def noise_multiplier_effective(self) -> float | None:
        """s / (2B): the noise multiplier of the release at sensitivity 1 (replace-one neighbours)."""
        if not self.sensitivity_units:
            return None
        return self.noise_units / (2 * self.sensitivity_units)


@dataclass(frozen=True)
class TensorUpdate:
    index: int
    values: np.ndarray  # dense float32, length = elements of the tensor (zeros where not sent)
    sent: np.ndarray  # bool mask of the coordinates the device sent
    encoding: Encoding
    scale: float


@dataclass(frozen=True)
class Update:
    meta: UpdateMeta
    tensors: tuple[TensorUpdate, ...]
    payload_bytes: int

    def flat(self) -> np.ndarray:
        return np.concatenate([t.values for t in self.tensors])


def _decode_values(raw: bytes, encoding: Encoding, scale: float) -> np.ndarray:
    if encoding == Encoding.FLOAT32:
        return np.frombuffer(raw, "<f4").astype(np.float32)
    if encoding == Encoding.FLOAT16:
        return np.frombuffer(raw, "<f2").astype(np.float32)
    return (np.frombuffer(raw, np.int8).astype(np.float32) * np.float32(scale)).astype(np.float32)


def parse_update(body: bytes) -> Update:
    """Parse and check every length; a malformed body raises UpdateFormatError."""
    if len(body) < _META_V1_LEN:
        raise UpdateFormatError(f"UPDATE of {len(body)} bytes is shorter than its metadata")
    f = _META.unpack_from(body)
    meta_len = len(body) - f[21]
    if meta_len not in (_META_V1_LEN, _META_V2_LEN):
        raise UpdateFormatError(f"UPDATE says {f[21]} payload bytes, carries {len(body) - _META_V2_LEN}")
    privacy = {}
    if meta_len == _META_V2_LEN:
        sens, scale, exponent, comps, rho, eps, floor = _PRIVACY.unpack_from(body, _META.size)
        privacy = dict(sensitivity_units=sens, noise_units=scale, grid_exponent=exponent, compositions=comps,
                       rho_total=rho, epsilon_total=float(eps), floor_enforced=bool(floor))
    try:
        meta = UpdateMeta(
            round=f[0], boot_id=f[1], samples=f[2], steps=f[3], learning_rate=f[4], momentum=f[5], batch_size=f[6],
            clip_mode=ClipMode(f[7]), noise_kind=NoiseKind(f[8]), clip_norm=f[9], noise_multiplier=f[10],
            noise_mode=NoiseMode(f[11]), sparsify=Sparsify(f[12]), encoding=Encoding(f[13]), seeded=bool(f[14]),
            sparsify_fraction=f[15], pre_clip_norm=f[16], loss=f[17], ticks=f[18], epochs=f[20], **privacy)
    except ValueError as exc:
        raise UpdateFormatError(f"UPDATE metadata has an unknown code: {exc}") from None
    n_tensors, payload = f[19], f[21]
    tensors = []
    at = meta_len
    for _ in range(n_tensors):
        if at + _BLOCK.size > len(body):
            raise UpdateFormatError("UPDATE tensor block runs past the end")
        index, enc, sparse, count, length, scale = _BLOCK.unpack_from(body, at)
        at += _BLOCK.size
        if enc not in _VALUE_BYTES.keys() or count > length or (not sparse and count != length):
            raise UpdateFormatError(f"UPDATE tensor {index}: bad encoding {enc} or count {count} of {length}")
        sent = np.zeros(length, bool)
        if sparse:
            indices = np.frombuffer(body, "<u2", count, at).astype(np.int64)
            at += 2 * count
            if count and (indices.max() >= length or np.any(np.diff(indices) <= 0)):
                raise UpdateFormatError(f"UPDATE tensor {index}: indices out of range or not ascending")
        else:
            indices = np.arange(length)
        size = count * _VALUE_BYTES[Encoding(enc)]
        if at + size > len(body):
            raise UpdateFormatError(f"UPDATE tensor {index}: values run past the end")
        values = np.zeros(length, np.float32)
        values[indices] = _decode_values(body[at:at + size], Encoding(enc), scale)
        sent[indices] = True
        at += size
        at += (-at) % 4  # blocks end on a 4-byte boundary
        tensors.append(TensorUpdate(index, values, sent, Encoding(enc), scale))
    if at != len(body):
        raise UpdateFormatError(f"UPDATE has {len(body) - at} bytes after its last tensor")
    return Update(meta, tuple(tensors), payload)
