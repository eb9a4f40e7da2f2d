"""Append-only record files (docs/capture-format.md): a file header, then self-checking records.

Each record is written with one ``write`` and flushed (and fsynced unless told otherwise), so killing
the writer at any moment leaves every completed record readable; a torn last record is detected by its
length or CRC and skipped with a warning. Readers may read while a writer appends.
"""

from __future__ import annotations

import json
import os
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from edgeleak import strict_json

from edgeleak.errors import EdgeleakError

FILE_MAGIC = b"ELCAPTUR"
FILE_VERSION = 1
FILE_HEADER = struct.Struct("<8sHH4x")  # magic, version, kind code, reserved
RECORD_MAGIC = b"ELRC"
RECORD_HEADER = struct.Struct("<4sIII")  # magic, meta length, data length, CRC-32 of meta + data
MAX_META = 1 << 20
MAX_DATA = 1 << 30
KINDS = {"updates": 1, "truth": 2}


class CaptureWarning(UserWarning):
    """A torn or corrupt record was skipped."""


@dataclass(frozen=True)
class Record:
    meta: dict
    arrays: dict[str, np.ndarray]
    offset: int  # byte offset of the record in its file


def encode_record(meta: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """One record: header, JSON metadata (with the array table), then the raw little-endian arrays."""
    table = []
    blobs = []
    offset = 0
    for name, array in arrays.items():
        a = np.ascontiguousarray(array)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        table.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape), "offset": offset, "nbytes": a.nbytes})
        blobs.append(a.tobytes())
        offset += a.nbytes
    meta_bytes = strict_json.dumps({**meta, "_arrays": table}, sort_keys=True, separators=(",", ":")).encode()
    data = b"".join(blobs)
    crc = zlib.crc32(data, zlib.crc32(meta_bytes))
    return RECORD_HEADER.pack(RECORD_MAGIC, len(meta_bytes), len(data), crc) + meta_bytes + data


def _decode_payload(meta_bytes: bytes, data: bytes, offset: int) -> Record:
    meta = json.loads(meta_bytes)
    arrays = {}
    for entry in meta.pop("_arrays"):
        start, size = entry["offset"], entry["nbytes"]
        arrays[entry["name"]] = np.frombuffer(data[start:start + size], np.dtype(entry["dtype"])).reshape(entry["shape"])
    return Record(meta, arrays, offset)


class RecordWriter:
    """Appends records to a file, creating it with its header if new."""

    def __init__(self, path: Path, kind: str, *, fsync: bool = True) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        self.path = path
        self._fsync = fsync
        new = not path.exists() or path.stat().st_size == 0
        if not new:
            check_file_header(path, kind)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if new:
            self._write(FILE_HEADER.pack(FILE_MAGIC, FILE_VERSION, KINDS[kind]))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self._fsync:
            os.fsync(self._fd)

    def append(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self._write(encode_record(meta, arrays))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_file_header(path: Path, kind: str) -> None:
    with open(path, "rb") as f:
        head = f.read(FILE_HEADER.size)
    if len(head) < FILE_HEADER.size or head[:8] != FILE_MAGIC:
        raise EdgeleakError(f"{path} is not an edgeleak capture file")
    _, version, code = FILE_HEADER.unpack(head)
    if version != FILE_VERSION:
        raise EdgeleakError(f"{path} has capture format version {version}; this edgeleak reads version {FILE_VERSION}")
    if code != KINDS[kind]:
        raise EdgeleakError(f"{path} holds {[k for k, v in KINDS.items() if v == code] or ['unknown']} records, not {kind}")


def read_records(path: Path, kind: str) -> Iterator[Record]:
    """Every intact record in order; torn or corrupt ones are skipped with a CaptureWarning."""
    check_file_header(path, kind)
    data = path.read_bytes()
    at = FILE_HEADER.size
    while at < len(data):
        if len(data) - at < RECORD_HEADER.size or data[at:at + 4] != RECORD_MAGIC:
            nxt = data.find(RECORD_MAGIC, at + 1)
            warnings.warn(CaptureWarning(f"{path.name}: skipped {((nxt if nxt >= 0 else len(data)) - at)} unreadable bytes at offset {at}"))
            if nxt < 0:
                return
            at = nxt
            continue
        _, meta_len, data_len, crc = RECORD_HEADER.unpack_from(data, at)
        end = at + RECORD_HEADER.size + meta_len + data_len
        if meta_len > MAX_META or data_len > MAX_DATA or end > len(data):
            if end > len(data) and meta_len <= MAX_META and data_len <= MAX_DATA:
                warnings.warn(CaptureWarning(f"{path.name}: the last record (offset {at}) is incomplete and was skipped"))
                return
            nxt = data.find(RECORD_MAGIC, at + 1)
            warnings.warn(CaptureWarning(f"{path.name}: skipped a record with impossible lengths at offset {at}"))
            if nxt < 0:
                return
            at = nxt
            continue
        meta_bytes = data[at + RECORD_HEADER.size:at + RECORD_HEADER.size + meta_len]
        payload = data[at + RECORD_HEADER.size + meta_len:end]
        if zlib.crc32(payload, zlib.crc32(meta_bytes)) != crc:
            warnings.warn(CaptureWarning(f"{path.name}: skipped a record whose checksum fails at offset {at}"))
            at = end
            continue
        yield _decode_payload(meta_bytes, payload, at)
        at = end
