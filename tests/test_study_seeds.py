"""A setting's figures over its seeds (pure): intervals, pooled per-window success, the conservative privacy figures."""

import math

import pytest

from edgeleak.study.results import from_json, to_json
from edgeleak.study.seeds import combine_seeds, seed_interval


def _attack(windows, won, worst, median, records=4, label=0.5):
    return {"attack": "analytic", "records": records, "success_rate": won / windows, "success_interval": [0, 1],
            "pearson": median, "max_pearson": worst, "label_accuracy": label, "label_baseline": 0.25,
            "feature_error": math.nan, "seconds_per_record": 0.1, "not_applicable": "", "windows": windows,
            "window_successes": won, "window_success_rate": won / windows, "window_success_interval": [0, 1],
            "median_pearson": [median, median - 0.1, median + 0.1], "worst_pearson": worst}


def _seed(seed, after, epsilon, releases, attack):
    return {"name": "s", "model": "mlp", "classes": 4, "config": {}, "accuracy_before": 0.3, "accuracy_after": after,
            "epsilon": epsilon, "epsilon_rdp": epsilon, "delta": 1e-5, "privacy_unit": "stored sample set",
            "kappa": 0.05, "rero_bound": 0.2, "measured_success": 0.0, "bound_violated": False, "attacks": [attack],
            "seconds": 10.0, "examples": {}, "enforced": None, "epsilon_audit": None, "measured_success_lower": 0.0,
            "seed": seed, "epsilon_user": 2 * epsilon, "releases_per_window": releases, "participations": 10,
            "boards": {"host": 8}, "aggregate": False}


def _typed(*args):
    return from_json(_seed(*args))


def test_seed_intervals_use_student_t():
    mean, lo, hi = seed_interval([0.8, 0.85, 0.9])
    assert mean == pytest.approx(0.85) and hi - mean == pytest.approx(4.303 * 0.05 / math.sqrt(3), rel=1e-3)
    assert seed_interval([0.7]) == (0.7, 0.7, 0.7)
    assert seed_interval([0.9, 1.0], bounds=(0.0, 1.0))[2] == 1.0  # an accuracy's interval stops at 1
    assert all(math.isnan(v) for v in seed_interval([math.nan]))


def test_seeds_combine_into_one_result_with_intervals_and_conservative_privacy():
    runs = [_typed(0, 0.80, 2.0, 2, _attack(40, 2, 0.95, 0.1)), _typed(1, 0.84, 3.0, 3, _attack(40, 4, 0.85, 0.2)),
            _typed(2, 0.82, 2.5, 2, _attack(40, 0, 0.75, 0.3))]
    assert runs[0].attacks[0].intervals["median_pearson"] == pytest.approx((0.0, 0.2))  # one seed: over its windows
    combined = combine_seeds(runs)
    assert combined.seeds == 3 and combined.accuracy_after == pytest.approx(0.82)
    lo, hi = combined.intervals["accuracy_after"]
    assert lo < 0.82 < hi and combined.accuracy_gain == pytest.approx(0.52)
    assert combined.epsilon == 3.0 and combined.epsilon_user == 6.0 and combined.releases_per_window == 3
    attack = combined.attacks[0]
    assert attack.windows == 120 and attack.window_successes == 6 and attack.records == 12
    assert combined.measured_success == pytest.approx(6 / 120)
    assert attack.worst_pearson == pytest.approx(0.85) and attack.median_pearson == pytest.approx(0.2)
    assert not combined.bound_violated and combined.measured_success_lower < 6 / 120
    # The one JSON form round-trips, strict.
    assert from_json(to_json(combined)) == combined


def test_a_pooled_success_above_the_bound_is_a_violation():
    runs = [_typed(s, 0.8, 2.0, 2, _attack(40, 30, 1.0, 1.0)) for s in range(3)]
    combined = combine_seeds(runs)
    assert combined.measured_success_lower > 0.2 and combined.bound_violated
