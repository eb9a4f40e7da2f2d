"""A setting's figures over its seeds: each repetition is an independent session (partition, client sampling, device
noise, attack starts), so a figure's spread over seeds is its uncertainty (docs/study.md, "Seeds and intervals").

Pure functions of the per-seed results. A combined result has the type of one seed's, so the report and the audit
gate read it as they read a single one; a figure's 95% interval over seeds sits under ``intervals``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from edgeleak.privacy.rero import success_lower_bound
from edgeleak.scoring.metrics import wilson_interval
from edgeleak.attacks.inference import InferenceResult
from edgeleak.study.results import AttackResult, SettingResult


def _combine_inference(runs: list[SettingResult]) -> tuple[InferenceResult, ...]:
    """Per inferred property: accuracy, chance and errors averaged over the seeds that measured it, targets summed."""
    out = []
    for name in dict.fromkeys(i.property for r in runs for i in r.inference):
        got = [i for r in runs for i in r.inference if i.property == name]
        mean = lambda key: (float(np.mean([getattr(i, key) for i in got]))  # noqa: E731
                            if all(getattr(i, key) is not None for i in got) else None)
        out.append(InferenceResult(name, mean("accuracy"), mean("chance"), sum(i.targets for i in got),
                                   mean("error"), mean("chance_error"), f"{len(got)} seed(s); {got[0].notes}"))
    return tuple(out)


def seed_interval(values: list[float], confidence: float = 0.95,
                  bounds: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float, float]:
    """Mean over seeds and its Student-t interval, cut to ``bounds`` (accuracies and correlations cannot leave
    them; a t interval over 2 or 3 seeds easily does); nan for no finite value, the point itself for one seed."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], np.float64)
    if len(x) == 0:
        return (math.nan,) * 3
    m = float(x.mean())
    if len(x) == 1:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, max(bounds[0], m - half), min(bounds[1], m + half)


def _combine_attack(runs: list[AttackResult], comparisons: int) -> AttackResult:
    ran = [a for a in runs if a.ran]
    if not ran:
        return dataclasses.replace(runs[0], seeds=len(runs))
    records = sum(a.records for a in ran)
    windows = sum(a.windows for a in ran)
    won = sum(a.window_successes for a in ran)
    success = sum(round(a.success_rate * a.records) for a in ran)

    def weighted(key: str) -> float:
        pairs = [(getattr(a, key), a.records) for a in ran if math.isfinite(getattr(a, key))]
        return sum(v * n for v, n in pairs) / sum(n for _, n in pairs) if pairs else math.nan

    median = seed_interval([a.median_pearson for a in ran])
    worst = seed_interval([a.worst_pearson for a in ran])
    labels = seed_interval([a.label_accuracy for a in ran], bounds=(0.0, 1.0))
    return AttackResult(
        attack=ran[0].attack, records=records, seeds=len(ran), success_rate=success / records,
        success_interval=wilson_interval(success, records), pearson=weighted("pearson"),
        max_pearson=max((a.max_pearson for a in ran if math.isfinite(a.max_pearson)), default=math.nan),
        label_accuracy=labels[0], label_baseline=weighted("label_baseline"), feature_error=weighted("feature_error"),
        seconds_per_record=sum(a.seconds_per_record * a.records for a in ran) / records,
        windows=windows, window_successes=won, window_success_rate=won / windows if windows else 0.0,
        window_success_interval=wilson_interval(won, windows),
        window_success_lower=success_lower_bound(won, windows, comparisons=comparisons) if windows else 0.0,
        median_pearson=median[0], worst_pearson=worst[0],
        intervals={"median_pearson": median[1:], "worst_pearson": worst[1:], "label_accuracy": labels[1:]},
        windows_r90=sum(a.windows_r90 for a in ran), windows_exact=sum(a.windows_exact for a in ran))


def _largest(values: list[float]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return max(finite, default=math.nan)


def combine_seeds(results: list[SettingResult]) -> SettingResult:
    """One setting's result over its seeds."""
    refused = next((r for r in results if r.refused), None)
    if refused is not None:
        return dataclasses.replace(refused, seeds=len(results))
    first = results[0]
    names = [a.attack for a in first.attacks]
    comparisons = max(1, sum(any(r.attacks[i].ran and r.attacks[i].windows for r in results) for i in range(len(names))))
    attacks = tuple(_combine_attack([r.attacks[i] for r in results], comparisons) for i in range(len(names)))
    with_windows = [a for a in attacks if a.ran and a.windows]
    before = seed_interval([r.accuracy_before for r in results], bounds=(0.0, 1.0))
    after = seed_interval([r.accuracy_after for r in results], bounds=(0.0, 1.0))
    gain = seed_interval([r.accuracy_after - r.accuracy_before for r in results])
    bound = _largest([r.rero_bound for r in results])
    lower = max((a.window_success_lower for a in with_windows), default=0.0)
    return dataclasses.replace(
        first, seeds=len(results), accuracy_before=before[0], accuracy_after=after[0], accuracy_gain=gain[0],
        epsilon=_largest([r.epsilon for r in results]), epsilon_rdp=_largest([r.epsilon_rdp for r in results]),
        epsilon_user=_largest([r.epsilon_user for r in results]),
        releases_per_window=max(r.releases_per_window for r in results),
        participations=max(r.participations for r in results),
        kappa=_largest([r.kappa for r in results]), rero_bound=bound,
        measured_success=max((a.window_success_rate for a in with_windows), default=0.0),
        measured_success_lower=lower, bound_violated=bool(math.isfinite(bound) and lower > bound + 1e-9),
        attacks=attacks, seconds=sum(r.seconds for r in results), inference=_combine_inference(results),
        intervals={"accuracy_before": before[1:], "accuracy_after": after[1:], "accuracy_gain": gain[1:]})
