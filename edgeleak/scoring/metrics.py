"""Reconstruction quality as pure functions of arrays. Windows are ``(steps, channels)``."""

from __future__ import annotations

import math

import numpy as np

SUCCESS_PEARSON = 0.8
EXACT_PEARSON = 0.999  # a reconstruction this close is the window up to the int8 input's rounding
"""A reconstruction counts as a success when its mean Pearson r over channels is at least this."""


def mse(original: np.ndarray, reconstruction: np.ndarray) -> float:
    return float(np.mean((original.astype(np.float64) - reconstruction.astype(np.float64)) ** 2))


def nrmse(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """RMSE divided by the original's range (0 = perfect)."""
    spread = float(np.ptp(original))
    return math.sqrt(mse(original, reconstruction)) / spread if spread > 0 else float("inf")


def pearson_per_channel(original: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Pearson correlation of each channel over time; 0 where a channel is constant."""
    a = original.astype(np.float64) - original.mean(axis=0)
    b = reconstruction.astype(np.float64) - reconstruction.mean(axis=0)
    denom = np.sqrt((a ** 2).sum(axis=0) * (b ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 0, (a * b).sum(axis=0) / denom, 0.0)
    return r


def snr_db(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """Signal power over error power, in dB."""
    error = mse(original, reconstruction)
    power = float(np.mean(original.astype(np.float64) ** 2))
    if error == 0:
        return float("inf")
    return 10 * math.log10(power / error) if power > 0 else float("-inf")


def psnr(original: np.ndarray, reconstruction: np.ndarray) -> float:
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(original.astype(np.float64), reconstruction.astype(np.float64),
                                         data_range=float(np.ptp(original)) or 1.0))


def ssim(original: np.ndarray, reconstruction: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(original.astype(np.float64), reconstruction.astype(np.float64),
                                       data_range=float(np.ptp(original)) or 1.0, win_size=min(7, *original.shape) // 2 * 2 + 1))


def match_reconstructions(originals: np.ndarray, reconstructions: np.ndarray) -> list[tuple[int, int]]:
    """Pair each reconstruction with a distinct original (greedy on mean Pearson r); batches come unordered."""
    scores = np.array([[np.mean(pearson_per_channel(o, r)) for o in originals] for r in reconstructions])
    pairs = []
    used_o, used_r = set(), set()
    for flat in np.argsort(-scores, axis=None):
        ri, oi = divmod(int(flat), len(originals))
        if ri not in used_r and oi not in used_o:
            pairs.append((oi, ri))
            used_r.add(ri)
            used_o.add(oi)
    return sorted(pairs)


def label_accuracy(true_labels: np.ndarray, recovered: np.ndarray) -> float:
    """Fraction of true labels recovered, as multisets (order in a batch is unknowable)."""
    if len(true_labels) == 0:
        return 0.0
    true_counts = np.bincount(true_labels, minlength=max(true_labels.max(initial=0), recovered.max(initial=0)) + 1)
    got_counts = np.bincount(recovered, minlength=len(true_counts)) if len(recovered) else np.zeros_like(true_counts)
    return float(np.minimum(true_counts, got_counts[:len(true_counts)]).sum() / len(true_labels))


def blind_label_accuracy(batch: int, class_probs: np.ndarray) -> float:
    """The expected label_accuracy of the best guess that ignores the update: fixed counts g_c per class for a
    batch of ``batch`` labels drawn independently from ``class_probs``. E[Σ_c min(g_c, N_c)] is a sum over classes
    of concave terms whose j-th increment is P[N_c ≥ j] (N_c binomial), so the ``batch`` largest increments make
    the best guess."""
    from scipy import stats

    probs = np.asarray(class_probs, np.float64)
    if batch <= 0 or probs.size == 0 or not probs.sum() > 0:
        return float("nan")
    probs = probs / probs.sum()
    j = np.arange(1, batch + 1)
    gains = np.concatenate([stats.binom.sf(j - 1, batch, p) for p in probs])
    return float(np.sort(gains)[::-1][:batch].sum() / batch)


def hindsight_label_accuracy(counts: np.ndarray) -> float:
    """The best fixed guess of label counts for a set of batches of one size, chosen in hindsight: the largest mean
    ``label_accuracy`` any one guess of counts ``g`` scores over the batches whose true counts per class are the rows
    of ``counts`` ``(records, K)``. The mean of ``Σ_c min(g_c, N_c)`` is a sum over classes of concave functions whose
    j-th increment is the share of batches with ``N_c ≥ j``, so the ``B`` largest increments make the guess (as in
    ``blind_label_accuracy``, with the batches' own label distribution in place of independent draws). It is what
    a guess that ignores the update can score at best when a batch's labels are not independent (windows recorded
    in a row are mostly one activity)."""
    counts = np.asarray(counts, np.int64)
    if counts.ndim != 2 or len(counts) == 0:
        return float("nan")
    batch = int(counts[0].sum())
    if batch <= 0:
        return float("nan")
    j = np.arange(1, batch + 1)
    gains = np.concatenate([(counts[:, c][:, None] >= j[None, :]).mean(axis=0) for c in range(counts.shape[1])])
    return float(np.sort(gains)[::-1][:batch].sum() / batch)


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    # at no success (all successes) the bound is 0 (1) exactly; rounding would leave a speck such as 1e-19
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return (low, high)


def mean_interval(values: np.ndarray, z: float = 1.96) -> tuple[float, float, float]:
    """Mean and normal-approximation 95% interval."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (float("nan"),) * 3
    m = float(values.mean())
    half = z * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return m, m - half, m + half


def median_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Median and its distribution-free interval: the order statistics whose ranks bracket the median with at least
    ``confidence`` under Binomial(n, 1/2) (for n < 6 it is the whole observed range)."""
    from scipy import stats

    values = np.sort(np.asarray(values, np.float64)[np.isfinite(values)])
    n = len(values)
    if n == 0:
        return (float("nan"),) * 3
    k = int(stats.binom.ppf((1.0 - confidence) / 2.0, n, 0.5))  # P[Binomial(n, 1/2) <= k - 1] < (1 - confidence) / 2
    lo, hi = max(0, k - 1), min(n - 1, n - k)  # the k-th smallest and the k-th largest, 0-based
    return float(np.median(values)), float(values[lo]), float(values[hi])
