"""Leakage figures of a study setting's result, as the report and the CI gate read them: pure functions of a
``SettingResult`` (docs/output-formats.md)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeleak.study.results import AttackResult, SettingResult


def _finite(value: float) -> bool:
    return value is not None and not math.isnan(value)


def best_attack(result: SettingResult) -> AttackResult | None:
    """The attack with the highest per-window success (then per-record success, then the best record's r)."""
    return max((a for a in result.attacks if a.ran), default=None,
               key=lambda a: (a.window_success_rate, a.success_rate, a.max_pearson if _finite(a.max_pearson) else -1))


FALLBACK = {"worst_pearson": "max_pearson", "median_pearson": "pearson"}
"""Results written before leakage was counted per window have only the per-record figures."""


def attack_figure(result: SettingResult, key: str) -> tuple[float, tuple[float, float] | None]:
    """The largest ``key`` over the attacks that ran (0 if none), with its 95% interval when there is one."""
    best, interval = 0.0, None
    for a in result.attacks:
        if not a.ran:
            continue
        value = getattr(a, key)
        if not _finite(value) and key in FALLBACK:
            value = getattr(a, FALLBACK[key])
        if _finite(value) and value > best:
            best, interval = value, a.intervals.get(key)
    return best, interval


def leakage(result: SettingResult) -> float:
    """The worst case: the Pearson r of the best-reconstructed window, the largest over the attacks (mean over seeds)."""
    return attack_figure(result, "worst_pearson")[0]


def typical_leakage(result: SettingResult) -> float:
    """The typical window: the median Pearson r over the windows an attack reconstructed, the largest over attacks."""
    return attack_figure(result, "median_pearson")[0]


def label_leakage(result: SettingResult) -> float:
    """The best label accuracy among attacks that scored at least half as many records as the most thorough one
    (a single lucky record of a slow attack says little)."""
    most = max((a.records for a in result.attacks), default=0)
    values = [a.label_accuracy for a in result.attacks if a.ran and 2 * a.records >= most and _finite(a.label_accuracy)]
    return max(values, default=0.0)


def label_baseline(result: SettingResult) -> float:
    """What a blind guess of the label counts scores on the same batches (docs/privacy.md); 1/K when unknown."""
    values = [a.label_baseline for a in result.attacks if a.ran and _finite(a.label_baseline)]
    return max(values, default=1.0 / max(2, result.classes))
