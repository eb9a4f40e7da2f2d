"""Loaders for real sensor data that ships in packages (aeon's UEA/UCR files, scikit-learn's digits).

Every loader returns windows channels-last, ``(n, steps, channels)`` float32, normalised per
channel with the training split's mean and standard deviation, and integer labels 0..k-1.
Nothing is downloaded.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from typing import Callable

import numpy as np

from edgeleak.core.model import DatasetSource
from edgeleak.errors import EdgeleakError


@dataclass(frozen=True)
class Dataset:
    """A normalised train/test split of sensor windows."""

    name: str  # the registry key, e.g. "basic_motions"
    x_train: np.ndarray  # (n, steps, channels) float32
    y_train: np.ndarray  # (n,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    channel_names: tuple[str, ...]
    subjects_train: np.ndarray | None  # (n,) subject id per training window, when the data has subjects
    mean: np.ndarray  # (channels,) removed before scaling
    std: np.ndarray  # (channels,) divided out
    x_base: np.ndarray | None = None  # the server's own data the base model is trained on; None: x_train
    y_base: np.ndarray | None = None
    source: DatasetSource | None = None  # where the windows come from; None: the packaged data set ``name``
    sample_rate_hz: float | None = None  # when the data says (a user's NPZ may)

    def base(self) -> tuple[np.ndarray, np.ndarray]:
        """The windows and labels the base model is trained and calibrated on."""
        return (self.x_train, self.y_train) if self.x_base is None else (self.x_base, self.y_base)

    @property
    def input_shape(self) -> tuple[int, int]:
        return (int(self.x_train.shape[1]), int(self.x_train.shape[2]))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _aeon_split(name: str, file_stem: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    from aeon.datasets import load_from_ts_file

    path = importlib.resources.files("aeon") / "datasets" / "data" / name / f"{file_stem}_{split}.ts"
    if not path.is_file():
        raise EdgeleakError(f"data set file {name}/{file_stem}_{split}.ts is missing from the aeon package; reinstall aeon 1.6")
    x, y = load_from_ts_file(str(path))
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise EdgeleakError(f"data set {name} has unequal-length series; use its equal-length variant")
    return np.transpose(x, (0, 2, 1)), np.asarray(y)


def _encode_labels(y_train: np.ndarray, y_test: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    found = {str(c) for c in set(y_train.tolist()) | set(y_test.tolist())}
    numeric = all(c.lstrip("-").isdigit() for c in found)
    classes = sorted(found, key=int) if numeric else sorted(found)
    index = {c: i for i, c in enumerate(classes)}
    encode = np.vectorize(lambda c: index[str(c)], otypes=[np.int64])
    return encode(y_train), encode(y_test), tuple(str(c) for c in classes)


def normaliser(x_ref: np.ndarray) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray]:
    """Per-channel standardisation with the statistics of ``x_ref``: (scale, mean, std); missing values become the
    channel mean (0)."""
    mean = np.nanmean(x_ref, axis=(0, 1))
    std = np.nanstd(x_ref, axis=(0, 1))
    std = np.where(std > 1e-8, std, 1.0)
    scale = lambda x: np.nan_to_num((x - mean) / std, nan=0.0).astype(np.float32)  # noqa: E731
    return scale, mean.astype(np.float32), std.astype(np.float32)


def normalise(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel standardisation with training statistics (``normaliser``)."""
    scale, mean, std = normaliser(x_train)
    return scale(x_train), scale(x_test), mean, std


