"""Study configuration: which settings to run (the grid), on which board and data, with what budget.

A YAML file overrides the defaults; every key is documented in docs/study.md. The defaults tell the story:
no defense, clipping, clipping plus growing Gaussian noise, batches, several local steps, secure aggregation, and
head-only (imu_cnn) against all-dense (mlp) training; the full grid adds sparsification, encodings, DP-SGD and more.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edgeleak.core.model import DatasetSource
from edgeleak.errors import EdgeleakError
from edgeleak.privacy.floor import Floor
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify, TrainConfig


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One point of the grid: a model and a training configuration (with its defenses)."""

    name: str
    model: str
    config: TrainConfig
    samples_per_round: int
    floor: Floor | None = None  # the privacy floor its boards are built with; None: the study's
    aggregate: bool = False  # secure aggregation: the attacks see only the sum of each round's updates
    craft: str | None = None  # a malicious server that sends crafted weights ("imprint"); None: an honest model


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    board: str = "mps2-an386"
    dataset: str | DatasetSource = "basic_motions_other_wrist"  # the personalisation task of docs/study.md; or a file
    devices: int = 8
    rounds: int = 20
    participants: int = 4  # devices the server samples each round
    emulated_devices: int = 1  # devices on ``board``; the others run the same firmware core on ``stand_in``
    stand_in: str = "host"
    seeds: int = 3  # independent repetitions of every session (partition, sampling, device noise, attack starts)
    attacks: tuple[str, ...] = ("analytic", "labels", "llg_star", "ilrg", "exclusive_neurons", "feature_inversion",
                                "inverting_gradients", "inverting_gradients_from_analytic")
    crafted_attacks: tuple[str, ...] = ("imprint", "ilrg")  # the attacks on settings whose weights the server crafts
    optimization_records: int = 2  # records per setting for the slow optimization attacks
    base_epochs: int | None = None  # host training of the base model on the server's data; None: the zoo's full schedule
    settings: tuple[Setting, ...] = field(default_factory=tuple)
    seed: int = 0
    floor: Floor | None = None  # the privacy floor of every setting without its own (docs/training.md); None: none
    audit_canaries: int = 100  # rounds of the ε audit of each setting with noise on the update; 0: no audit

    def __post_init__(self) -> None:
        for key in ("devices", "rounds", "participants", "seeds"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise EdgeleakError(f"{key} must be a positive integer, got {value!r}")
        if self.participants > self.devices:
            raise EdgeleakError(f"participants ({self.participants}) cannot exceed devices ({self.devices})")
        if isinstance(self.emulated_devices, bool) or not isinstance(self.emulated_devices, int) \
                or not 0 <= self.emulated_devices <= self.devices:
            raise EdgeleakError(f"emulated_devices must be an integer from 0 to devices ({self.devices}), "
                                f"got {self.emulated_devices!r}")
        if isinstance(self.audit_canaries, bool) or not isinstance(self.audit_canaries, int) \
                or not (self.audit_canaries == 0 or self.audit_canaries >= 20):
            raise EdgeleakError(f"audit_canaries must be 0 (no audit) or an integer >= 20, got {self.audit_canaries!r}")

    def floor_of(self, setting: Setting) -> Floor | None:
        return setting.floor or self.floor


def _setting(name: str, model: str = "mlp", samples: int = 1, floor: Floor | None = None, aggregate: bool = False,
             craft: str | None = None, **train) -> Setting:
    base = {"learning_rate": 0.05, "batch_size": 1, "local_steps": 1}
    if craft not in (None, "imprint"):
        raise EdgeleakError(f"study setting {name!r}: unknown crafted weights {craft!r}; the server can craft: imprint")
    return Setting(name=name, model=model, config=TrainConfig(**{**base, **train}), samples_per_round=samples, floor=floor,
                   aggregate=aggregate, craft=craft)


CLIP_NORM = 1.0
"""Update clip norm of the grid: a fixed value, not read from the windows being protected (docs/study.md). It keeps the
updates of mistaken predictions, which carry the adaptation, nearly whole (lr 0.05 times a gradient of norm up to
about 20)."""


def _clip_noise(sigma: float) -> dict:
    return {"clip_mode": ClipMode.UPDATE, "clip_norm": CLIP_NORM, "noise_kind": NoiseKind.GAUSSIAN, "noise_multiplier": sigma}


def default_settings(grid: str) -> tuple[Setting, ...]:
    """The settings of the ``quick``, ``default`` or ``full`` grid (docs/study.md, "The grids")."""
    sigmas = {"quick": (0.3, 3.0), "default": (0.3, 1.0, 3.0),
              "full": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)}[grid]
    settings = [
        _setting("no-defense"),
        _setting(f"clip-{CLIP_NORM:g}", clip_mode=ClipMode.UPDATE, clip_norm=CLIP_NORM),
        *[_setting(f"clip-noise-{s:g}", **_clip_noise(s)) for s in sigmas],
        _setting("batch-4", samples=4, batch_size=4),
        _setting("steps-3", samples=1, local_steps=3),
        _setting("secure-aggregation", aggregate=True),
        _setting("head-only", model="imu_cnn"),
        _setting("imprint-batch-8", samples=8, batch_size=8, craft="imprint"),
        _setting("imprint-batch-8-clip-noise-1", samples=8, batch_size=8, craft="imprint", **_clip_noise(1.0)),
    ]
    if grid == "full":
        settings += [
            _setting("top-k-10%", sparsify=Sparsify.TOP_K, sparsify_fraction=0.1),
            _setting("int8-update", encoding=Encoding.INT8),
            _setting("secure-aggregation-clip-noise-0.3", aggregate=True, **_clip_noise(0.3)),
            _setting("batch-16", samples=16, batch_size=16),
            _setting("batch-4-steps-3", samples=4, batch_size=4, local_steps=3),
            _setting("dp-sgd-1.0", samples=4, batch_size=4, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=CLIP_NORM,
                     noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1.0, noise_mode=NoiseMode.STEP),
            _setting("head-only-clip-noise-0.1", model="imu_cnn", **_clip_noise(0.1)),
        ]
    return tuple(settings)


