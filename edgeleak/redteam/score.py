"""Pure math of the red team: how close an update came to the clean one, probes for the metadata side
channel and their inversion, the device's ε of a zCDP total (docs/training.md), the grid check.

Cosine: ``<u, d> / (|u| |d|)``, in float64; NaN when either vector is zero or not finite.
Probe: weights under which the last logit ``c`` is ``a = g·x_j + o`` and every other logit 0, so a reported
loss ``l = log(e^a + n − 1)`` (label ``≠ c``) gives ``a``, hence the stored int8 value ``q_j``."""

from __future__ import annotations

import math

import numpy as np

from edgeleak.core.quant import quantize_int8

PROBE_SPAN = 8.0  # the probed logit ranges over [1, 1 + PROBE_SPAN] for q in [-128, 127]
LABEL_STEP = 1.0  # label probe: logits 0, 1, 2, ... so the loss is log(sum e^k) - y


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"cosine of vectors of {a.size} and {b.size} coordinates")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.nan
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return math.nan
    return float(np.dot(a, b) / (na * nb))


def epsilon_of_rho(rho: float, delta: float) -> float:
    """ε of a ρ-zCDP total at ``delta``, the device's conversion (``edgeleak.privacy.grid.epsilon_zcdp``)."""
    from edgeleak.privacy.grid import epsilon_zcdp

    if not rho >= 0 or not 0 < delta < 1:
        raise ValueError(f"need rho >= 0 and delta in (0, 1), got {rho}, {delta}")
    return epsilon_zcdp(rho, delta)


def head_shapes(layers) -> list[tuple[int, int]]:
    """``(in, out)`` of every dense layer of a head."""
    return [(int(l.weights.shape[1]), int(l.weights.shape[0])) for l in layers]


def _zero_params(shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    out = []
    for n_in, n_out in shapes:
        out += [np.zeros((n_out, n_in), np.float32), np.zeros(n_out, np.float32)]
    return out


def _flat(params: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([p.reshape(-1) for p in params]).astype(np.float32)


def label_probe(shapes: list[tuple[int, int]]) -> np.ndarray:
    """Weights whose logits are 0, 1, 2, ... whatever the input: the loss reveals the label."""
    params = _zero_params(shapes)
    params[-1][:] = LABEL_STEP * np.arange(shapes[-1][1], dtype=np.float32)
    return _flat(params)


def label_from_loss(loss: float, classes: int) -> int | None:
    total = math.log(sum(math.exp(LABEL_STEP * k) for k in range(classes)))
    guess = (total - loss) / LABEL_STEP
    label = int(round(guess))
    return label if 0 <= label < classes and abs(guess - label) < 0.25 else None


def value_probe(shapes: list[tuple[int, int]], coordinate: int, target_class: int, scale: float,
                zero_point: int) -> np.ndarray:
    """Weights under which logit ``target_class`` is ``a = 1 + PROBE_SPAN·(q_j + 128)/256`` and every other logit 0,
    where ``q_j`` is the stored int8 value of input ``coordinate`` of the head (feature ``x_j = (q_j − z)·s``); in a
    deeper head ``a`` passes hidden unit 0 of every layer (``a ≥ 1``, so the ReLUs keep it)."""
    params = _zero_params(shapes)
    first_out = target_class if len(shapes) == 1 else 0
    params[0][first_out, coordinate] = np.float32(PROBE_SPAN / (256.0 * scale))
    params[1][first_out] = np.float32(1.0 + PROBE_SPAN * (128 + zero_point) / 256.0)
    for l in range(1, len(shapes)):
        row = target_class if l == len(shapes) - 1 else 0
        params[2 * l][row, 0] = 1.0
    return _flat(params)


def value_from_loss(loss: float, classes: int) -> int | None:
    """The int8 value a value probe's loss reveals (label ≠ the probed class), or None when out of range."""
    inner = math.exp(loss) - (classes - 1)
    if not inner > 0:
        return None
    a = math.log(inner)
    q = (a - 1.0) * 256.0 / PROBE_SPAN - 128.0
    value = int(round(q))
    return value if -128 <= value <= 127 and abs(q - value) < 0.25 else None


def int8_of_features(features: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The stored int8 cut values behind features ``(q − z)·s``."""
    return quantize_int8(features, scale, zero_point).astype(np.int64)


def off_grid(values: np.ndarray, exponent: int) -> int:
    """Coordinates that are not integer multiples of the grid step ``2^exponent`` (float noise leaks; Mironov 2012)."""
    units = np.ldexp(np.asarray(values, np.float64), -exponent)
    return int(np.count_nonzero(~np.isfinite(units) | (units != np.round(units))))


def noise_norm_bound(clip_norm: float, sigma: float, coordinates: int) -> float:
    """A generous bound on the norm of a clipped, noised update: ``C + σC(√P + 6)``."""
    return clip_norm + sigma * clip_norm * (math.sqrt(coordinates) + 6.0)
