"""The device's privacy arithmetic, the host's twin of ``firmware/src/train/el_dp_account.c``
(docs/training.md, "Discrete Gaussian noise on a fixed-point grid" and "The privacy floor and the budget").

The grid turns clip norm C and noise multiplier σ into integers: a step 2^e, a sensitivity unit B = floor(C·2^-e)
and a noise scale s = ceil(σ·B); a release with noise on the update costs ρ = 2B²/s² (replace-one neighbours,
zCDP), DP-SGD costs that per appearance of a window. Every function here computes exactly what the device does,
in the same double-precision steps, so the device's figures can be checked bit for bit."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeleak.train.config import ClipMode, NoiseKind, NoiseMode, TrainConfig

MAX_SCALE = 4096
MAX_SENS = 1 << 26
ROUND_UP = 1.0 + 2.0 ** -50

ORDERS = (1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.2, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0,
          14.0, 16.0, 20.0, 24.0, 28.0, 32.0, 40.0, 48.0, 56.0, 63.0, 128.0, 256.0, 512.0, 1024.0)
"""The device's RDP orders: a subset of dp-accounting's defaults, so its ε is never below dp-accounting's."""


@dataclass(frozen=True)
class NoiseGrid:
    exponent: int  # e: the grid step is 2**e
    sens: int  # B
    scale: int  # s
    clip_eff: np.float32  # every clip of a noisy round uses it

    @property
    def step(self) -> float:
        return math.ldexp(1.0, self.exponent)


def isqrt_ceil(n: int) -> int:
    r = math.isqrt(n)
    return r if r * r == n else r + 1


def make_grid(clip_norm: float, noise_multiplier: float, params: int) -> NoiseGrid | None:
    """The grid of a Gaussian configuration over ``params`` parameters, or None when it does not fit."""
    clip, sigma = float(np.float32(clip_norm)), float(np.float32(noise_multiplier))
    x = sigma * clip
    if not (clip > 0 and sigma > 0 and math.isfinite(x) and params > 0):
        return None
    r = isqrt_ceil(params)
    _, k = math.frexp(x)
    exponent = k - 12
    if not -100 <= exponent <= 100:
        return None
    b = math.floor(math.ldexp(clip, -exponent))
    if not r + 2 <= b <= MAX_SENS:
        return None
    scale = math.ceil(sigma * b)
    if not 1 <= scale <= MAX_SCALE:
        return None
    clip_eff = np.float32(math.ldexp(float(b - r - 1), exponent) * (1.0 - 2.0 ** -8))
    return NoiseGrid(exponent, b, scale, clip_eff)


def accountable(config: TrainConfig) -> bool:
    """Clipping, Gaussian noise, σ > 0 (and DP-SGD only with per-example clipping): what the device can bound."""
    return (config.clip_mode != ClipMode.NONE and config.noise_kind == NoiseKind.GAUSSIAN
            and config.noise_multiplier > 0
            and (config.noise_mode == NoiseMode.UPDATE or config.clip_mode == ClipMode.PER_EXAMPLE))


def appearances(config: TrainConfig, samples: int) -> int:
    """A: the most steps of one round that hold any one window (1 with noise on the update)."""
    if config.noise_mode == NoiseMode.UPDATE:
        return 1
    if config.local_steps == 0:
        return config.epochs
    width = min(config.batch_size, samples)
    return -(-config.local_steps * width // samples)


def release_rho(grid: NoiseGrid, compositions: int) -> float:
    return (compositions * float(grid.sens) * float(grid.sens) * 2.0 / (float(grid.scale) * float(grid.scale))) * ROUND_UP


def rho_add(total: float, rho: float) -> float:
    return (total + rho) * ROUND_UP


def epsilon_zcdp(rho: float, delta: float) -> float:
    """ε at δ of ρ-zCDP over the device's orders (the improved RDP conversion), as the device computes it."""
    if not rho < math.inf:
        return math.inf
    if not rho > 0:
        return 0.0
    best = min(a * rho + math.log1p(-1.0 / a) - (math.log(delta) + math.log(a)) / (a - 1.0) for a in ORDERS)
    return 0.0 if best < 0 else best * ROUND_UP


def round_cost(config: TrainConfig, *, samples: int, params: int) -> tuple[NoiseGrid | None, int, float]:
    """(grid, A, ρ) of one release with ``config``: ρ is inf when the device cannot bound it."""
    grid = None
    if config.noise_kind == NoiseKind.GAUSSIAN and config.noise_multiplier > 0 and config.clip_norm > 0:
        grid = make_grid(config.clip_norm, config.noise_multiplier, params)
    if grid is None or not accountable(config):
        return grid, 0, math.inf
    a = appearances(config, samples)
    return grid, a, release_rho(grid, a)