GRIDS = ("quick", "default", "full")


def default_study(grid: str) -> StudyConfig:
    if grid not in GRIDS:
        raise EdgeleakError(f"unknown grid {grid!r}; choose one of: {', '.join(GRIDS)}")
    if grid == "quick":
        return StudyConfig(rounds=4, seeds=2, optimization_records=1, settings=default_settings(grid))
    if grid == "default":
        return StudyConfig(optimization_records=1, settings=default_settings(grid))
    return StudyConfig(optimization_records=3, settings=default_settings(grid))


_ENUMS = {"clip_mode": ClipMode, "noise_kind": NoiseKind, "noise_mode": NoiseMode, "sparsify": Sparsify, "encoding": Encoding}
_TOP_KEYS = {"board", "dataset", "devices", "rounds", "attacks", "optimization_records", "settings", "seed", "quick",
             "base_epochs", "floor", "audit_canaries", "grid", "participants", "emulated_devices", "stand_in", "seeds",
             "crafted_attacks"}
_SETTING_KEYS = {"name", "model", "samples_per_round", "floor", "aggregate", "craft"} | {f.name for f in dataclasses.fields(TrainConfig)} - {"seed", "round"}


def _floor(raw: object, where: str) -> Floor | None:
    return None if raw is None else Floor.from_json(raw, where)


_DATASET_KEYS = ("path", "window", "stride", "channels", "label_column", "subject_column", "time_column")


def _dataset(raw: object, path: Path) -> str | DatasetSource:
    """``dataset:`` a packaged name, a file (relative to the config file's folder), or a mapping with ``path`` and
    the CSV windowing options (docs/data-format.md)."""
    from edgeleak.data.spec import CsvOptions, file_format, source_for

    if isinstance(raw, str):
        return source_for(raw, base=path.parent) if file_format(raw) else raw
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise EdgeleakError(f"study config {path}: dataset must be a data set name, a file, or a mapping with a path")
    unknown = sorted(set(raw) - set(_DATASET_KEYS))
    if unknown:
        raise EdgeleakError(f"study config {path}: dataset has unknown keys {', '.join(unknown)}; "
                            f"known: {', '.join(_DATASET_KEYS)}")
    channels = raw.get("channels")
    if isinstance(channels, str):
        channels = tuple(c.strip() for c in channels.split(","))
    options = CsvOptions(window=raw.get("window"), stride=raw.get("stride"),
                         channels=tuple(str(c) for c in channels) if channels is not None else None,
                         label_column=raw.get("label_column"), subject_column=raw.get("subject_column"),
                         time_column=raw.get("time_column"))
    return source_for(raw["path"], options, base=path.parent)


def _parse_setting(raw: dict, index: int) -> Setting:
    if not isinstance(raw, dict) or "name" not in raw:
        raise EdgeleakError(f"study settings[{index}] needs a name")
    unknown = set(raw) - _SETTING_KEYS
    if unknown:
        raise EdgeleakError(f"study setting {raw['name']!r} has unknown keys: {', '.join(sorted(unknown))}")
    train = {}
    for key, value in raw.items():
        if key in ("name", "model", "samples_per_round", "floor", "aggregate", "craft"):
            continue
        if key in _ENUMS:
            try:
                value = _ENUMS[key][str(value).upper().replace("-", "_")]
            except KeyError:
                raise EdgeleakError(f"study setting {raw['name']!r}: {key} {value!r} is not one of "
                                    f"{', '.join(m.name.lower() for m in _ENUMS[key])}") from None
        train[key] = value
    return _setting(raw["name"], raw.get("model", "mlp"), int(raw.get("samples_per_round", 1)),
                    floor=_floor(raw.get("floor"), f"study setting {raw['name']!r}: floor"),
                    aggregate=bool(raw.get("aggregate", False)), craft=raw.get("craft"), **train)


def load_study_config(path: Path | None, grid: str = "default") -> StudyConfig:
    """The defaults of ``grid``, overridden by a YAML file's keys (``grid: quick|default|full`` picks the base)."""
    base = default_study(grid)
    if path is None:
        return base
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise EdgeleakError(f"cannot read study config {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise EdgeleakError(f"study config {path} is not valid YAML") from None
    if not isinstance(raw, dict):
        raise EdgeleakError(f"study config {path} must be a mapping")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise EdgeleakError(f"study config {path} has unknown keys: {', '.join(sorted(unknown))}")
    if "quick" in raw:
        base = default_study("quick" if raw["quick"] else "default")
    if "grid" in raw:
        base = default_study(str(raw["grid"]))
    updates = {k: v for k, v in raw.items() if k not in ("settings", "quick", "grid")}
    for key in ("attacks", "crafted_attacks"):
        if key in updates:
            updates[key] = tuple(updates[key])
    if "floor" in updates:
        updates["floor"] = _floor(updates["floor"], f"study config {path}: floor")
    if "dataset" in updates:
        updates["dataset"] = _dataset(updates["dataset"], path)
    if "settings" in raw:
        updates["settings"] = tuple(_parse_setting(s, i) for i, s in enumerate(raw["settings"]))
    try:
        return dataclasses.replace(base, **updates)
    except TypeError as exc:
        raise EdgeleakError(f"study config {path}: {exc}") from None
