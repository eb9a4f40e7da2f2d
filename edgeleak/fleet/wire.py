"""The bridge's messages: a JSON header and named arrays in one byte string (pure functions).

    message = u32 header length (little-endian) | header (UTF-8 strict JSON) | NPZ of the arrays (no pickles)
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import dataclass, field

import numpy as np

from edgeleak import strict_json

_LEN = struct.Struct("<I")


class WireError(ValueError):
    """A bridge message that does not parse."""


@dataclass(frozen=True)
class WireMessage:
    header: dict
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def pack(message: WireMessage) -> bytes:
    header = strict_json.dumps(message.header).encode()
    buffer = io.BytesIO()
    np.savez(buffer, **message.arrays)
    return _LEN.pack(len(header)) + header + buffer.getvalue()


def unpack(raw: bytes) -> WireMessage:
    if len(raw) < _LEN.size:
        raise WireError(f"a bridge message of {len(raw)} bytes")
    (length,) = _LEN.unpack_from(raw)
    if _LEN.size + length > len(raw):
        raise WireError("a bridge message's header runs past its end")
    try:
        header = json.loads(raw[_LEN.size:_LEN.size + length])
        with np.load(io.BytesIO(raw[_LEN.size + length:]), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise WireError(f"a bridge message does not parse: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("a bridge message's header is not an object")
    return WireMessage(header, arrays)
