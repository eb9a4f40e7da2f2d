import math

import numpy as np
import pytest

from edgeleak.privacy.accounting import privacy_spend
from edgeleak.privacy.grid import appearances
from edgeleak.privacy.rero import prior_success_rate, rero_bound, rero_bound_dp, rero_bound_gdp
from edgeleak.train.config import ClipMode, NoiseKind, NoiseMode, TrainConfig


def test_update_noise_is_the_devices_discrete_gaussian_at_replace_one_sensitivity():
    # C = 1, σ = 1, P = 500: grid step 2^-11, B = 2048, s = 2048, so the effective multiplier is s / 2B = 0.5
    config = TrainConfig(clip_mode=ClipMode.UPDATE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1.0)
    spend = privacy_spend(config, rounds=4, samples_per_round=8, parameters=500)
    assert spend.noise_multiplier == 0.5 and spend.unit == "stored sample set" and spend.compositions == 4
    assert spend.gdp_mu == pytest.approx(4.0) and spend.rho == pytest.approx(8.0)
    # dp-accounting on the continuous Gaussian: RDP 25.93, PLD 24.38 (μ = 4); the device's zCDP figure is never lower
    assert spend.epsilon_rdp == pytest.approx(25.93, abs=0.01) and spend.epsilon_pld == pytest.approx(24.38, abs=0.01)
    assert spend.epsilon_rdp * (1 - 1e-9) <= spend.epsilon_device <= spend.epsilon_pld * 1.12


@pytest.mark.parametrize("sigma", [0.3, 0.7, 1.0, 2.5, 6.0])
@pytest.mark.parametrize("rounds", [1, 10, 200])
@pytest.mark.parametrize("mode", ["update", "dp-sgd"])
def test_the_device_figure_is_never_below_dp_accounting_and_within_its_tolerance(sigma, rounds, mode):
    extra = {"noise_mode": NoiseMode.STEP, "clip_mode": ClipMode.PER_EXAMPLE, "batch_size": 3, "local_steps": 4} \
        if mode == "dp-sgd" else {"clip_mode": ClipMode.UPDATE}
    config = TrainConfig(clip_norm=0.7, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=sigma, **extra)
    spend = privacy_spend(config, rounds=rounds, samples_per_round=5, parameters=2000)
    assert spend.finite
    assert spend.epsilon_device >= spend.epsilon_rdp * (1 - 1e-9)  # a subset of dp-accounting's orders
    assert spend.epsilon_device <= spend.epsilon_rdp * 1.01 + 1e-9  # documented tolerance against RDP
    if not math.isnan(spend.epsilon_pld):
        assert spend.epsilon_pld <= spend.epsilon_device <= spend.epsilon_pld * 1.12 + 1e-6


def test_more_noise_and_fewer_rounds_spend_less():
    def eps(sigma, rounds):
        config = TrainConfig(clip_mode=ClipMode.UPDATE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=sigma)
        return privacy_spend(config, rounds=rounds, samples_per_round=4, parameters=100).epsilon
    assert eps(0.5, 10) > eps(1.0, 10) > eps(2.0, 10) > eps(2.0, 5)


def test_no_noise_laplace_or_a_grid_that_does_not_fit_means_no_guarantee():
    for config in (TrainConfig(), TrainConfig(clip_mode=ClipMode.UPDATE, clip_norm=1.0),
                   TrainConfig(clip_mode=ClipMode.UPDATE, noise_kind=NoiseKind.LAPLACE, noise_multiplier=1.0, clip_norm=1.0),
                   TrainConfig(clip_mode=ClipMode.UPDATE, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1000.0, clip_norm=1.0)):
        spend = privacy_spend(config, rounds=3, samples_per_round=4, parameters=10)
        assert math.isinf(spend.epsilon) and not spend.finite and rero_bound(0.1, spend) == 1.0


