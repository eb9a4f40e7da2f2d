"""Cutting a long recording into windows and splitting windows into train and test: pure functions of arrays
(the rules of docs/data-format.md)."""

from __future__ import annotations

import numpy as np

from edgeleak.errors import EdgeleakError

TEST_FRACTION = 0.25  # share of each class's windows held out for testing
SPLIT_SEED = 0
GAP_FACTOR = 3.0  # a time step longer than this many median steps starts a new recording


def recording_runs(subjects: np.ndarray | None, times: np.ndarray | None) -> np.ndarray:
    """A run id per row: rows of one run are consecutive, of one subject, and in time order without a gap.

    A new run starts where the subject changes, where the time goes backwards, or where it jumps by more than
    ``GAP_FACTOR`` times the median step (a paused or restarted recording)."""
    n = len(subjects) if subjects is not None else len(times) if times is not None else 0
    new = np.zeros(n, bool)
    if n:
        new[0] = True
    if subjects is not None and n > 1:
        new[1:] |= subjects[1:] != subjects[:-1]
    if times is not None and n > 1:
        steps = np.diff(times)
        new[1:] |= steps < 0
        forward = steps[steps > 0]
        if len(forward):
            new[1:] |= steps > GAP_FACTOR * np.median(forward)
    return np.cumsum(new) - 1


def window_starts(labels: np.ndarray, runs: np.ndarray, window: int, stride: int) -> tuple[np.ndarray, int]:
    """The first row of every window, and how many were dropped for straddling two labels.

    Windows start at the first row of each run and every ``stride`` rows after it, never cross into the next run, and
    are dropped when their rows carry more than one label."""
    if window < 1 or stride < 1:
        raise EdgeleakError(f"--window and --stride must be positive, got {window} and {stride}")
    starts, dropped = [], 0
    edges = np.flatnonzero(np.diff(runs, prepend=-1, append=-1) != 0)  # run boundaries: [start, end) pairs
    change = np.concatenate([[0], np.cumsum(labels[1:] != labels[:-1])])  # label segments, as a running count
    for begin, end in zip(edges[:-1], edges[1:]):
        for s in range(begin, end - window + 1, stride):
            if change[s + window - 1] == change[s]:
                starts.append(s)
            else:
                dropped += 1
    return np.asarray(starts, np.int64), dropped


def stratified_split(labels: np.ndarray, class_names: tuple[str, ...], where: str,
                     fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices: of each class, ``round(fraction * n)`` windows (at least 1, at most n - 1) chosen with a
    fixed seed go to the test split. Every class needs 2 windows."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(len(class_names)):
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        if len(members) < 2:
            raise EdgeleakError(f"{where}: class {class_names[c]!r} has 1 window; the train/test split needs at least 2 "
                                "per class (record more, or lower --window or --stride)")
        k = int(min(max(round(fraction * len(members)), 1), len(members) - 1))
        chosen = rng.permutation(members)
        test.append(chosen[:k])
        train.append(chosen[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def encode(values: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels or subjects as codes 0..k-1 and their names: integers in numeric order, other text sorted."""
    text = np.asarray(values).astype(str)
    found = sorted(set(text.tolist()))
    if all(v.lstrip("-").isdigit() for v in found):
        found = sorted(found, key=int)
    index = {v: i for i, v in enumerate(found)}
    return np.fromiter((index[v] for v in text), np.int64, len(text)), tuple(found)
