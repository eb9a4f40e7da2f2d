"""The study report's audit of the devices' ε (docs/privacy.md, "Auditing the device's ε"): per audited setting the
ε the devices account for one release next to the audited lower bounds, a figure of both against σ, and the
violations that make the study fail."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeleak.study.results import SettingResult


def audited(results: list[SettingResult]) -> list[SettingResult]:
    """The settings whose devices were audited, in σ order."""
    return sorted((r for r in results if r.epsilon_audit), key=lambda r: r.epsilon_audit.noise_multiplier)


def audit_violations(results: list[SettingResult]) -> list[str]:
    """One line per setting whose audited ε exceeds the ε its devices accounted."""
    lines = []
    for r in audited(results):
        a = r.epsilon_audit
        if a.violated:
            lines.append(f"{r.name}: audited epsilon >= {max(a.one_run.epsilon, a.gdp.epsilon_lower):.3f} "
                         f"> accounted {a.accounted_epsilon:.3f} per release")
    return lines


AUDIT_HEADERS = ["setting", "σ", "C", "canaries", "accounted ε", "audited ε ≥ (one run)", "audited ε ≥ (Gaussian DP)",
                 "μ measured (accounted)", "confidence", "verdict"]


def audit_rows(results: list[SettingResult]) -> list[list[str]]:
    from edgeleak.study.report import _fmt

    rows = []
    for r in audited(results):
        a = r.epsilon_audit
        rows.append([r.name, _fmt(a.noise_multiplier), _fmt(a.clip_norm), str(a.canaries), _fmt(a.accounted_epsilon),
                     _fmt(a.one_run.epsilon), _fmt(a.gdp.epsilon_lower), f"{_fmt(a.gdp.mu)} ({_fmt(a.mu_accounted)})",
                     f"{a.confidence:.0%}", "VIOLATION" if a.violated else "consistent"])
    return rows


def audit_plot(results: list[SettingResult]) -> str | None:
    """Accounted and audited ε of one release against σ (base64 PNG), or None without audits."""
    rows = audited(results)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edgeleak.study.report_plots import png as _png

    audits = [r.epsilon_audit for r in rows]
    sigmas = [a.noise_multiplier for a in audits]
    level = f"{audits[0].confidence:.0%}"
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.loglog(sigmas, [a.accounted_epsilon for a in audits], "o-", label="accounted by the devices")
    ax.loglog(sigmas, [max(a.gdp.epsilon_lower, 1e-3) for a in audits], "s--",
              label=f"audited ≥ (Gaussian DP, {level})")
    ax.loglog(sigmas, [max(a.one_run.epsilon, 1e-3) for a in audits], "^:",
              label=f"audited ≥ (one run, {level})")
    ax.set_xlabel("noise multiplier σ")
    ax.set_ylabel("ε of one release")
    ax.legend(fontsize=7)
    return _png(fig)


def audit_html(results: list[SettingResult]) -> str:
    rows = audit_rows(results)
    if not rows:
        return ""
    parts = ["<h2>Audited against accounted ε</h2>"]
    plot = audit_plot(results)
    if plot:
        parts.append(f"<figure><img alt='Audited and accounted ε' src='data:image/png;base64,{plot}'><figcaption>"
                     "Accounted and audited ε of one release</figcaption></figure>")
    parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in AUDIT_HEADERS) + "</tr>")
    for row in rows:
        css = " class='err'" if row[-1] == "VIOLATION" else ""
        parts.append(f"<tr{css}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    parts.append("</table><p>Each audit plays a membership game against a board built as the setting's were: m rounds, "
                 "one canary window stored or replaced by its neighbour at random, head weights crafted so the game is "
                 "as sharp as the mechanism allows, scored from the device's own noisy updates. Accounted ε: what the "
                 "device charged for one release. One run: Steinke, Nasr and Jagielski's bound (no assumption, loose). "
                 "Gaussian DP: the lower confidence bound on μ turned into ε (tight for Gaussian noise). A bound above "
                 "the accounted ε means the noise, the clipping or the accounting is wrong (docs/privacy.md).</p>")
    return "".join(parts)
