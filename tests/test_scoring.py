import numpy as np
import pytest

from edgeleak.attacks.base import Reconstruction
from edgeleak.scoring import metrics
from edgeleak.scoring.score import score_record, summarise


def test_metrics_on_known_signals():
    t = np.linspace(0, 4 * np.pi, 100)
    original = np.stack([np.sin(t), np.cos(t)], axis=1)
    assert metrics.pearson_per_channel(original, original).tolist() == pytest.approx([1.0, 1.0])
    assert metrics.pearson_per_channel(original, -original).tolist() == pytest.approx([-1.0, -1.0])
    assert metrics.pearson_per_channel(original, 3 * original + 1).tolist() == pytest.approx([1.0, 1.0])  # scale-free
    noisy = original + np.random.default_rng(0).normal(0, 0.1, original.shape)
    assert metrics.snr_db(original, noisy) == pytest.approx(10 * np.log10(0.5 / 0.01), abs=0.6)
    assert metrics.snr_db(original, original) == float("inf")
    assert metrics.nrmse(original, original) == 0.0 and metrics.mse(original, original + 1) == pytest.approx(1.0)
    assert metrics.pearson_per_channel(np.ones((10, 1)), np.arange(10.0)[:, None]).tolist() == [0.0]


def test_image_metrics_use_scikit_image():
    rng = np.random.default_rng(1)
    image = rng.random((8, 8))
    assert metrics.psnr(image, image + 0.01) > 35 and metrics.ssim(image, image) == pytest.approx(1.0)
    assert metrics.ssim(image, rng.random((8, 8))) < 0.5


def test_label_accuracy_compares_multisets():
    assert metrics.label_accuracy(np.array([1, 1, 2]), np.array([2, 1, 1])) == 1.0
    assert metrics.label_accuracy(np.array([1, 1, 2]), np.array([1, 2, 2])) == pytest.approx(2 / 3)
    assert metrics.label_accuracy(np.array([0]), np.array([], dtype=np.int64)) == 0.0


def test_reconstructions_are_matched_to_their_originals_in_a_batch():
    rng = np.random.default_rng(2)
    originals = rng.normal(size=(3, 50, 2))
    recon = originals[[2, 0, 1]] + rng.normal(0, 0.05, (3, 50, 2))
    assert metrics.match_reconstructions(originals, recon) == [(0, 1), (1, 2), (2, 0)]
    score = score_record(Reconstruction(windows=recon, labels=np.array([0, 1, 2])), round_=0, devices=(0,),
                         windows=originals, labels=np.array([2, 1, 0]))
    assert score.success and score.pearson > 0.99 and score.label_accuracy == 1.0 and score.recovered == 3


def test_summary_intervals_contain_the_rate():
    lo, hi = metrics.wilson_interval(19, 20)
    assert lo < 0.95 < hi and hi <= 1.0
    assert metrics.wilson_interval(0, 0) == (0.0, 1.0)
    rng = np.random.default_rng(3)
    originals = rng.normal(size=(1, 40, 3))
    good = score_record(Reconstruction(windows=originals), round_=0, devices=(0,), windows=originals, labels=np.array([1]))
    bad = score_record(Reconstruction(windows=rng.normal(size=(1, 40, 3))), round_=0, devices=(1,), windows=originals,
                       labels=np.array([1]))
    summary = summarise([good, bad])
    assert summary.records == 2 and summary.success_rate == 0.5
    assert summary.pearson[1] <= summary.pearson[0] <= summary.pearson[2]


