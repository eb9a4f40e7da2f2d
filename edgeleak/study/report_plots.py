"""The study report's figures: the noise sweep with 95% bands over seeds, and the utility–privacy frontier with the
recommended setting marked. Each returns base64 PNGs for report.html to embed."""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeleak.study.results import SettingResult


def png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _band(ax, xs, values, intervals, style: str, label: str) -> None:
    """A line with its 95% band over seeds (where the result has one)."""
    ax.plot(xs, values, style, label=label)
    lows = [iv[0] if iv and iv[0] is not None else v for v, iv in zip(values, intervals)]
    highs = [iv[1] if iv and iv[1] is not None else v for v, iv in zip(values, intervals)]
    ax.fill_between(xs, lows, highs, alpha=0.2)


def _unit_plot(fig, ax, xlabel: str, ylabel: str) -> str:
    """Labels, a 0–1 y axis and the legend; the figure as a base64 PNG."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=7)
    return png(fig)


def sweep_plots(results: list[SettingResult]) -> dict[str, str]:
    """Leakage, accuracy, ε and the ReRo check against the noise multiplier σ of the clip-plus-noise settings."""
    from edgeleak.scoring.leakage import attack_figure, label_leakage, leakage
    from edgeleak.study.report import clip_only, noise_sweep

    sweep = noise_sweep(results)
    if not sweep:
        return {}
    plt = _pyplot()
    sigmas = [s for s, _ in sweep]
    plots = {}
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.set_xscale("log")
    for key, style, label in (("worst_pearson", "o-", "worst case: best-reconstructed window's r"),
                              ("median_pearson", "^-", "typical: median window's r")):
        figures = [attack_figure(r, key) for _, r in sweep]
        _band(ax, sigmas, [f[0] for f in figures], [f[1] for f in figures], style, label)
    ax.plot(sigmas, [label_leakage(r) for _, r in sweep], "s--", label="label accuracy")
    baseline = clip_only(results)
    if baseline:
        ax.axhline(leakage(baseline), color="grey", linewidth=0.8, linestyle=":", label="clipping only (worst case)")
    plots["leakage"] = _unit_plot(fig, ax, "noise multiplier σ (noise = σ·C)", "leakage")
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.set_xscale("log")
    _band(ax, sigmas, [r.accuracy_after for _, r in sweep],
          [r.intervals.get("accuracy_after") for _, r in sweep], "o-", "after on-device training")
    ax.plot(sigmas, [r.accuracy_before for _, r in sweep], ":", color="grey", label="base model")
    plots["accuracy"] = _unit_plot(fig, ax, "noise multiplier σ", "held-out accuracy (95% band over seeds)")
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.loglog(sigmas, [r.epsilon for _, r in sweep], "o-", label="ε per window (PLD)")
    ax.loglog(sigmas, [r.epsilon_user for _, r in sweep], "x--", label="ε per user, whole session")
    ax.set_xlabel("noise multiplier σ")
    ax.set_ylabel(f"ε at δ = {sweep[0][1].delta:g}")
    ax.legend(fontsize=7)
    plots["epsilon"] = png(fig)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.semilogx(sigmas, [r.rero_bound for _, r in sweep], "o-", label="ReRo bound on per-window success")
    ax.semilogx(sigmas, [r.measured_success for _, r in sweep], "s--", label="measured per-window success")
    ax.semilogx(sigmas, [r.measured_success_lower for _, r in sweep], "v:", label="its lower confidence bound")
    plots["bound"] = _unit_plot(fig, ax, "noise multiplier σ", "reconstruction success rate")
    return plots


def frontier_plots(results: list[SettingResult], recommended: SettingResult | None) -> dict[str, str]:
    """Accuracy against ε (settings with a finite ε) and against worst-case leakage (every setting that ran)."""
    from edgeleak.study.report import leakage, ran

    results = ran(results)
    if not results:
        return {}
    plt = _pyplot()
    plots = {}
    for key, xs_of, xlabel, keep in (
            ("frontier_epsilon", lambda r: r.epsilon, "ε per window at δ (log)", lambda r: math.isfinite(r.epsilon)),
            ("frontier_leakage", leakage, "worst-case leakage: best-reconstructed window's r", lambda r: True)):
        shown = [r for r in results if keep(r)]
        if not shown:
            continue
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        for r in shown:
            iv = r.intervals.get("accuracy_after")
            err = [[r.accuracy_after - iv[0]], [iv[1] - r.accuracy_after]] if iv and None not in iv else None
            star = recommended is not None and r.name == recommended.name
            ax.errorbar([xs_of(r)], [r.accuracy_after], yerr=err, fmt="*" if star else "o",
                        markersize=12 if star else 5, color="tab:red" if star else "tab:blue", capsize=2)
            ax.annotate(r.name, (xs_of(r), r.accuracy_after), fontsize=6, xytext=(3, 3), textcoords="offset points")
        if key == "frontier_epsilon":
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("held-out accuracy (95% interval)")
        ax.set_title("★ recommended" if recommended else "", fontsize=8)
        plots[key] = png(fig)
    return plots