def sample_appearances(config: TrainConfig, samples: int) -> int:
    """The most steps of one round in which any single sample takes part, counted from the oracle's schedule."""
    from edgeleak.train.oracle import batch_schedule

    counts = [0] * samples
    for batch in batch_schedule(samples, config):
        for i in batch:
            counts[i] += 1
    return max(counts)


@pytest.mark.parametrize("samples", [1, 3, 4, 7, 32])
@pytest.mark.parametrize("batch,steps,epochs", [(1, 1, 1), (2, 5, 1), (4, 3, 1), (9, 2, 1), (3, 0, 2), (5, 0, 3)])
def test_the_devices_appearance_formula_matches_the_schedule(samples, batch, steps, epochs):
    config = TrainConfig(batch_size=batch, local_steps=steps, epochs=epochs, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=1.0,
                         noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1.0, noise_mode=NoiseMode.STEP)
    assert appearances(config, samples) == sample_appearances(config, samples)


def test_dp_sgd_counts_the_steps_a_sample_takes_part_in():
    config = TrainConfig(batch_size=2, local_steps=5, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=1.0,
                         noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1.5, noise_mode=NoiseMode.STEP)
    assert sample_appearances(config, 4) == 3  # steps take [0,1] [2,3] [0,1] [2,3] [0,1]
    spend = privacy_spend(config, rounds=2, samples_per_round=4, parameters=10)
    assert spend.unit == "training sample" and spend.compositions == 6


def test_tiny_noise_is_accounted_without_exhausting_memory():
    import resource

    config = TrainConfig(clip_mode=ClipMode.UPDATE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.05)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    spend = privacy_spend(config, rounds=2, samples_per_round=1, parameters=100)
    assert spend.epsilon > 1000 and math.isnan(spend.epsilon_pld) and spend.epsilon == spend.epsilon_rdp
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # KiB


def test_rero_bounds_match_the_published_examples():
    assert rero_bound_gdp(0.01, 1.0) == pytest.approx(0.092, abs=0.002)
    assert rero_bound_gdp(0.10, 0.5) == pytest.approx(0.217, abs=0.002)
    assert rero_bound_dp(0.01, 1.0, 1e-5) == pytest.approx(math.e * 0.01 + 1e-5)
    assert rero_bound_gdp(0.1, 0.0) == pytest.approx(0.1)  # no information: the prior


def test_prior_success_rate_is_small_for_unrelated_windows_and_one_for_copies():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(1000, 40, 3))
    assert prior_success_rate(noise, 0.8) < 0.01  # no guess reconstructs anything: the upper end of 0 of 744
    same = np.repeat(noise[:1], 10, axis=0)
    assert prior_success_rate(same, 0.8) == 1.0


def test_kappa_is_the_best_fixed_guess_not_an_average_one():
    """Half the windows are one shape plus small noise: guessing that shape succeeds for half of them, while a
    guess drawn at random succeeds about half of that (it is the shape only half the time)."""
    from edgeleak.scoring.metrics import pearson_per_channel

    rng = np.random.default_rng(2)
    shape = rng.normal(size=(40, 3))
    windows = np.concatenate([shape + 0.1 * rng.normal(size=(300, 40, 3)), rng.normal(size=(300, 40, 3))])
    kappa = prior_success_rate(windows, 0.8)
    assert 0.5 <= kappa <= 0.6
    pairs = rng.integers(0, 600, (2000, 2))
    average = np.mean([np.mean(pearson_per_channel(windows[a], windows[b])) >= 0.8 for a, b in pairs if a != b])
    assert average < 0.3


def test_a_violation_needs_the_lower_bound_of_the_success_above_the_bound():
    from edgeleak.privacy.rero import success_lower_bound

    assert success_lower_bound(0, 10) == 0.0
    assert success_lower_bound(1, 1) < 0.3  # one lucky record proves little
    assert success_lower_bound(40, 40) > 0.9
    assert success_lower_bound(40, 40, comparisons=4) < success_lower_bound(40, 40)  # Bonferroni over attacks
