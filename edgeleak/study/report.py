"""The study's outputs: results.json, a self-contained report.html (plots embedded) and a Markdown summary."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from edgeleak import strict_json
from edgeleak.scoring.leakage import attack_figure, best_attack, label_baseline, label_leakage, leakage, typical_leakage
from edgeleak.study.results import SettingResult, to_json
from edgeleak.study.report_audit import audit_html, audit_violations
from edgeleak.study.report_wearer import wearer_html, wearer_text

NOISE_PREFIX = "clip-noise-"


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def ran(results: list[SettingResult]) -> list[SettingResult]:
    """The settings whose sessions ran (a refused setting released nothing: there is nothing to attack or plot)."""
    return [r for r in results if not r.refused]


def with_interval(value: float, interval) -> str:
    """"0.62 [0.55, 0.69]": a figure and its 95% interval over seeds (the figure alone when there is none)."""
    if not interval or len(interval) != 2 or any(v is None or v != v for v in interval) or interval[0] == interval[1]:
        return _fmt(value)
    return f"{_fmt(value, 2)} [{_fmt(float(interval[0]), 2)}, {_fmt(float(interval[1]), 2)}]"


def figure(result: dict, key: str) -> str:
    """A setting-level figure with its interval over seeds."""
    return with_interval(getattr(result, key), result.intervals.get(key))


def clip_only(results: list[SettingResult]) -> SettingResult | None:
    """The setting that clips the update and adds no noise."""
    return next((r for r in ran(results) if r.config["clip_mode"] == "update" and r.config["noise_kind"] == "none"
                 and r.config["sparsify"] == "none"), None)


def noise_sweep(results: list[SettingResult]) -> list[tuple[float, SettingResult]]:
    """(σ, result) for the no-defense, clip-only and clip-plus-noise settings of the grid, in σ order."""
    sweep = []
    for r in ran(results):
        if r.name.startswith(NOISE_PREFIX):
            sweep.append((float(r.config["noise_multiplier"]), r))
    return sorted(sweep, key=lambda p: p[0])


SAFE_PEARSON = 0.5
SAFE_LABEL_MARGIN = 0.15
"""A setting counts as protective when no reconstruction of it correlates more than SAFE_PEARSON with its original
and label recovery is within SAFE_LABEL_MARGIN of a blind guess of the batch's label counts."""


def recommend(results: list[SettingResult]) -> SettingResult | None:
    """Among settings with a formal guarantee whose reconstructions stay below SAFE_PEARSON, the most accurate
    (then the smallest ε); without such a setting, the least leaky one with a guarantee."""
    guaranteed = [r for r in ran(honest(results)) if math.isfinite(r.epsilon)]
    safe = [r for r in guaranteed
            if leakage(r) < SAFE_PEARSON and label_leakage(r) <= label_baseline(r) + SAFE_LABEL_MARGIN]
    if safe:
        return max(safe, key=lambda r: (round(r.accuracy_after, 3), -r.epsilon))
    return min(guaranteed, key=lambda r: (leakage(r), r.epsilon), default=None)


def crafted_text(results: list[SettingResult]) -> list[str]:
    """What a server that crafts the weights gets, with and without noise on the device."""
    lines = []
    for r in [r for r in results if r.crafted]:
        hit = next((a for a in r.attacks if a.attack == r.crafted and a.ran), None)
        if hit is None or not hit.windows:
            continue
        noise = (f"clipping at C = {r.config['clip_norm']:g} and noise σ = {r.config['noise_multiplier']:g}"
                 if r.config["noise_kind"] != "none" else "no clipping or noise")
        lines.append(f"A server that crafts the weights ({r.name}, {noise}) recovers {hit.windows_exact} of "
                     f"{hit.windows} windows exactly and {hit.windows_r90} at r ≥ 0.9 "
                     f"({100 * hit.windows_r90 / hit.windows:.0f}%), however large the batch.")
    return lines


