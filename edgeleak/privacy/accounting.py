"""(ε, δ) of a session's on-device defenses with dp-accounting (PLD, with RDP alongside), for exactly the mechanism
the device runs (docs/training.md, docs/privacy.md).

Neighbouring sample sets differ by replacing one stored window. What is protected, by defense:
- clipping plus Gaussian noise once on the update: the update is clipped to C_eff, rounded to the grid and gets
  discrete Gaussian noise of scale s grid steps; its sensitivity is 2B grid steps whatever the data, so one round is
  a Gaussian mechanism with noise multiplier s/(2B) that covers any change of the whole stored set;
- DP-SGD (per-example clipping plus noise at every step): the same mechanism at every step whose batch holds a
  window; batches are fixed (no subsampling amplification), so a round composes A of them for one window;
- anything else (clipping alone, Laplace, σ = 0, sparsification, encodings): ε = ∞.
The device keeps the same account in zCDP (``edgeleak.privacy.grid``): ``epsilon_device`` is its figure, never below
the RDP figure here and at most about 10% above PLD's.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from edgeleak.privacy import grid as device_grid
from edgeleak.train.config import NoiseMode, TrainConfig

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
    unit: str  # what one ε protects: "stored sample set" (noise on the update) or "training sample" (DP-SGD)
    compositions: int  # mechanisms composed
    noise_multiplier: float  # effective: s / (2B) at sensitivity 1
    gdp_mu: float | None  # μ of the composed Gaussian mechanism (for the tight ReRo bound), None if not Gaussian
    epsilon_device: float = math.inf  # what the device computes for the same releases (zCDP over its order grid)
    rho: float = math.inf  # zCDP of all releases, rounded up as on the device

    @property
    def finite(self) -> bool:
        return math.isfinite(self.epsilon)


def _unit(config: TrainConfig) -> str:
    return "training sample" if config.noise_mode == NoiseMode.STEP else "stored sample set"


def _no_guarantee(unit: str) -> PrivacySpend:
    return PrivacySpend(math.inf, math.inf, math.inf, DELTA, unit, 0, 0.0, None)


@functools.lru_cache(maxsize=256)
def _composed_epsilons(multiplier: float, count: int, delta: float) -> tuple[float, float]:
    """(ε from RDP, ε from PLD or nan beyond PLD_LIMIT) of ``count`` Gaussian mechanisms of noise multiplier
    ``multiplier`` at ``delta``. Pure, and kept per process: PLD's discretisation takes seconds, and a study asks
    for the same releases again (each seed, each user, the audit)."""
    import dp_accounting
    from dp_accounting import pld, rdp

    composed = dp_accounting.SelfComposedDpEvent(dp_accounting.GaussianDpEvent(multiplier), count)
    eps_rdp = float(rdp.RdpAccountant().compose(composed).get_epsilon(delta))
    eps_pld = math.nan
    if not eps_rdp > PLD_LIMIT:
        eps_pld = float(pld.PLDAccountant().compose(composed).get_epsilon(delta))
    return eps_rdp, eps_pld


def privacy_spend(config: TrainConfig, *, rounds: int, samples_per_round: int, parameters: int,
                  delta: float = DELTA) -> PrivacySpend:
    """ε at ``delta`` after ``rounds`` rounds with the defenses of ``config`` on ``parameters`` parameters."""
    grid, per_round, rho_round = device_grid.round_cost(config, samples=samples_per_round, params=parameters)
    if grid is None or not math.isfinite(rho_round):
        return _no_guarantee(_unit(config))
    multiplier = grid.scale / (2.0 * grid.sens)
    count = rounds * per_round
    rho = 0.0
    for _ in range(rounds):
        rho = device_grid.rho_add(rho, rho_round)
    eps_rdp, eps_pld = _composed_epsilons(float(multiplier), int(count), float(delta))
    headline = eps_pld if not math.isnan(eps_pld) else eps_rdp
    return PrivacySpend(headline, eps_pld, eps_rdp, delta, _unit(config), count, multiplier,
                        math.sqrt(count) / multiplier, device_grid.epsilon_zcdp(rho, delta), rho)
