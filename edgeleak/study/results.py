"""The study's result types, and their one JSON form (docs/output-formats.md).

A ``SettingResult`` is one seed's result of one setting, or a setting's result over its seeds (``seeds`` > 1,
``edgeleak.study.seeds``); the report, the audit gate and the command line read these types, and ``to_json`` /
``from_json`` are the only place that knows how they are written: strict JSON, where ``null`` is ∞ for the ε fields
and "not measured" for the other figures.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from edgeleak import strict_json
from edgeleak.attacks.inference import InferenceResult
from edgeleak.privacy.audit_math import GdpEstimate, OneRun
from edgeleak.privacy.canary_audit import AuditResult

NAN = float("nan")
Interval = tuple[float, float]


@dataclass(frozen=True)
class AttackResult:
    """One attack on a setting's capture(s). Leakage is per window: ``windows`` true windows behind the records it
    reconstructed windows for, ``window_successes`` of them at r >= SUCCESS_PEARSON; the typical window's r
    (``median_pearson``) and the worst case (``worst_pearson``), each with its interval in ``intervals``."""

    attack: str
    records: int  # 0: not applicable (``not_applicable`` says why)
    success_rate: float  # per record (the mean r over a batch reaches the threshold)
    success_interval: Interval
    pearson: float
    max_pearson: float
    label_accuracy: float
    feature_error: float
    seconds_per_record: float
    not_applicable: str = ""  # why the attack did not run ("" when it ran)
    label_baseline: float = NAN  # the best blind guess's label accuracy for the same batches
    windows: int = 0
    window_successes: int = 0
    window_success_rate: float = 0.0
    window_success_interval: Interval = (0.0, 1.0)
    median_pearson: float = NAN
    worst_pearson: float = NAN
    seeds: int = 1
    window_success_lower: float = 0.0  # one-sided 95% lower bound, Bonferroni over the attacks (over seeds)
    windows_r90: int = 0  # of ``windows``, reconstructed at r >= 0.9
    windows_exact: int = 0  # of ``windows``, reconstructed exactly (r >= 0.999)
    intervals: dict[str, Interval] = field(default_factory=dict)  # 95%: over windows (one seed) or over seeds

    @property
    def ran(self) -> bool:
        return self.records > 0


@dataclass(frozen=True)
class Enforcement:
    """What the setting's devices enforced, as they reported it; None: unknown (firmware before protocol 2)."""

    build_floor: dict | None  # the floor the firmware was built with ({"epsilon", "delta"}); None: none
    floor_epsilon: float | None  # ε_max the devices report (0: no floor)
    floor_delta: float | None
    entropy: str | None  # the PRNG key's source ("emulator host" under QEMU: a functional test only)
    testing_build: bool | None
    epsilon_spent: float | None  # the most ε any device reported spent after a release, on the samples it held
    refused: str  # the device's refusal ("E_BUDGET: ..."), "" when every round ran


@dataclass(frozen=True)
class SettingResult:
    name: str
    model: str
    classes: int
    config: dict  # the training configuration, enums in lower case
    accuracy_before: float
    accuracy_after: float
    epsilon: float  # per window over releases_per_window releases (PLD), at delta
    epsilon_rdp: float
    delta: float
    privacy_unit: str
    kappa: float  # the best fixed guess's success
    rero_bound: float
    measured_success: float  # the best attack's per-window success rate
    bound_violated: bool  # a success's one-sided lower bound (Bonferroni over the attacks) above the bound
    attacks: tuple[AttackResult, ...]
    seconds: float
    examples: dict  # attack -> path of an example plot, relative to the study's folder
    enforced: Enforcement | None = None
    epsilon_audit: AuditResult | None = None  # the audit of the devices' ε for one release (None: not audited)
    measured_success_lower: float = 0.0
    seed: int = 0
    epsilon_user: float = math.inf  # per user (device) over the rounds it took part in; ∞: not accounted
    releases_per_window: int = 0  # the most updates any one window was in
    participations: int = 0  # the most rounds any one device took part in
    boards: dict = field(default_factory=dict)  # board name -> devices on it
    aggregate: bool = False  # the attacks saw only each round's sum (secure aggregation)
    crafted: str | None = None  # the server sent crafted weights ("imprint") instead of its model
    inference: tuple[InferenceResult, ...] = ()  # what the server inferred about the wearers (activity mix, identity)
    seeds: int = 1
    accuracy_gain: float = NAN
    intervals: dict[str, Interval] = field(default_factory=dict)  # 95% over seeds, per figure

    @property
    def refused(self) -> str:
        """The devices' refusal under their privacy floor ("" when the setting ran)."""
        return self.enforced.refused if self.enforced else ""


