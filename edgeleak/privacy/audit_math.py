"""Lower bounds on ε from a membership game (docs/privacy.md, "Auditing the device's ε"). Pure functions.

Two readings of the same m guesses, one per canary that was included (S = +1) or not (S = −1) at random:

* **One run** (Steinke, Nasr and Jagielski, NeurIPS 2023): guess +1 for the k₊ highest scores and −1 for the k₋
  lowest, count the v correct of the r = k₊ + k₋ guesses. For an (ε, δ)-DP mechanism the chance of v or more
  correct is at most p(ε) = P[Bin(r, q) ≥ v] + 2mδ·max_i P[v − i ≤ Bin(r, q) < v]/i with q = e^ε/(1 + e^ε); the
  bound is the largest ε with p(ε) below the significance. No assumption on the mechanism, and loose: with m =
  1,000 it cannot exceed about 5.8 however many guesses are right.
* **Gaussian DP** (the reading of Nasr et al. 2023 for mechanisms built on Gaussian noise): the scores of the two
  groups are two normals μ apart in units of their spread; a one-sided lower confidence bound on μ, turned into ε
  at δ by the μ-GDP curve. Tight when the mechanism is Gaussian (the device's is, by construction), so it can tell
  a device that adds half the noise it accounts for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

EPS_MAX = 60.0  # no bound is searched above this


def one_run_p_value(eps: float, *, m: int, r: int, v: int, delta: float) -> float:
    """The chance, under (ε, δ)-DP, that v or more of r guesses about m canaries are correct (at most)."""
    if v <= 0 or r <= 0:
        return 1.0
    q = math.exp(eps) / (1.0 + math.exp(eps)) if eps < 700 else 1.0
    beta = float(stats.binom.sf(v - 1, r, q))
    alpha = 0.0
    if delta > 0:
        cdf = stats.binom.cdf(np.arange(-1, v), r, q)  # cdf[j + 1] = P[Bin <= j]
        below = cdf[v]  # P[Bin <= v - 1]
        for i in range(1, v + 1):
            alpha = max(alpha, (below - cdf[v - i]) / i)  # P[v - i <= Bin < v] / i
    return min(1.0, beta + 2.0 * m * delta * alpha)


def one_run_epsilon(*, m: int, r: int, v: int, delta: float, significance: float = 0.05) -> float:
    """The largest ε whose p-value stays below ``significance`` (0 when even ε = 0 explains the guesses)."""
    def gap(eps: float) -> float:
        return one_run_p_value(eps, m=m, r=r, v=v, delta=delta) - significance

    if gap(0.0) >= 0:
        return 0.0
    if gap(EPS_MAX) < 0:
        return EPS_MAX
    return float(optimize.brentq(gap, 0.0, EPS_MAX, xtol=1e-6))


@dataclass(frozen=True)
class OneRun:
    epsilon: float  # the lower bound
    guesses: int  # r
    correct: int  # v
    k: int  # k₊ = k₋ of the guess set that gave the bound


def one_run_bound(scores: np.ndarray, truth: np.ndarray, *, delta: float, confidence: float = 0.95,
                  fractions: tuple[float, ...] = (0.1, 0.25, 0.5)) -> OneRun:
    """The best bound over guess sets of k₊ = k₋ = fraction·m/2 (fixed in advance; Bonferroni over them)."""
    m = len(scores)
    order = np.argsort(scores, kind="stable")
    significance = (1.0 - confidence) / len(fractions)
    runs = []
    for fraction in fractions:
        k = max(1, int(fraction * m / 2))
        guesses = np.concatenate([truth[order[-k:]] > 0, truth[order[:k]] < 0])
        v = int(guesses.sum())
        runs.append(OneRun(one_run_epsilon(m=m, r=2 * k, v=v, delta=delta, significance=significance), 2 * k, v, k))
    return max(runs, key=lambda run: (run.epsilon, run.guesses))


def gdp_delta(eps: float, mu: float) -> float:
    """δ(ε) of μ-GDP: Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2)."""
    if mu <= 0:
        return 0.0
    second = math.exp(min(700.0, eps + float(stats.norm.logcdf(-eps / mu - mu / 2))))  # e^ε·Φ(·), without overflow
    return float(stats.norm.cdf(-eps / mu + mu / 2)) - second


def gdp_epsilon(mu: float, delta: float) -> float:
    """The ε at which μ-GDP reaches δ (0 when it never exceeds δ)."""
    if mu <= 0 or gdp_delta(0.0, mu) <= delta:
        return 0.0
    hi = 1.0
    while gdp_delta(hi, mu) > delta:
        hi *= 2.0
        if hi > 1e12:
            return math.inf
    return float(optimize.brentq(lambda e: gdp_delta(e, mu) - delta, 0.0, hi, xtol=1e-9))


@dataclass(frozen=True)
class GdpEstimate:
    mu: float  # the estimate
    mu_lower: float  # its one-sided lower confidence bound
    epsilon_lower: float  # ε at δ of μ_lower-GDP


def gdp_bound(scores: np.ndarray, truth: np.ndarray, *, delta: float, confidence: float = 0.95) -> GdpEstimate:
    """μ = (mean of the included − mean of the others) / their pooled standard deviation, with a one-sided lower
    bound from the normal approximation of its sampling error (se² = 1/n₊ + 1/n₋ + μ²/(2(m − 2)))."""
    inside, outside = scores[truth > 0], scores[truth < 0]
    if len(inside) < 2 or len(outside) < 2:
        return GdpEstimate(0.0, 0.0, 0.0)
    pooled = math.sqrt((np.var(inside, ddof=1) * (len(inside) - 1) + np.var(outside, ddof=1) * (len(outside) - 1))
                       / (len(scores) - 2))
    mu = float((inside.mean() - outside.mean()) / pooled) if pooled > 0 else math.inf
    if not math.isfinite(mu):
        return GdpEstimate(mu, mu, math.inf)
    se = math.sqrt(1 / len(inside) + 1 / len(outside) + mu * mu / (2 * (len(scores) - 2)))
    lower = max(0.0, mu - float(stats.norm.ppf(confidence)) * se)
    return GdpEstimate(mu, lower, gdp_epsilon(lower, delta))
