"""Bounds on reconstruction success under DP (reconstruction robustness, ReRo).

A mechanism is (η, γ)-ReRo when no attacker reconstructs within error η with probability above γ; κ is
the success rate of the best guess made without the update (the prior baseline).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from edgeleak.privacy.accounting import PrivacySpend


def rero_bound_gdp(kappa: float, mu: float) -> float:
    """Tight bound for a μ-GDP mechanism (a composed Gaussian, μ = sqrt(T)/σ): Φ(Φ⁻¹(κ) + μ)."""
    kappa = min(max(kappa, 1e-12), 1 - 1e-12)
    return float(norm.cdf(norm.ppf(kappa) + mu))


def rero_bound_dp(kappa: float, epsilon: float, delta: float) -> float:
    """Generic bound from (ε, δ)-DP: e^ε κ + δ (capped at 1)."""
    return float(min(1.0, math.exp(min(epsilon, 700)) * kappa + delta))


def rero_bound(kappa: float, spend: PrivacySpend) -> float:
    """The tightest bound this spend supports; 1 when there is no guarantee."""
    if not spend.finite:
        return 1.0
    bounds = [rero_bound_dp(kappa, spend.epsilon, spend.delta)]
    if spend.gdp_mu is not None:
        bounds.append(rero_bound_gdp(kappa, spend.gdp_mu))
    return min(bounds)


def _standardised(windows: np.ndarray) -> np.ndarray:
    """Each window's channels centred and scaled over time (0 for a constant channel), flattened, so that the
    mean over channels of the per-channel Pearson r of two windows is their dot product over steps × channels."""
    x = windows.astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    norm_ = np.sqrt((x ** 2).sum(axis=1, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(norm_ > 0, x / norm_, 0.0)
    return z.reshape(len(windows), -1) / np.sqrt(windows.shape[2])


def prior_success_rate(windows: np.ndarray, threshold: float, *, candidates: int = 256, seed: int = 0) -> float:
    """κ: the success rate of the best fixed guess under the prior π, the data distribution (docs/privacy.md).

    The candidate guesses are ``candidates`` windows drawn from the data and the mean window; each is scored on
    the other windows (disjoint from the candidates), as the share it 'reconstructs' at ``threshold`` (mean
    Pearson r over channels). κ is the best candidate's share, returned as the upper end of its 95% Wilson
    interval, so that a bound built on it errs on the safe side."""
    from edgeleak.scoring.metrics import wilson_interval

    windows = np.asarray(windows)
    n = len(windows)
    if n < 2:
        return 1.0
    order = np.random.default_rng(seed).permutation(n)
    k = min(candidates, n // 2) or 1
    guesses = np.concatenate([windows[order[:k]], windows.mean(axis=0, keepdims=True)])
    targets = windows[order[k:]]
    r = _standardised(guesses) @ _standardised(targets).T
    best = int((r >= threshold).sum(axis=1).max())
    return wilson_interval(best, len(targets))[1]


def success_lower_bound(successes: int, trials: int, *, comparisons: int = 1, confidence: float = 0.95) -> float:
    """The one-sided lower confidence bound (Wilson) of a success rate, at ``confidence`` corrected for
    ``comparisons`` rates compared with the same bound (Bonferroni): a measured success counts as above a bound only
    when this is."""
    from edgeleak.scoring.metrics import wilson_interval

    if trials <= 0:
        return 0.0
    z = float(norm.ppf(1.0 - (1.0 - confidence) / max(1, comparisons)))
    return wilson_interval(successes, trials, z=z)[0]