INFINITE_KEYS = ("epsilon", "epsilon_rdp", "accounted_epsilon", "twin_epsilon", "epsilon_lower",
                 "epsilon_user")  # null in the files: unbounded (``enforced.epsilon_spent``: null is unknown)
MISSING_KEYS = ("accuracy_before", "accuracy_after", "accuracy_gain", "kappa", "rero_bound", "measured_success",
                "seconds", "success_rate", "success_interval", "pearson", "max_pearson", "label_accuracy",
                "label_baseline", "feature_error", "seconds_per_record", "median_pearson", "worst_pearson")
# null in the files: not measured


def to_json(result: SettingResult) -> dict:
    """The result as strict-JSON-ready data (non-finite floats become None; the audit carries ``violated``)."""
    raw = dataclasses.asdict(result)
    if result.epsilon_audit is not None:
        raw["epsilon_audit"] = result.epsilon_audit.to_json()
    return strict_json.finite_or_none(raw)


def dumps(result: SettingResult) -> str:
    return strict_json.dumps(to_json(result), indent=2)


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _typed(cls, raw: dict, **nested):
    """``cls`` from ``raw``, ignoring keys it does not have (older or newer files), lists as tuples."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: _tuple(v) for k, v in raw.items() if k in names}
    if "intervals" in values:
        values["intervals"] = {k: tuple(v) for k, v in (raw["intervals"] or {}).items()}
    return cls(**{**values, **nested})


def _attack_from_json(raw: dict) -> AttackResult:
    median = raw.get("median_pearson", NAN)
    intervals = dict(raw.get("intervals") or {})
    if isinstance(median, (list, tuple)):  # one seed's scores.json summary form: [median, low, high]
        median, intervals = median[0], {**intervals, "median_pearson": tuple(median[1:])}
    return _typed(AttackResult, {**raw, "median_pearson": median, "intervals": intervals})


def inference_from_json(raw: dict) -> InferenceResult:
    return _typed(InferenceResult, {**raw, **{k: NAN for k in ("accuracy", "chance") if raw.get(k) is None}})


def audit_from_json(raw: dict) -> AuditResult:
    return _typed(AuditResult, raw, one_run=_typed(OneRun, raw["one_run"]), gdp=_typed(GdpEstimate, raw["gdp"]))


def from_json(raw: dict) -> SettingResult:
    """A result as ``to_json`` wrote it (or as read back from a file: None restored by ``restore`` first)."""
    raw = strict_json.restore(raw, infinite=INFINITE_KEYS, missing=MISSING_KEYS)
    return _typed(SettingResult, raw,
                  attacks=tuple(_attack_from_json(a) for a in raw.get("attacks", ())),
                  enforced=_typed(Enforcement, raw["enforced"]) if raw.get("enforced") else None,
                  epsilon_audit=audit_from_json(raw["epsilon_audit"]) if raw.get("epsilon_audit") else None,
                  inference=tuple(inference_from_json(i) for i in raw.get("inference") or ()))


def read_result(text: str) -> SettingResult:
    """A setting's result file (strict JSON)."""
    return from_json(json.loads(text))


def read_results(text: str) -> list[SettingResult]:
    """The settings of a study's results.json."""
    return [from_json(r) for r in json.loads(text)["settings"]]