def _from_aeon(key: str, name: str, file_stem: str, channel_names: tuple[str, ...] | None, subjects_are_labels: bool) -> Dataset:
    xtr, ytr = _aeon_split(name, file_stem, "TRAIN")
    xte, yte = _aeon_split(name, file_stem, "TEST")
    ytr_i, yte_i, class_names = _encode_labels(ytr, yte)
    xtr_n, xte_n, mean, std = normalise(xtr, xte)
    channels = channel_names or tuple(f"ch{i}" for i in range(xtr.shape[2]))
    return Dataset(
        name=key,
        x_train=xtr_n, y_train=ytr_i, x_test=xte_n, y_test=yte_i,
        class_names=class_names, channel_names=channels,
        subjects_train=ytr_i.copy() if subjects_are_labels else None,
        mean=mean, std=std,
    )


CHANNELS_BASIC_MOTIONS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


def load_basic_motions() -> Dataset:
    """Smartwatch accelerometer and gyroscope, 6 x 100 steps, 4 activities, 40 train / 40 test windows."""
    return _from_aeon("basic_motions", "BasicMotions", "BasicMotions", CHANNELS_BASIC_MOTIONS, False)


def load_pickup_gesture() -> Dataset:
    """Wii remote Z-axis accelerometer, 10 gestures, equal-length (361 steps) variant."""
    return _from_aeon("pickup_gesture", "PickupGestureWiimoteZ", "PickupGestureWiimoteZ_eq", ("acc_z",), False)


def load_japanese_vowels() -> Dataset:
    """12 LPC cepstrum channels of 9 speakers (the label is the speaker, so it is also the subject)."""
    return _from_aeon("japanese_vowels", "JapaneseVowels", "JapaneseVowels_eq", None, True)


def load_digits() -> Dataset:
    """scikit-learn's 8x8 handwritten digits as 8 steps x 8 channels, split 75/25 with a fixed seed."""
    from sklearn.datasets import load_digits as sk_load
    from sklearn.model_selection import train_test_split

    bunch = sk_load()
    x = (bunch.images.astype(np.float32) / 16.0)
    xtr, xte, ytr, yte = train_test_split(x, bunch.target.astype(np.int64), test_size=0.25, random_state=0, stratify=bunch.target)
    # Pixels share one scale: normalise globally rather than per row so the image stays an image.
    mean, std = float(xtr.mean()), float(xtr.std())
    channels = x.shape[2]
    return Dataset(
        name="digits",
        x_train=((xtr - mean) / std).astype(np.float32), y_train=ytr,
        x_test=((xte - mean) / std).astype(np.float32), y_test=yte,
        class_names=tuple(str(i) for i in range(10)), channel_names=tuple(f"col{i}" for i in range(channels)),
        subjects_train=None,
        mean=np.full(channels, mean, np.float32), std=np.full(channels, std, np.float32),
    )


def load_basic_motions_other_wrist() -> Dataset:
    """BasicMotions as a personalisation task: the base model's data as recorded, the devices' and the held-out
    windows as from the watch on the other wrist (``edgeleak.data.other_wrist``)."""
    from edgeleak.data.other_wrist import load

    return load()


DATASETS: dict[str, Callable[[], Dataset]] = {
    "basic_motions": load_basic_motions,
    "pickup_gesture": load_pickup_gesture,
    "japanese_vowels": load_japanese_vowels,
    "digits": load_digits,
    "basic_motions_other_wrist": load_basic_motions_other_wrist,
}


def load_dataset(spec: "str | DatasetSource") -> Dataset:
    """Load a data set: a packaged one by its registry name, a user's .npz or .csv file by its path (default windowing;
    ``edgeleak.data.spec`` for options), or the source a model directory recorded (a user's file, checked against the
    hash it had when the model was made)."""
    if isinstance(spec, DatasetSource):
        source = spec
    else:
        from edgeleak.data.spec import source_for

        source = source_for(spec)
    if not source.packaged:
        from edgeleak.data.user_files import load_source

        return load_source(source)
    try:
        loader = DATASETS[source.name]
    except KeyError:
        raise EdgeleakError(f"unknown data set {source.name!r}; choose one of: {', '.join(DATASETS)}, "
                            "or give a .npz or .csv file (docs/data-format.md)") from None
    return loader()
