"""A personalisation task from BasicMotions: a base model trained on the server's recordings, users who wear the
watch on the other wrist, and on-device training that has to adapt to them (docs/study.md, "The task").

- The 40 training recordings are split by recording, stratified by class: 5 per class are the server's own data
  (the base model is trained and calibrated on them), the other 20 are the users' (the devices hold them).
- Every recording (10 s, 100 steps) gives 6 windows of 50 steps with a stride of 10, so the held-out set has
  240 windows from the 40 test recordings; windows of one recording never sit on both sides of a split.
- The users' and the held-out recordings are mirrored as the other wrist sees the same motion: a reflection of the
  watch frame's x axis, which changes the sign of acc_x and, the angular velocity being an axial vector, of gyr_y
  and gyr_z. The base model scores about 0.33 on them; on-device training brings it back.
- Every window is normalised with the server's statistics (the firmware's input scale is fixed by the base model).
"""

from __future__ import annotations

import numpy as np

from edgeleak.data.datasets import CHANNELS_BASIC_MOTIONS, Dataset, _aeon_split, _encode_labels, normaliser

WINDOW = 50
STRIDE = 10
SERVER_PER_CLASS = 5
MIRRORED = {"acc_x": -1.0, "gyr_y": -1.0, "gyr_z": -1.0}


def windows_of(x: np.ndarray, y: np.ndarray, window: int = WINDOW, stride: int = STRIDE) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``window`` steps at ``stride`` of each recording, recording by recording."""
    starts = range(0, x.shape[1] - window + 1, stride)
    xs = np.stack([x[:, s:s + window] for s in starts], axis=1)  # (recordings, windows, steps, channels)
    return xs.reshape(-1, window, x.shape[2]), np.repeat(y, len(starts))


def other_wrist(x: np.ndarray, channels: tuple[str, ...]) -> np.ndarray:
    """The same motion seen by the watch on the other wrist (the module's docstring)."""
    return x * np.array([MIRRORED.get(c, 1.0) for c in channels], np.float32)


def load() -> Dataset:
    xtr, ytr = _aeon_split("BasicMotions", "BasicMotions", "TRAIN")
    xte, yte = _aeon_split("BasicMotions", "BasicMotions", "TEST")
    ytr, yte, class_names = _encode_labels(ytr, yte)
    rng = np.random.default_rng(0)
    server = np.sort(np.concatenate([rng.permutation(np.flatnonzero(ytr == c))[:SERVER_PER_CLASS]
                                     for c in range(len(class_names))]))
    users = np.setdiff1d(np.arange(len(ytr)), server)
    channels = CHANNELS_BASIC_MOTIONS
    x_base, y_base = windows_of(xtr[server], ytr[server])
    x_user, y_user = windows_of(other_wrist(xtr[users], channels), ytr[users])
    x_test, y_test = windows_of(other_wrist(xte, channels), yte)
    scale, mean, std = normaliser(x_base)
    return Dataset(name="basic_motions_other_wrist", x_train=scale(x_user), y_train=y_user, x_test=scale(x_test),
                   y_test=y_test, class_names=class_names, channel_names=channels, subjects_train=None,
                   mean=mean, std=std, x_base=scale(x_base), y_base=y_base)
