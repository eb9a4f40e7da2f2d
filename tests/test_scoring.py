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
