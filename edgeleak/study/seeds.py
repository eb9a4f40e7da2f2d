"""A setting's figures over its seeds: each repetition is an independent session (partition, client sampling, device
noise, attack starts), so a figure's spread over seeds is its uncertainty (docs/study.md, "Seeds and intervals").

Pure functions of the per-seed results (the JSON-ready dicts the runner writes). Every figure keeps the key it has in
one seed's result, so the report and the audit gate read a combined result as they read a single one; its 95%
interval sits under ``intervals``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from edgeleak.privacy.rero import success_lower_bound
from edgeleak.scoring.metrics import wilson_interval


def seed_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean over seeds and its Student-t interval (nan for no finite value; the point itself for one seed)."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], np.float64)
    if len(x) == 0:
        return (math.nan,) * 3
    m = float(x.mean())
    if len(x) == 1:
        return m, m, m
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, m - half, m + half


def _mean(values: list[float]) -> float:
    return seed_interval(values)[0]


def _combine_attack(runs: list[dict], comparisons: int) -> dict:
    ran = [a for a in runs if a["records"]]
    if not ran:
        return {**runs[0], "seeds": len(runs)}
    records = sum(a["records"] for a in ran)
    windows = sum(a.get("windows", 0) for a in ran)
    won = sum(a.get("window_successes", 0) for a in ran)
    weighted = lambda key: sum(a[key] * a["records"] for a in ran if math.isfinite(a[key])) / max(  # noqa: E731
        1, sum(a["records"] for a in ran if math.isfinite(a[key]))) if any(math.isfinite(a[key]) for a in ran) else math.nan
    success = sum(round(a["success_rate"] * a["records"]) for a in ran)
    median = seed_interval([a.get("median_pearson", (math.nan,))[0] for a in ran])
    worst = seed_interval([a.get("worst_pearson", math.nan) for a in ran])
    labels = seed_interval([a["label_accuracy"] for a in ran])
    return {
        "attack": ran[0]["attack"], "records": records, "seeds": len(ran),
        "success_rate": success / records, "success_interval": wilson_interval(success, records),
        "pearson": weighted("pearson"), "max_pearson": max((a["max_pearson"] for a in ran if math.isfinite(a["max_pearson"])),
                                                           default=math.nan),
        "label_accuracy": labels[0], "label_baseline": weighted("label_baseline"), "feature_error": weighted("feature_error"),
        "seconds_per_record": sum(a["seconds_per_record"] * a["records"] for a in ran) / records,
        "not_applicable": "", "windows": windows, "window_successes": won,
        "window_success_rate": won / windows if windows else 0.0,
        "window_success_interval": wilson_interval(won, windows),
        "window_success_lower": success_lower_bound(won, windows, comparisons=comparisons) if windows else 0.0,
        "median_pearson": median[0], "worst_pearson": worst[0],
        "intervals": {"median_pearson": median[1:], "worst_pearson": worst[1:], "label_accuracy": labels[1:]},
    }


def combine_seeds(results: list[dict]) -> dict:
    """One setting's result over its seeds (each a result as the runner writes it)."""
    first = results[0]
    if any((r.get("enforced") or {}).get("refused") for r in results):
        return {**next(r for r in results if (r.get("enforced") or {}).get("refused")), "seeds": len(results)}
    names = [a["attack"] for a in first["attacks"]]
    comparisons = max(1, sum(any(r["attacks"][i]["records"] and r["attacks"][i].get("windows") for r in results)
                             for i in range(len(names))))
    attacks = [_combine_attack([r["attacks"][i] for r in results], comparisons) for i in range(len(names))]
    with_windows = [a for a in attacks if a["records"] and a.get("windows")]
    before = seed_interval([r["accuracy_before"] for r in results])
    after = seed_interval([r["accuracy_after"] for r in results])
    gain = seed_interval([r["accuracy_after"] - r["accuracy_before"] for r in results])
    worst = lambda key: max((r[key] for r in results if r.get(key) is not None and not math.isnan(r[key])),  # noqa: E731
                            default=math.nan)
    bound = worst("rero_bound")
    lower = max((a["window_success_lower"] for a in with_windows), default=0.0)
    return {
        **first,
        "seeds": len(results), "accuracy_before": before[0], "accuracy_after": after[0], "accuracy_gain": gain[0],
        "epsilon": worst("epsilon"), "epsilon_rdp": worst("epsilon_rdp"), "epsilon_user": worst("epsilon_user"),
        "releases_per_window": max(r["releases_per_window"] for r in results),
        "participations": max(r["participations"] for r in results),
        "kappa": worst("kappa"), "rero_bound": bound,
        "measured_success": max((a["window_success_rate"] for a in with_windows), default=0.0),
        "measured_success_lower": lower, "bound_violated": bool(math.isfinite(bound) and lower > bound + 1e-9),
        "attacks": attacks, "seconds": sum(r["seconds"] for r in results),
        "intervals": {"accuracy_before": before[1:], "accuracy_after": after[1:], "accuracy_gain": gain[1:]},
    }