def impact_text(results: list[SettingResult]) -> list[str]:
    """The privacy-impact section, in plain words."""
    lines = []
    every = results
    results = ran(results)
    undefended = next((r for r in results if r.name == "no-defense"), None)
    if undefended:
        lines.append(f"Without on-device defenses, a server that receives a single-sample update reconstructs the user's "
                     f"sensor windows with a Pearson correlation of {typical_leakage(undefended):.2f} for the typical window and "
                     f"{leakage(undefended):.2f} in the worst case, and recovers the activity label "
                     f"{100 * label_leakage(undefended):.0f}% of the time (a blind guess: "
                     f"{100 * label_baseline(undefended):.0f}%): the raw motion data leaves the device.")
    clip = clip_only(results)
    if clip:
        lines.append(f"Clipping alone changes the update's length, not its direction: reconstructions still reach r = "
                     f"{leakage(clip):.2f}, and there is no formal guarantee (ε = ∞).")
    for name, what in (("top-k-10%", "Sending only the largest 10% of coordinates"), ("int8-update", "Encoding the update in int8")):
        r = next((x for x in results if x.name == name), None)
        if r:
            lines.append(f"{what} leaves reconstructions at r = {leakage(r):.2f}: it saves bandwidth, it is not a privacy defense.")
    batched = next((r for r in results if r.name == "batch-4"), None)
    if batched:
        lines.append(f"Training on batches of 4 samples per update mixes them; the best reconstruction reaches r = "
                     f"{leakage(batched):.2f} in the worst case ({typical_leakage(batched):.2f} typical), and label counts are "
                     f"recovered at {label_leakage(batched):.2f} where a "
                     f"guess that ignores the update already scores {label_baseline(batched):.2f}.")
    rec = recommend(results)
    if rec:
        lines.append(f"Recommended setting: {rec.name} (ε = {_fmt(rec.epsilon)} at δ = {rec.delta:g} per "
                     f"window over the updates it was in; ε = {_fmt(rec.epsilon_user)} per user over the "
                     f"session). It holds reconstructions to r = {typical_leakage(rec):.2f} typical and {leakage(rec):.2f} "
                     f"worst case "
                     f"and label recovery to {100 * label_leakage(rec):.0f}%, at an accuracy of {figure(rec, 'accuracy_after')}"
                     + (f" against {figure(undefended, 'accuracy_after')} undefended and "
                        f"{_fmt(undefended.accuracy_before, 2)} for the base model." if undefended else "."))
    lines += crafted_text(results) + wearer_text(results)
    summed = next((r for r in results if r.aggregate and r.config["noise_kind"] == "none"), None)
    if summed:
        lines.append(f"Behind secure aggregation the server sees only the sum of each round's updates: reconstructions reach r = {typical_leakage(summed):.2f} typical and {leakage(summed):.2f} "
                     f"worst case, and label counts {label_leakage(summed):.2f} against a blind {label_baseline(summed):.2f}.")
    no = [r.name for r in every if r.refused]
    if no:
        lines.append(f"The devices' privacy floor refused {len(no)} setting(s), so nothing of them left the device: "
                     f"{', '.join(no)}.")
    for line in audit_violations(results):
        lines.append(f"ERROR: the devices leak more than they account for: {line}; the firmware's noise or the "
                     f"accounting is wrong.")
    violated = [r.name for r in results if r.bound_violated]
    if violated:
        lines.append(f"ERROR: measured attack success exceeds the ReRo bound in {', '.join(violated)} (its 95% lower "
                     f"confidence bound, corrected for the attacks compared): the accounting, the noise or the "
                     f"measurement is wrong; do not rely on these figures.")
    return lines


def table_rows(results: list[SettingResult]) -> list[list[str]]:
    rows = []
    for r in results:
        best = best_attack(r)
        typical, worst = attack_figure(r, "median_pearson"), attack_figure(r, "worst_pearson")
        rows.append([r.name, r.model, figure(r, "accuracy_after"), figure(r, "accuracy_gain"),
                     with_interval(*typical), with_interval(*worst),
                     f"{_fmt(label_leakage(r))} ({_fmt(label_baseline(r))})",
                     f"{_fmt(r.measured_success)} (≥ {_fmt(r.measured_success_lower)})",
                     _fmt(r.rero_bound), _fmt(r.epsilon), _fmt(r.epsilon_user),
                     "refused by the device" if r.refused else (best.attack if best else "–")])
    return rows


