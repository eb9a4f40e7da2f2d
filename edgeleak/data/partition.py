"""Split training windows among simulated devices for federated experiments (pure functions of arrays)."""

from __future__ import annotations

import numpy as np

from edgeleak.errors import EdgeleakError

SCHEMES = ("iid", "by-class", "by-subject")


def partition(
    labels: np.ndarray, n_devices: int, scheme: str, *, seed: int = 0, subjects: np.ndarray | None = None
) -> list[np.ndarray]:
    """Return one array of sample indices per device.

    - ``iid``: a seeded shuffle dealt round-robin, so every device gets a near-equal share.
    - ``by-class``: each class goes whole to one device (classes dealt round-robin); with more devices
      than classes a class is split among the devices that share it.
    - ``by-subject``: each subject's windows go whole to one device; needs subject ids.
    """
    if n_devices < 1:
        raise EdgeleakError(f"need at least one device, got {n_devices}")
    n = len(labels)
    if n < n_devices:
        raise EdgeleakError(f"{n} samples cannot be shared among {n_devices} devices; use fewer devices")
    rng = np.random.default_rng(seed)
    if scheme == "iid":
        order = rng.permutation(n)
        return [np.sort(order[d::n_devices]) for d in range(n_devices)]
    if scheme == "by-class":
        return _by_group(labels, n_devices, rng)
    if scheme == "by-subject":
        if subjects is None:
            raise EdgeleakError("this data set has no subject ids; use --partition iid or by-class")
        return _by_group(subjects, n_devices, rng)
    raise EdgeleakError(f"unknown partition {scheme!r}; choose one of: {', '.join(SCHEMES)}")


def _by_group(groups: np.ndarray, n_devices: int, rng: np.random.Generator) -> list[np.ndarray]:
    unique = rng.permutation(np.unique(groups))
    if len(unique) >= n_devices:
        owners = {g: i % n_devices for i, g in enumerate(unique)}
        return [np.flatnonzero(np.isin(groups, [g for g, d in owners.items() if d == dev])) for dev in range(n_devices)]
    # Fewer groups than devices: every group is split among the devices assigned to it.
    devices_of = {g: [d for d in range(n_devices) if d % len(unique) == i] for i, g in enumerate(unique)}
    shards: list[np.ndarray] = [np.empty(0, np.int64)] * n_devices
    for g, devs in devices_of.items():
        idx = rng.permutation(np.flatnonzero(groups == g))
        for k, d in enumerate(devs):
            shards[d] = np.sort(idx[k::len(devs)])
    return shards