def test_the_blind_label_baseline_is_the_best_guess_that_ignores_the_update():
    balanced = np.full(4, 0.25)
    assert metrics.blind_label_accuracy(1, balanced) == pytest.approx(0.25)
    assert metrics.blind_label_accuracy(4, balanced) == pytest.approx(0.6836, abs=1e-4)
    assert metrics.blind_label_accuracy(16, balanced) == pytest.approx(0.831, abs=1e-3)
    # a simulation of the guess the formula picks (equal counts here) agrees, and no other fixed guess does better
    rng = np.random.default_rng(1)
    batches = rng.integers(0, 4, (20000, 4))
    equal = np.mean([metrics.label_accuracy(b, np.arange(4)) for b in batches])
    lopsided = np.mean([metrics.label_accuracy(b, np.array([0, 0, 1, 2])) for b in batches])
    assert equal == pytest.approx(metrics.blind_label_accuracy(4, balanced), abs=0.01) and lopsided < equal
    # a skewed prior: guessing the common class always is right with probability 0.7 for one label
    assert metrics.blind_label_accuracy(1, np.array([0.7, 0.2, 0.1])) == pytest.approx(0.7)


def test_a_record_score_carries_its_blind_baseline():
    windows = np.random.default_rng(0).normal(size=(4, 20, 3)).astype(np.float32)
    labels = np.array([0, 1, 2, 3])
    rec = Reconstruction(windows=windows, features=None, labels=labels, label_counts=None, iterations=1, notes="")
    score = score_record(rec, round_=0, devices=(0,), windows=windows, labels=labels, class_probs=np.full(4, 0.25))
    assert score.label_accuracy == 1.0 and score.label_baseline == pytest.approx(0.6836, abs=1e-4)
    assert summarise([score]).label_baseline == pytest.approx(0.6836, abs=1e-4)


def test_success_is_counted_per_window_and_leakage_has_a_typical_and_a_worst_case():
    """A batch of 4 with 2 windows recovered exactly counts 2 successes, not a failed record."""
    rng = np.random.default_rng(4)
    originals = rng.normal(size=(4, 40, 3))
    recon = np.concatenate([originals[:2], rng.normal(size=(2, 40, 3))])
    score = score_record(Reconstruction(windows=recon), round_=0, devices=(0,), windows=originals, labels=np.zeros(4, int))
    assert not score.success and score.windows_recovered == 2
    assert score.window_pearsons[:2] == pytest.approx((1.0, 1.0)) and max(score.window_pearsons[2:]) < 0.5
    missing = score_record(Reconstruction(windows=originals[:1]), round_=0, devices=(1,), windows=originals,
                           labels=np.zeros(4, int))
    assert missing.window_pearsons.count(0.0) == 3  # a window the attack returned nothing for leaks nothing by it
    summary = summarise([score, missing])
    assert summary.windows == 8 and summary.window_successes == 3 and summary.window_success_rate == 3 / 8
    assert summary.worst_pearson == pytest.approx(1.0)
    median, lo, hi = summary.median_pearson
    assert lo <= median <= hi and median < 0.5


def test_the_median_interval_covers_the_median_at_its_level():
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(1000):
        _, lo, hi = metrics.median_interval(rng.normal(size=40))
        covered += lo <= 0.0 <= hi
    assert 0.93 <= covered / 1000 <= 0.99
    assert metrics.median_interval([0.2, 0.1, 0.3]) == (0.2, 0.1, 0.3)  # too few values: the observed range
    assert all(np.isnan(metrics.median_interval([])))


def test_the_hindsight_blind_guess_matches_independent_draws_and_falls_for_one_class_batches():
    from edgeleak.scoring.metrics import blind_label_accuracy, hindsight_label_accuracy

    rng = np.random.default_rng(0)
    iid = np.array([rng.multinomial(16, [0.25] * 4) for _ in range(20000)])
    assert hindsight_label_accuracy(iid) == pytest.approx(blind_label_accuracy(16, np.full(4, 0.25)), abs=0.01)
    one_class = np.array([np.eye(4, dtype=int)[k % 4] * 8 for k in range(40)])  # every batch a single activity
    assert hindsight_label_accuracy(one_class) == pytest.approx(0.25)
    assert blind_label_accuracy(8, np.full(4, 0.25)) > 0.7  # the independent-draws figure no blind guess reaches here
