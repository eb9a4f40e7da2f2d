"""A user's own data set: windows in an NPZ file or a long-form CSV recording (docs/data-format.md).

The file is read once; its SHA-256 is checked against the one a model directory recorded (a changed or missing file
is refused, never silently reloaded) and recorded in the returned data set's ``source``. Windows are normalised per
channel with the training split's statistics only (``datasets.normaliser``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from edgeleak.core.model import DatasetSource
from edgeleak.data.csv_table import (LABEL_COLUMNS, SUBJECT_COLUMNS, TIME_COLUMNS, find_column, numeric_column,
                                     read_table, text_column, time_column)
from edgeleak.data.datasets import Dataset, normaliser
from edgeleak.data.windows import encode, recording_runs, stratified_split, window_starts
from edgeleak.errors import EdgeleakError

NPZ_ARRAYS = ("windows", "labels", "subjects", "channel_names", "class_names", "sample_rate_hz", "split")
DEFAULT_WINDOW = 100
DEFAULT_STRIDE_DIVISOR = 2  # default stride: half the window


class DataFileError(EdgeleakError):
    """The file a model was made from is missing or has changed: a refusal, never a fallback to other data."""


def read_checked(source: DatasetSource) -> bytes:
    """The file's bytes, refused when it is missing or its hash differs from the recorded one."""
    path = Path(str(source.path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if source.sha256:
            raise DataFileError(f"data set file {path} is missing (moved or deleted?); the model was made from it "
                                f"(sha256 {source.sha256[:12]}): put it back, or pass --dataset with its new path") from None
        raise DataFileError(f"data set file {path} does not exist") from None
    except OSError as exc:
        raise DataFileError(f"cannot read data set file {path}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if source.sha256 and digest != source.sha256:
        raise DataFileError(f"data set file {path} has changed since the model was made from it (sha256 {digest[:12]}, "
                            f"recorded {source.sha256[:12]}); restore it, or re-run 'edgeleak quantize' on it")
    return data


def load_source(source: DatasetSource) -> Dataset:
    """Load a user's NPZ or CSV file as a data set (the module's docstring)."""
    data = read_checked(source)
    source = dataclasses.replace(source, sha256=hashlib.sha256(data).hexdigest())
    if source.format == "npz":
        return _from_npz(data, source)
    if source.format == "csv":
        return _from_csv(data, source)
    raise EdgeleakError(f"data set {source.name!r} has format {source.format!r}, which is not a file format")


def _npz_arrays(data: bytes, where: str) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            names = list(npz.files)
            unknown = sorted(set(names) - set(NPZ_ARRAYS))
            if unknown:
                raise EdgeleakError(f"{where} holds unknown arrays {', '.join(unknown)}; known: {', '.join(NPZ_ARRAYS)}")
            return {name: npz[name] for name in names}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickled" in str(exc):
            raise EdgeleakError(f"{where} holds an object array (pickled data); save text as fixed-width strings, "
                                "e.g. np.asarray(labels, dtype=str)") from None
        raise EdgeleakError(f"{where} is not a readable .npz file ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise EdgeleakError(f"{where} is not a readable .npz file ({exc})") from None


def _names(arrays: dict[str, np.ndarray], key: str, count: int, where: str, what: str) -> tuple[str, ...] | None:
    if key not in arrays:
        return None
    names = arrays[key]
    if names.ndim != 1 or len(names) != count:
        raise EdgeleakError(f"{where}: {key} has shape {names.shape}; it needs one name per {what} ({count},)")
    return tuple(str(v) for v in names.tolist())


def _from_npz(data: bytes, source: DatasetSource) -> Dataset:
    where = Path(str(source.path)).name
    arrays = _npz_arrays(data, where)
    for key in ("windows", "labels"):
        if key not in arrays:
            raise EdgeleakError(f"{where} lacks the array {key!r} (it needs windows (n, steps, channels) and labels (n,))")
    x, raw_labels = arrays["windows"], arrays["labels"]
    if x.ndim != 3 or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise EdgeleakError(f"{where}: windows have shape {x.shape} and dtype {x.dtype}; they need numbers of shape "
                            "(n, steps, channels)")
    x = x.astype(np.float32)
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        raise EdgeleakError(f"{where}: windows{list(map(int, bad[0]))} is {x[tuple(bad[0])]}; every value must be finite")
    if raw_labels.shape != (len(x),):
        raise EdgeleakError(f"{where}: labels have shape {raw_labels.shape}; they need one per window ({len(x)},)")
    class_names = None
    if "class_names" in arrays:
        if arrays["class_names"].ndim != 1 or len(set(arrays["class_names"].tolist())) != len(arrays["class_names"]):
            raise EdgeleakError(f"{where}: class_names must be a list of distinct names, shape (classes,)")
        class_names = tuple(str(v) for v in arrays["class_names"].tolist())
    if class_names is not None and np.issubdtype(raw_labels.dtype, np.integer):
        if raw_labels.min() < 0 or raw_labels.max() >= len(class_names):
            raise EdgeleakError(f"{where}: integer labels index class_names, so they must lie in 0..{len(class_names) - 1}")
        labels = raw_labels.astype(np.int64)
    elif class_names is not None:
        index = {c: i for i, c in enumerate(class_names)}
        missing = sorted({str(v) for v in raw_labels.tolist()} - set(index))
        if missing:
            raise EdgeleakError(f"{where}: labels {', '.join(missing[:5])} are not among class_names")
        labels = np.fromiter((index[str(v)] for v in raw_labels.tolist()), np.int64, len(raw_labels))
    else:
        labels, class_names = encode(raw_labels)
    channels = _names(arrays, "channel_names", x.shape[2], where, "channel") or tuple(f"ch{i}" for i in range(x.shape[2]))
    subjects = None
    if "subjects" in arrays:
        if arrays["subjects"].shape != (len(x),):
            raise EdgeleakError(f"{where}: subjects have shape {arrays['subjects'].shape}; they need one per window ({len(x)},)")
        subjects = encode(arrays["subjects"])[0]
    rate = None
    if "sample_rate_hz" in arrays:
        value = arrays["sample_rate_hz"]
        if value.size != 1 or not np.issubdtype(value.dtype, np.number) or not float(value.ravel()[0]) > 0:
            raise EdgeleakError(f"{where}: sample_rate_hz must be one positive number")
        rate = float(value.ravel()[0])
    _check_classes(labels, class_names, where)
    if "split" in arrays:
        train, test = _explicit_split(arrays["split"], len(x), where)
    else:
        train, test = stratified_split(labels, class_names, where)
    return _assemble(source, x, labels, train, test, class_names, channels, subjects, rate)


def _explicit_split(split: np.ndarray, n: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    if split.shape != (n,):
        raise EdgeleakError(f"{where}: split has shape {split.shape}; it needs 'train' or 'test' per window ({n},)")
    values = np.asarray(split).astype(str)
    other = sorted(set(values.tolist()) - {"train", "test"})
    if other:
        raise EdgeleakError(f"{where}: split holds {other[0]!r}; every entry must be 'train' or 'test'")
    train, test = np.flatnonzero(values == "train"), np.flatnonzero(values == "test")
    if len(train) == 0 or len(test) == 0:
        raise EdgeleakError(f"{where}: split puts {len(train)} windows in train and {len(test)} in test; both need some")
    return train, test


def _check_classes(labels: np.ndarray, class_names: tuple[str, ...], where: str) -> None:
    present = np.unique(labels)
    if len(present) < 2:
        only = class_names[int(present[0])] if len(present) else "none"
        raise EdgeleakError(f"{where} has a single class ({only!r}); a classifier needs at least 2")


def _from_csv(data: bytes, source: DatasetSource) -> Dataset:
    where = Path(str(source.path)).name
    table = read_table(data, where)
    label_col = find_column(table, source.label_column, LABEL_COLUMNS, "--label-column", required=True)
    subject_col = find_column(table, source.subject_column, SUBJECT_COLUMNS, "--subject-column", required=False)
    time_col = find_column(table, source.time_column, TIME_COLUMNS, "--time-column", required=False)
    roles = {label_col, subject_col, time_col} - {None}
    if source.channels:
        unknown = [c for c in source.channels if c not in table.header]
        if unknown:
            raise EdgeleakError(f"{where} has no channel {unknown[0]!r} (--channels); its columns: {', '.join(table.header)}")
        channels = tuple(source.channels)
    else:
        channels = tuple(c for c in table.header if c not in roles)
        if "" in channels:
            raise EdgeleakError(f"{where}: header column {table.header.index('') + 1} has no name; name it or choose "
                                "the channels with --channels")
    if not channels:
        raise EdgeleakError(f"{where} has no channel columns besides {', '.join(sorted(roles))}")
    clash = sorted(set(channels) & roles)
    if clash:
        raise EdgeleakError(f"{where}: column {clash[0]!r} cannot be both a channel and the label, subject or time")
    values = np.stack([numeric_column(table, c) for c in channels], axis=1).astype(np.float32)
    raw_labels = text_column(table, label_col)
    raw_subjects = text_column(table, subject_col) if subject_col else None
    times = time_column(table, time_col) if time_col else None
    window = source.window or DEFAULT_WINDOW
    stride = source.stride or max(1, window // DEFAULT_STRIDE_DIVISOR)
    starts, dropped = window_starts(raw_labels, recording_runs(raw_subjects, times), window, stride)
    if len(starts) == 0:
        raise EdgeleakError(f"{where} gives no window of {window} rows within one label and subject "
                            f"({len(table.rows)} rows, {dropped} windows straddle two labels); lower --window")
    x = values[starts[:, None] + np.arange(window)]
    labels, class_names = encode(raw_labels[starts])
    subjects = encode(raw_subjects[starts])[0] if raw_subjects is not None else None
    _check_classes(labels, class_names, where)
    train, test = stratified_split(labels, class_names, where)
    resolved = dataclasses.replace(source, window=window, stride=stride, channels=channels, label_column=label_col,
                                   subject_column=subject_col, time_column=time_col)
    return _assemble(resolved, x, labels, train, test, class_names, channels, subjects, None)


def _assemble(source: DatasetSource, x: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray,
              class_names: tuple[str, ...], channels: tuple[str, ...], subjects: np.ndarray | None,
              sample_rate_hz: float | None) -> Dataset:
    scale, mean, std = normaliser(x[train])  # the training split's statistics only
    return Dataset(name=source.name, x_train=scale(x[train]), y_train=labels[train], x_test=scale(x[test]),
                   y_test=labels[test], class_names=class_names, channel_names=channels,
                   subjects_train=None if subjects is None else subjects[train], mean=mean, std=std, source=source,
                   sample_rate_hz=sample_rate_hz)
