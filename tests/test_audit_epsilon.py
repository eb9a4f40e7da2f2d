"""The empirical audit of a device's ε (edgeleak.privacy.audit_math, canary_audit; docs/privacy.md): the bounds'
arithmetic against published and library figures, and the game against real firmware, a correct build that must
pass and a build that draws half the noise it accounts for, which must be caught."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.errors import EdgeleakError
from edgeleak.privacy.audit_math import gdp_bound, gdp_epsilon, one_run_bound, one_run_epsilon, one_run_p_value
from edgeleak.privacy.canary_audit import AuditPlan, audit_board

TESTING = ("-DEL_TESTING_BUILD=1",)
HALF_NOISE = TESTING + ("-DEL_FAULT_HALF_NOISE=1",)


def test_the_one_run_bound_with_every_guess_right_is_the_published_ceiling():
    """Steinke, Nasr and Jagielski (2023) with m = 1000 and δ = 1e-5: every one of r guesses right."""
    ceilings = {r: one_run_epsilon(m=1000, r=r, v=r, delta=1e-5) for r in (100, 200, 500, 1000)}
    assert ceilings == pytest.approx({100: 3.47, 200: 4.17, 500: 5.09, 1000: 5.78}, abs=0.01)
    assert one_run_epsilon(m=1000, r=100, v=50, delta=1e-5) == 0.0  # a coin toss proves nothing
    assert one_run_p_value(1.0, m=1000, r=100, v=90, delta=0.0) < one_run_p_value(2.0, m=1000, r=100, v=90, delta=0.0)


def test_the_gaussian_dp_curve_matches_dp_accounting():
    from dp_accounting.pld import privacy_loss_distribution as pld

    for mu in (0.5, 1.0, 2.0):
        exact = pld.from_gaussian_mechanism(standard_deviation=1.0 / mu, sensitivity=1.0,
                                            value_discretization_interval=1e-4).get_epsilon_for_delta(1e-5)
        assert gdp_epsilon(mu, 1e-5) == pytest.approx(exact, rel=1e-3)
    assert gdp_epsilon(0.0, 1e-5) == 0.0


def test_the_bounds_on_simulated_gaussian_scores_stay_below_the_truth_and_find_it():
    rng = np.random.default_rng(3)
    truth = np.where(rng.random(4000) < 0.5, 1, -1)
    scores = truth * 0.5 + rng.normal(0.0, 1.0, truth.size)  # μ = 1
    estimate = gdp_bound(scores, truth, delta=1e-5)
    assert estimate.mu == pytest.approx(1.0, abs=0.08) and estimate.mu_lower < estimate.mu
    assert estimate.epsilon_lower < gdp_epsilon(1.0, 1e-5)
    one = one_run_bound(scores, truth, delta=1e-5)
    assert 0 < one.epsilon < estimate.epsilon_lower and one.correct <= one.guesses


def test_an_audit_plan_is_checked():
    with pytest.raises(EdgeleakError, match="canaries 5 must be at least 20; noise multiplier 0"):
        AuditPlan(canaries=5, noise_multiplier=0.0)


def _audit(zoo_models, flags, **plan):
    """A repeatable game: the testing build's noise is seeded."""
    return audit_board(load_boards().get("host"), zoo_models["imu_cnn"], build_flags=flags,
                       plan=AuditPlan(**{"canaries": 1000, "device_seed": 7, **plan}))


def test_a_correct_device_passes_its_audit_with_a_sharp_estimate(zoo_models):
    result = _audit(zoo_models, TESTING)
    assert result.accounted_epsilon == pytest.approx(result.twin_epsilon, rel=1e-6)
    assert result.mu_accounted == pytest.approx(1.0, abs=0.01)  # 2B/s at sigma 2
    assert result.gdp.mu == pytest.approx(result.mu_accounted, abs=0.2)  # the crafted weights make the game sharp
    assert not result.violated and result.one_run.epsilon > 0.5 and result.gdp.epsilon_lower > 2.0


def test_a_device_that_draws_half_its_noise_is_caught(zoo_models):
    result = _audit(zoo_models, HALF_NOISE)
    assert result.gdp.mu == pytest.approx(2 * result.mu_accounted, abs=0.3)
    assert result.violated and result.gdp.epsilon_lower > result.accounted_epsilon


def test_the_command_exits_1_on_a_violation_and_writes_strict_json(zoo_models, tmp_path):
    out = tmp_path / "audit.json"
    args = [sys.executable, "-c", "from edgeleak.cli import main; raise SystemExit(main())", "audit-epsilon",
            "--board", "host", "--model", str(zoo_models["imu_cnn"]), "--canaries", "400", "--json", str(out)]
    flags = [f"--build-flag={f}" for f in HALF_NOISE]
    bad = subprocess.run(args + flags, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1, bad.stderr[-2000:]
    assert "VIOLATION" in bad.stdout and json.loads(out.read_text())["violated"] is True
    refused = subprocess.run(args + ["--build-flag=-DEL_FAULT_HALF_NOISE=1"], capture_output=True, text=True,
                             timeout=600)
    assert refused.returncode == 2 and "only with EL_TESTING_BUILD=1" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.qemu
def test_an_emulated_board_passes_its_audit(zoo_models):
    result = audit_board(load_boards().get("mps2-an386"), zoo_models["imu_cnn"], build_flags=TESTING,
                         plan=AuditPlan(canaries=300, device_seed=11))
    assert not result.violated and result.gdp.mu == pytest.approx(result.mu_accounted, abs=0.35)
