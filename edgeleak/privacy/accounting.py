"""(ε, δ) of a session's on-device defenses with dp-accounting (PLD, with RDP alongside).

What is protected, by defense (documented in docs/privacy.md):
- update clipping to C plus noise of scale σC once on the update: the device's whole contribution to a
  round is a Gaussian (or Laplace) mechanism with noise multiplier σ, composed over the rounds it took part in;
- DP-SGD (per-example clipping plus noise at every step): each sample is a Gaussian mechanism with noise
  multiplier σ at every step whose batch holds it; batches are fixed (no subsampling amplification), so the
  composition counts the steps in which a sample takes part, over all rounds;
- clipping alone, sparsification or encodings give no formal guarantee: ε = ∞.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgeleak.train.config import ClipMode, NoiseKind, NoiseMode, TrainConfig

DELTA = 1e-5


PLD_LIMIT = 150.0
"""Above this ε (from RDP) the PLD accountant is not run: its discretisation would need gigabytes, and such an ε
protects nothing anyway; the headline ε is then RDP's."""


@dataclass(frozen=True)
class PrivacySpend:
    epsilon: float  # the headline: PLD when computed, else RDP
    epsilon_pld: float  # nan when not computed (ε beyond PLD_LIMIT)
    epsilon_rdp: float
    delta: float
    unit: str  # what one ε protects: "device-round update" or "training sample"
    compositions: int  # mechanisms composed
    noise_multiplier: float
    gdp_mu: float | None  # μ of the composed Gaussian mechanism (for the tight ReRo bound), None if not Gaussian

    @property
    def finite(self) -> bool:
        return math.isfinite(self.epsilon)


def _no_guarantee(unit: str) -> PrivacySpend:
    return PrivacySpend(math.inf, math.inf, math.inf, DELTA, unit, 0, 0.0, None)


def sample_appearances(config: TrainConfig, samples: int) -> int:
    """The most steps of one round in which any single sample takes part."""
    from edgeleak.train.oracle import batch_schedule

    counts = [0] * samples
    for batch in batch_schedule(samples, config):
        for i in batch:
            counts[i] += 1
    return max(counts)


def privacy_spend(config: TrainConfig, *, rounds: int, samples_per_round: int, parameters: int,
                  delta: float = DELTA) -> PrivacySpend:
    """ε at ``delta`` after ``rounds`` rounds with the defenses of ``config``."""
    import dp_accounting
    from dp_accounting import pld, rdp

    if config.noise_kind == NoiseKind.NONE or config.noise_multiplier <= 0 or config.clip_mode == ClipMode.NONE:
        return _no_guarantee("training sample" if config.clip_mode == ClipMode.PER_EXAMPLE else "device-round update")
    sigma = config.noise_multiplier
    if config.noise_mode == NoiseMode.STEP:
        unit = "training sample"
        count = rounds * sample_appearances(config, samples_per_round)
    else:
        unit = "device-round update"
        count = rounds
    if config.noise_kind == NoiseKind.GAUSSIAN:
        event = dp_accounting.GaussianDpEvent(sigma)
        mu = math.sqrt(count) / sigma
    else:
        # Laplace of scale σC on an L2-clipped vector: its L1 sensitivity is at most sqrt(d)·C.
        event = dp_accounting.LaplaceDpEvent(sigma / math.sqrt(parameters))
        mu = None
    composed = dp_accounting.SelfComposedDpEvent(event, count)
    try:
        eps_rdp = float(rdp.RdpAccountant().compose(composed).get_epsilon(delta))
    except Exception:  # RDP does not support every event (e.g. Laplace in some versions)
        eps_rdp = math.nan
    eps_pld = math.nan
    if not eps_rdp > PLD_LIMIT:  # also when RDP could not say
        eps_pld = float(pld.PLDAccountant().compose(composed).get_epsilon(delta))
    headline = eps_pld if not math.isnan(eps_pld) else eps_rdp
    return PrivacySpend(headline, eps_pld, eps_rdp, delta, unit, count, sigma, mu)
