"""Score one attack result against the ground truth of its target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeleak.attacks.base import Reconstruction
from edgeleak.scoring import metrics


@dataclass(frozen=True)
class RecordScore:
    round: int
    devices: tuple[int, ...]
    samples: int  # true samples behind the update
    recovered: int  # windows (or feature vectors) the attack returned
    pearson: float  # mean over matched pairs of the mean Pearson r over channels (nan if no windows)
    pearson_per_channel: tuple[float, ...]
    mse: float
    nrmse: float
    snr_db: float
    psnr: float | None  # image data only
    ssim: float | None
    feature_error: float | None  # relative L2 error of recovered feature vectors (nan if none)
    label_accuracy: float | None
    label_baseline: float | None  # the best blind guess's expected label accuracy for this batch size
    semantic_accuracy: float | None  # reference classifier on the reconstructions
    semantic_baseline: float | None  # the same classifier on the originals
    success: bool  # pearson >= metrics.SUCCESS_PEARSON
    window_pearsons: tuple[float, ...] = ()  # per true window: the r of its matched reconstruction (0: none matched)

    @property
    def windows_recovered(self) -> int:
        """The true windows reconstructed at metrics.SUCCESS_PEARSON or better (success counted per window)."""
        return sum(r >= metrics.SUCCESS_PEARSON for r in self.window_pearsons)


def score_record(reconstruction: Reconstruction, *, round_: int, devices: tuple[int, ...], windows: np.ndarray,
                 labels: np.ndarray, features: np.ndarray | None = None, classify=None, image: bool = False,
                 class_probs: np.ndarray | None = None) -> RecordScore:
    """``windows``/``labels``/``features`` are the truth of the target; ``classify`` maps windows to labels;
    ``class_probs``, the label distribution the batch is drawn from, gives the blind-guess baseline."""
    pearsons, per_channel, mses, nrmses, snrs, psnrs, ssims = [], [], [], [], [], [], []
    per_window = [0.0] * len(windows) if reconstruction.windows is not None else []
    recovered = 0
    semantic = baseline = None
    if reconstruction.windows is not None and len(reconstruction.windows):
        recovered = len(reconstruction.windows)
        for oi, ri in metrics.match_reconstructions(windows, reconstruction.windows):
            o, r = windows[oi], reconstruction.windows[ri]
            channel_r = metrics.pearson_per_channel(o, r)
            per_channel.append(channel_r)
            pearsons.append(float(np.mean(channel_r)))
            per_window[oi] = pearsons[-1]
            mses.append(metrics.mse(o, r))
            nrmses.append(metrics.nrmse(o, r))
            snrs.append(metrics.snr_db(o, r))
            if image:
                psnrs.append(metrics.psnr(o, r))
                ssims.append(metrics.ssim(o, r))
        if classify is not None:
            semantic = float(np.mean(classify(reconstruction.windows) == labels[:recovered])) if recovered <= len(labels) else None
            baseline = float(np.mean(classify(windows) == labels))
    feature_error = None
    if reconstruction.features is not None and features is not None and len(reconstruction.features):
        recovered = max(recovered, len(reconstruction.features))
        errors = [np.linalg.norm(reconstruction.features[ri] - features[oi]) / max(np.linalg.norm(features[oi]), 1e-12)
                  for oi, ri in metrics.match_reconstructions(features[:, :, None], reconstruction.features[:, :, None])]
        feature_error = float(np.mean(errors))
    label_acc = metrics.label_accuracy(labels, reconstruction.labels) if reconstruction.labels is not None else None
    label_base = (metrics.blind_label_accuracy(len(labels), class_probs)
                  if label_acc is not None and class_probs is not None else None)
    pearson = float(np.mean(pearsons)) if pearsons else float("nan")
    nan = float("nan")
    return RecordScore(
        round=round_, devices=devices, samples=len(labels), recovered=recovered, pearson=pearson,
        pearson_per_channel=tuple(float(v) for v in (np.mean(per_channel, axis=0) if per_channel else ())),
        mse=float(np.mean(mses)) if mses else nan, nrmse=float(np.mean(nrmses)) if nrmses else nan,
        snr_db=float(np.mean(snrs)) if snrs else nan, psnr=float(np.mean(psnrs)) if psnrs else None,
        ssim=float(np.mean(ssims)) if ssims else None, feature_error=feature_error, label_accuracy=label_acc,
        label_baseline=label_base, semantic_accuracy=semantic, semantic_baseline=baseline,
        success=bool(pearsons) and pearson >= metrics.SUCCESS_PEARSON, window_pearsons=tuple(per_window))


@dataclass(frozen=True)
class ScoreSummary:
    records: int
    success_rate: float
    success_interval: tuple[float, float]
    pearson: tuple[float, float, float]  # mean and 95% interval
    snr_db: tuple[float, float, float]
    label_accuracy: tuple[float, float, float]
    feature_error: tuple[float, float, float]
    semantic_accuracy: float | None
    semantic_baseline: float | None
    label_baseline: float | None = None  # mean over records of the blind guess's expected label accuracy
    windows: int = 0  # true windows behind the records the attack reconstructed windows for
    window_successes: int = 0  # of those, reconstructed at metrics.SUCCESS_PEARSON or better
    window_success_interval: tuple[float, float] = (0.0, 1.0)  # 95% Wilson interval of the per-window rate
    median_pearson: tuple[float, float, float] = (float("nan"),) * 3  # the typical window: median r, 95% interval
    worst_pearson: float = float("nan")  # the worst case for the user: the best-reconstructed window's r
    windows_r90: int = 0  # true windows reconstructed at r >= 0.9
    windows_exact: int = 0  # true windows reconstructed exactly (r >= metrics.EXACT_PEARSON)

    @property
    def window_success_rate(self) -> float:
        return self.window_successes / self.windows if self.windows else 0.0


def summarise(scores: list[RecordScore]) -> ScoreSummary:
    successes = sum(s.success for s in scores)
    pick = lambda name: np.array([getattr(s, name) for s in scores if getattr(s, name) is not None], np.float64)  # noqa: E731
    sem = pick("semantic_accuracy")
    base = pick("semantic_baseline")
    blind = pick("label_baseline")
    per_window = np.array([r for s in scores for r in s.window_pearsons], np.float64)
    recovered = sum(s.windows_recovered for s in scores)
    return ScoreSummary(
        records=len(scores), success_rate=successes / len(scores) if scores else 0.0,
        success_interval=metrics.wilson_interval(successes, len(scores)),
        pearson=metrics.mean_interval(pick("pearson")), snr_db=metrics.mean_interval(pick("snr_db")),
        label_accuracy=metrics.mean_interval(pick("label_accuracy")),
        feature_error=metrics.mean_interval(pick("feature_error")),
        semantic_accuracy=float(sem.mean()) if len(sem) else None, semantic_baseline=float(base.mean()) if len(base) else None,
        label_baseline=float(blind.mean()) if len(blind) else None, windows=len(per_window), window_successes=recovered,
        window_success_interval=metrics.wilson_interval(recovered, len(per_window)),
        median_pearson=metrics.median_interval(per_window),
        worst_pearson=float(per_window.max()) if len(per_window) else float("nan"),
        windows_r90=int(np.sum(per_window >= 0.9)), windows_exact=int(np.sum(per_window >= metrics.EXACT_PEARSON)))
