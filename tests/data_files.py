"""Small user data files the tests write: a long-form CSV recording and an NPZ of windows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

CHANNELS = ("acc_x", "acc_y", "acc_z")
ACTIVITIES = ("walk", "run", "sit")


def write_recording(path: Path, *, subjects=("s1", "s2", "s3"), activities=ACTIVITIES, rows_per_segment: int = 60,
                    seed: int = 0) -> np.ndarray:
    """One row per time step: timestamp, subject, activity and three channels; each subject records each activity for
    ``rows_per_segment`` rows, the activities' signals differ. Returns the channel values (rows, 3)."""
    rng = np.random.default_rng(seed)
    rows, values, t = [], [], 0.0
    for subject in subjects:
        for k, activity in enumerate(activities):
            phase = np.arange(rows_per_segment) * (0.2 + 0.3 * k)
            block = np.stack([np.sin(phase) * (1 + k), np.cos(phase), np.full(rows_per_segment, 9.81 - k)], axis=1)
            block += rng.normal(0, 0.3, block.shape)
            for v in block:
                rows.append([f"{t:.2f}", subject, activity, *(f"{x:.5f}" for x in v)])
                t += 0.02
            values.append(block)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "subject", "activity", *CHANNELS])
        w.writerows(rows)
    return np.concatenate(values).astype(np.float32)


def write_windows(path: Path, *, n_per_class: int = 8, steps: int = 20, seed: int = 0, **extra) -> dict[str, np.ndarray]:
    """An NPZ with windows (n, steps, 3), string labels, subjects and channel names (plus ``extra`` arrays)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.asarray(ACTIVITIES), n_per_class)
    offsets = {a: i for i, a in enumerate(ACTIVITIES)}
    windows = rng.normal(0, 1, (len(labels), steps, 3)).astype(np.float32)
    windows += np.array([offsets[a] for a in labels], np.float32)[:, None, None] * 2 + 5
    arrays = {"windows": windows, "labels": labels, "subjects": np.tile(np.array(["a", "b"]), len(labels) // 2),
              "channel_names": np.asarray(CHANNELS), **extra}
    np.savez(path, **arrays)
    return arrays