ENFORCEMENT_HEADERS = ["setting", "σ", "C", "rounds", "ε (host)", "floor ε_max (δ)", "ε spent (device)", "entropy",
                       "outcome"]


def enforcement_rows(results: list[SettingResult], study: dict) -> list[list[str]]:
    """Per setting, what the server requested (σ, C, rounds; the host's ε) next to what the devices enforced
    (their floor and the ε they report spent); "unknown" where the devices (or older results) did not say."""
    rows = []
    for r in results:
        c = r.config
        e = r.enforced
        floor_eps, floor_delta = (e.floor_epsilon, e.floor_delta) if e else (None, None)
        if floor_eps is None:
            floor = "unknown"
        elif floor_eps == 0:
            floor = "none"
        else:
            floor = f"{_fmt(float(floor_eps))} ({'?' if floor_delta is None else f'{floor_delta:g}'})"
        spent = e.epsilon_spent if e else None
        entropy = (e.entropy if e else None) or "unknown"
        if entropy == "emulator host":
            entropy += " (functional test)"
        noisy = c.get("noise_kind") != "none"
        rows.append([r.name, _fmt(float(c["noise_multiplier"])) if noisy else "–",
                     _fmt(float(c["clip_norm"])) if c.get("clip_mode") != "none" else "–", str(study.get("rounds", "?")),
                     _fmt(r.epsilon), floor, "unknown" if spent is None else _fmt(float(spent)), entropy,
                     r.refused.split(":", 1)[0] if r.refused else "ran"])
    return rows


HEADERS = ["setting", "model", "accuracy", "gain", "typical r", "worst r", "label acc (blind)", "success (lower)",
           "ReRo bound", "ε window", "ε user", "best attack"]

THREAT_MODELS = (
    ("single update", "The server reads every device's update on its own.",
     lambda r: not r.aggregate and not r.crafted),
    ("secure aggregation", "The server sees only the sum of each round's updates (the attacks run on the sum).",
     lambda r: bool(r.aggregate) and not r.crafted),
    ("malicious weights", "The server sends crafted weights instead of its model (an imprint module in the first "
                          "layer) and reads each update; the model does not learn.", lambda r: bool(r.crafted)))


def by_threat_model(results: list[SettingResult]) -> list[tuple[str, str, list[SettingResult]]]:
    """The results split by what the server sees and does: single updates, each round's sum, crafted weights."""
    return [(name, text, [r for r in results if member(r)]) for name, text, member in THREAT_MODELS
            if any(member(r) for r in results)]


def honest(results: list[SettingResult]) -> list[SettingResult]:
    """The settings whose server sent its model: the ones whose accuracy and recommendation mean something."""
    return [r for r in results if not r.crafted]


def markdown_summary(results: list[SettingResult]) -> str:
    lines = []
    for name, text, group in by_threat_model(results):
        lines += [f"### {name}: {text}", "", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(row) + " |" for row in table_rows(group)] + [""]
    return "\n".join(lines + impact_text(results))


def _dataset_text(dataset) -> str:
    """A study's data set as study.json records it: a packaged name, or a user's file (name and hash)."""
    if isinstance(dataset, dict):
        return f"{dataset.get('name')} ({dataset.get('format')} file)"
    return str(dataset)


