"""The CI gate: check a study or a capture against a leakage policy (docs/audit.md)."""

from __future__ import annotations

import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml

from edgeleak.errors import EdgeleakError, NotApplicable

POLICY_KEYS = {
    "max_pearson_r": "no reconstruction may correlate more than this with its original",
    "max_label_accuracy": "label recovery no better than this",
    "max_epsilon": "ε at δ = 1e-5 over the rounds run",
    "max_success_rate": "share of records reconstructed with r >= 0.8",
    "min_accuracy": "held-out accuracy of the trained model at least this (study targets)",
    "settings": "study targets: the settings the policy applies to (default: all)",
}


@dataclass(frozen=True)
class Policy:
    max_pearson_r: float | None = None
    max_label_accuracy: float | None = None
    max_epsilon: float | None = None
    max_success_rate: float | None = None
    min_accuracy: float | None = None
    settings: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Measured:
    """What the gate compares with the policy, for one setting or capture."""

    name: str
    pearson_r: float
    label_accuracy: float
    epsilon: float
    success_rate: float
    accuracy: float | None
    audit_violation: str = ""  # the audited ε exceeds the accounted ε: always a violation, whatever the policy


def load_policy(path: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise EdgeleakError(f"cannot read policy {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise EdgeleakError(f"policy {path} is not valid YAML") from None
    if not isinstance(raw, dict) or not raw:
        raise EdgeleakError(f"policy {path} must be a mapping of thresholds ({', '.join(POLICY_KEYS)})")
    unknown = set(raw) - set(POLICY_KEYS)
    if unknown:
        raise EdgeleakError(f"policy {path} has unknown keys: {', '.join(sorted(unknown))}; known: {', '.join(POLICY_KEYS)}")
    values = {}
    for key, value in raw.items():
        if key == "settings":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise EdgeleakError(f"policy {path}: settings must be a list of setting names")
            values[key] = tuple(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EdgeleakError(f"policy {path}: {key} must be a number, got {value!r}")
        else:
            values[key] = float(value)
    return Policy(**values)


def _from_study(target: Path, policy: Policy) -> list[Measured]:
    from edgeleak.scoring.leakage import label_leakage, leakage
    from edgeleak.study.results import read_results

    try:
        results = read_results((target / "results.json").read_text())
    except (KeyError, TypeError, ValueError) as exc:
        raise EdgeleakError(f"{target / 'results.json'} is not a study's results ({type(exc).__name__}: {exc})") from None
    names = [r.name for r in results]
    if policy.settings:
        missing = [s for s in policy.settings if s not in names]
        if missing:
            raise EdgeleakError(f"the study in {target} has no setting {', '.join(missing)}")
        results = [r for r in results if r.name in policy.settings]
    # A setting the devices' floor refused released nothing: there is nothing to hold against the policy.
    from edgeleak.study.report_audit import audit_violations

    audit = {line.split(": ", 1)[0]: line for line in audit_violations(results)}
    return [Measured(r.name, leakage(r), label_leakage(r), r.epsilon, r.measured_success, r.accuracy_after,
                     audit.get(r.name, "")) for r in results if not r.refused]


def _from_capture(target: Path) -> list[Measured]:
    from edgeleak.attacks.runner import run_attack
    from edgeleak.capture.records import CaptureWarning
    from edgeleak.capture.store import load_capture
    from edgeleak.privacy.accounting import privacy_spend
    from edgeleak.train.config import TrainConfig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureWarning)
        capture = load_capture(target)
    try:
        config = TrainConfig.from_dict(capture.session["config"])
    except (KeyError, ValueError, TypeError):
        raise EdgeleakError(f"{target / 'session.json'} has no valid training configuration") from None
    pearson = label = success = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for attack in ("analytic", "labels"):
            try:
                run = run_attack(target, attack, Path(tmp) / attack)
            except NotApplicable:
                continue
            values = [s.pearson for s in run.scores if s.pearson == s.pearson]
            pearson = max([pearson, *values])
            label = max(label, run.summary.label_accuracy[0] if run.summary.label_accuracy[0] == run.summary.label_accuracy[0] else 0.0)
            success = max(success, run.summary.success_rate)
    shapes = capture.session["head_shapes"]
    params = sum(i * o + o for i, o in shapes)
    per_round = max(u.meta.samples for u in capture.updates) if capture.updates else 1
    spend = privacy_spend(config, rounds=len(capture.globals), samples_per_round=per_round, parameters=params)
    return [Measured(target.name, pearson, label, spend.epsilon, success, None)]


def measure_target(target: Path, policy: Policy) -> list[Measured]:
    if (target / "results.json").exists():
        return _from_study(target, policy)
    if (target / "session.json").exists():
        return _from_capture(target)
    raise EdgeleakError(f"{target} is neither a study (no results.json) nor a capture (no session.json)")


def violations(policy: Policy, measured: list[Measured]) -> list[str]:
    """One line per threshold crossed."""
    found = []
    for m in measured:
        if m.audit_violation:
            found.append(m.audit_violation)
        checks = [("max_pearson_r", m.pearson_r, "reconstruction Pearson r", False),
                  ("max_label_accuracy", m.label_accuracy, "label accuracy", False),
                  ("max_epsilon", m.epsilon, "epsilon", False),
                  ("max_success_rate", m.success_rate, "reconstruction success rate", False),
                  ("min_accuracy", m.accuracy, "model accuracy", True)]
        for key, value, what, is_min in checks:
            limit = getattr(policy, key)
            if limit is None or value is None:
                continue
            crossed = value < limit if is_min else value > limit
            if crossed:
                shown = "∞" if math.isinf(value) else f"{value:.3f}"
                found.append(f"{m.name}: {what} {shown} {'<' if is_min else '>'} {key} {limit:g}")
    return found
