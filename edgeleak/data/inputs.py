"""Windows for ``edgeleak infer`` from a file: ``.npy``, ``.npz`` (an array by name) or ``.csv`` (docs/data-format.md,
"Inputs for infer"). Every problem is one line naming the shape the model expects."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from edgeleak.data.csv_table import LABEL_COLUMNS, SUBJECT_COLUMNS, TIME_COLUMNS, numeric_column, read_table
from edgeleak.errors import EdgeleakError

NPZ_DEFAULT_ARRAY = "windows"


def _expected(window: tuple[int, ...]) -> str:
    return f"windows of shape (n, {', '.join(map(str, window))}) or one window {tuple(window)}"


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for d in shape if d != 1)


def _fit(x: np.ndarray, window: tuple[int, ...], where: str) -> np.ndarray:
    """``(n, *window)``: a single window gains its batch axis; size-1 axes may differ."""
    if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or x.dtype == np.int8):
        raise EdgeleakError(f"{where} holds {x.dtype} values; the model takes float windows (or int8 tensors), "
                            f"{_expected(window)}")
    if x.ndim and _squeezed(x.shape) == _squeezed(window) and _squeezed(x.shape[1:]) != _squeezed(window):
        x = x[None]
    if x.ndim < 2 or _squeezed(x.shape[1:]) != _squeezed(window):
        raise EdgeleakError(f"{where} holds an array of shape {x.shape}; the model expects {_expected(window)}")
    return x.reshape(len(x), *window)


def _npy(data: bytes, where: str) -> np.ndarray:
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise EdgeleakError(f"{where} holds an object array (pickled data); save numbers, "
                                "e.g. np.save(path, windows.astype(np.float32))") from None
        raise EdgeleakError(f"{where} is not a readable .npy file ({exc})") from None


def _npz(data: bytes, where: str, name: str | None) -> np.ndarray:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            names = list(npz.files)
            if name is None:
                if NPZ_DEFAULT_ARRAY in names or len(names) != 1:
                    name = NPZ_DEFAULT_ARRAY
                else:
                    name = names[0]
            if name not in names:
                raise EdgeleakError(f"{where} has no array {name!r}; it holds {', '.join(names) or 'none'}: pick one "
                                    f"with --input {where}:NAME")
            return npz[name]
    except ValueError as exc:
        if "pickle" in str(exc):
            raise EdgeleakError(f"{where} holds an object array (pickled data); save numbers") from None
        raise EdgeleakError(f"{where} is not a readable .npz file ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise EdgeleakError(f"{where} is not a readable .npz file ({exc})") from None


def _csv(data: bytes, where: str, window: tuple[int, ...]) -> np.ndarray:
    table = read_table(data, where, header_row=None)
    skip = {c.lower() for c in LABEL_COLUMNS + SUBJECT_COLUMNS + TIME_COLUMNS}
    channels = [c for c in table.header if c.lower() not in skip]
    values = np.stack([numeric_column(table, c) for c in channels], axis=1).astype(np.float32)
    steps = window[0] if len(window) == 2 else int(np.prod(window[:-1])) if window else 1
    width = int(np.prod(window)) // steps
    if values.shape[1] != width or len(values) % steps:
        raise EdgeleakError(f"{where} holds {len(values)} rows of {values.shape[1]} channel columns; the model expects "
                            f"windows of {steps} rows of {width} channels (a multiple of {steps} rows, one window after "
                            f"another), shape (n, {', '.join(map(str, window))})")
    return values.reshape(len(values) // steps, *window)


def read_inputs(spec: str, window: tuple[int, ...]) -> np.ndarray:
    """Windows ``(n, *window)`` from ``FILE.npy``, ``FILE.npz`` (its ``windows`` array, or its only one),
    ``FILE.npz:NAME`` or ``FILE.csv``; float as stored, int8 passed through."""
    name = None
    if ":" in spec and spec.rsplit(":", 1)[0].lower().endswith(".npz"):
        spec, name = spec.rsplit(":", 1)
    path = Path(spec)
    where = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EdgeleakError(f"cannot read inputs {spec}: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".npz":
        x = _npz(data, where, name)
    elif suffix == ".csv":
        x = _csv(data, where, tuple(window))
    elif suffix == ".npy":
        x = _npy(data, where)
    else:
        raise EdgeleakError(f"inputs {where}: give a .npy, .npz or .csv file of {_expected(window)}")
    return _fit(np.asarray(x), tuple(window), where)