def write_report(results: list[SettingResult], study: dict, out: Path) -> None:
    """results.json and report.html in ``out``."""
    (out / "results.json").write_text(strict_json.dumps({"study": study, "settings": [to_json(r) for r in results]},
                                                        indent=2))
    from edgeleak.study.report_plots import frontier_plots, sweep_plots

    plots = {**sweep_plots(honest(results)), **frontier_plots(honest(results), recommend(results))}
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>edgeleak leakage study</title><style>",
             "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}.err{color:#b00;font-weight:bold}img{max-width:100%}"
             ".grid{display:grid;grid-template-columns:1fr 1fr;gap:10px}</style></head><body>",
             "<h1>How much sensor data leaks through on-device updates</h1>",
             f"<p>Board {html.escape(str(study.get('board')))}, data set {html.escape(_dataset_text(study.get('dataset')))}, "
             f"{study.get('devices')} devices ({study.get('emulated_devices', study.get('devices'))} on the board, the "
             f"others on the {html.escape(str(study.get('stand_in', 'host')))} stand-in running the same firmware core), "
             f"{study.get('participants', study.get('devices'))} sampled per round, {study.get('rounds')} rounds, "
             f"{study.get('seeds', 1)} seed(s) per setting; intervals are 95% over seeds.</p>",
             "<h2>Privacy impact</h2>"]
    for line in impact_text(results):
        css = " class='err'" if line.startswith("ERROR") else ""
        parts.append(f"<p{css}>{html.escape(line)}</p>")
    if plots:
        parts.append("<h2>Clipping and noise</h2><div class='grid'>")
        for key, caption in (("leakage", "Leakage against σ"), ("accuracy", "Accuracy against σ"),
                             ("epsilon", "ε against σ"), ("bound", "ReRo bound against measured success"),
                             ("frontier_epsilon", "Utility–privacy frontier: accuracy against ε"),
                             ("frontier_leakage", "Utility–privacy frontier: accuracy against measured leakage")):
            if key in plots:
                parts.append(f"<figure><img alt='{caption}' src='data:image/png;base64,{plots[key]}'><figcaption>{caption}"
                             f"</figcaption></figure>")
        parts.append("</div>")
    parts.append("<h2>Example reconstructions</h2><div class='grid'>")
    for r in results:
        for attack, rel in list(r.examples.items())[:1]:
            path = out / rel
            if path.exists():
                data = base64.b64encode(path.read_bytes()).decode()
                parts.append(f"<figure><img alt='{html.escape(r.name)}' src='data:image/png;base64,{data}'>"
                             f"<figcaption>{html.escape(r.name)}: {html.escape(attack)}</figcaption></figure>")
    parts.append("</div>")
    for name, text, group in by_threat_model(results):
        parts.append(f"<h2>Threat model: {html.escape(name)}</h2><p>{html.escape(text)}</p><table><tr>"
                     + "".join(f"<th>{h}</th>" for h in HEADERS) + "</tr>")
        for r, row in zip(group, table_rows(group)):
            css = " class='err'" if r.bound_violated else ""
            parts.append(f"<tr{css}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    parts.append("<p>accuracy: held-out accuracy after the session, and gain: its change from the base model, each with "
                 "its 95% interval over seeds; typical r / worst r: the median window's and the best-reconstructed "
                 "window's Pearson correlation with the window the device held (the strongest attack's, mean over seeds "
                 "and interval); label acc (blind): the best attack's label accuracy, and in brackets what a blind guess "
                 "of the label counts scores on the same batches; success (lower): the share of windows reconstructed "
                 "at r ≥ 0.8 and its one-sided 95% lower bound, Bonferroni over the attacks; ReRo bound: the most any "
                 "attack can succeed given the noise, the releases each window was in and the prior κ; ε window: "
                 "differential privacy at δ for one window over the updates it was in; ε user: for one user's whole "
                 "stored data over the rounds the device took part in (no amplification: the server picks the "
                 "devices, docs/privacy.md).</p>")
    parts.append(wearer_html(results))
    parts.append(audit_html(results))
    parts.append("<h2>Requested by the server, enforced on the device</h2><table><tr>"
                 "<th></th><th colspan='4'>requested by the server</th><th colspan='4'>enforced on the device</th></tr><tr>"
                 + "".join(f"<th>{h}</th>" for h in ENFORCEMENT_HEADERS) + "</tr>")
    for row in enforcement_rows(results, study):
        parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    parts.append("</table><p>σ, C, rounds: the configuration the server sent; ε (host): the host's accounting of it "
                 "over the rounds run. Floor ε_max (δ): the budget the devices' firmware enforces itself, as INFO reported "
                 "it; ε spent: the most a device reported spent, after a release, on the samples it held (the server "
                 "clears them every round). Entropy: the source of the devices' noise key; under an emulator it is the "
                 "server's own machine, so a floor there is a functional test, not a security claim "
                 "(docs/threat-model.md). Outcome: refused when the floor said no (E_FLOOR, E_BUDGET, E_ENTROPY).</p>")
    parts.append("</body></html>")
    (out / "report.html").write_text("".join(parts))
