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


def prior_success_rate(windows: np.ndarray, threshold: float, max_pairs: int = 4000, seed: int = 0) -> float:
    """κ: how often a guess drawn from the data (another window) already 'reconstructs' a window at ``threshold``.

    Returned as the upper end of a 95% Wilson interval, so that a bound built on it errs on the safe side
    (an estimate of exactly 0 would make any ε look harmless)."""
    from edgeleak.scoring.metrics import wilson_interval

    from edgeleak.scoring.metrics import pearson_per_channel

    rng = np.random.default_rng(seed)
    n = len(windows)
    if n < 2:
        return 0.0
    pairs = rng.integers(0, n, size=(max_pairs, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    hits = [np.mean(pearson_per_channel(windows[a], windows[b])) >= threshold for a, b in pairs]
    return wilson_interval(int(np.sum(hits)), len(hits))[1] if hits else 1.0
