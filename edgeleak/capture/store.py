"""A capture directory: what an honest-but-curious server kept of a federated session.

    CAPTURE/session.json   the session: model, boards, configuration, partition (written once, atomically)
    CAPTURE/updates.elc    records: the global weights of every round, and every update exactly as decoded (behind
                           secure aggregation: each round's sum instead), and events such as a board left out
    CAPTURE/truth.elc      replay mode only: the samples and labels each device trained on (scorers read it;
                           attacks never do)
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeleak import strict_json
from edgeleak.capture.records import RecordWriter, read_records
from edgeleak.errors import EdgeleakError
from edgeleak.train.update import Update, UpdateMeta

SESSION_FILE = "session.json"
UPDATES_FILE = "updates.elc"
TRUTH_FILE = "truth.elc"


@dataclass(frozen=True)
class CapturedUpdate:
    """One update as the server received it, with where it came from."""

    device: int
    board: str
    firmware_version: str
    model_hash: str
    received_at: float
    meta: UpdateMeta
    tensors: tuple[np.ndarray, ...]  # decoded, dense, per tensor (W0, b0, W1, b1, ...)
    sent: tuple[np.ndarray, ...]  # bool masks of the coordinates the device sent

    @property
    def round(self) -> int:
        return self.meta.round


ENTROPY_SOURCES = {0: "weak fallback", 1: "hardware RNG", 2: "operating system", 3: "emulator host"}
"""INFO's entropy source of the PRNG key (docs/protocol.md); 3 means the server's own machine (QEMU)."""

PRIVACY_FIELDS = ("sensitivity_units", "noise_units", "grid_exponent", "compositions", "rho_total", "epsilon_total",
                  "floor_enforced")
"""UPDATE metadata of protocol version 2; captures written before it lack them: read as None (unknown)."""
FLOAT_FIELDS = ("learning_rate", "momentum", "clip_norm", "noise_multiplier", "sparsify_fraction", "pre_clip_norm", "loss")
"""Float metadata written as null when not finite (strict JSON), read back as nan."""


@dataclass(frozen=True)
class DeviceReport:
    """What one device's INFO said when the session opened it. None: unknown (a capture written before
    edgeleak recorded it, or firmware of protocol version 1)."""

    device: int
    board: str
    firmware_version: str
    boot_id: int | None = None
    testing_build: bool | None = None
    floor_epsilon: float | None = None  # ε_max of the device's budget; 0: no floor
    floor_delta: float | None = None  # the δ at which the device reports ε
    floor_valid: bool | None = None  # False: the build's floor constants are invalid and it refuses every TRAIN
    entropy_source: int | None = None  # ENTROPY_SOURCES
    rho_spent: float | None = None  # on the samples stored when opened (inf: unbounded)
    epsilon_spent: float | None = None
    max_round_work: int | None = None

    @classmethod
    def from_info(cls, device: int, info) -> "DeviceReport":
        """From a ``DeviceInfo``; fields a protocol-1 device does not report stay unknown."""
        def field(name, cast):
            value = getattr(info, name, None)
            return None if value is None else cast(value)
        return cls(device=device, board=info.board, firmware_version=info.firmware_version, boot_id=info.boot_id,
                   testing_build=field("testing_build", bool), floor_epsilon=field("floor_epsilon", float),
                   floor_delta=field("floor_delta", float), floor_valid=field("floor_valid", bool),
                   entropy_source=field("entropy_source", int), rho_spent=field("rho_spent", float),
                   epsilon_spent=field("epsilon_spent", float), max_round_work=field("max_round_work", int))

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> "DeviceReport":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    @property
    def entropy(self) -> str:
        """The entropy source in words ("unknown" when not reported)."""
        if self.entropy_source is None:
            return "unknown"
        return ENTROPY_SOURCES.get(self.entropy_source, f"source {self.entropy_source}")


@dataclass(frozen=True)
class GlobalWeights:
    round: int
    tensors: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class TruthRecord:
    device: int
    round: int
    inputs: np.ndarray  # (n, *window) int8 exactly as sent
    windows: np.ndarray  # (n, steps, channels) float32 before quantization
    labels: np.ndarray  # (n,) int64


@dataclass(frozen=True)
class CapturedAggregate:
    """A round's sum of updates as a server behind secure aggregation receives it (no single update)."""

    round: int
    devices: tuple[int, ...]
    meta: UpdateMeta  # the configuration the server sent; samples: all devices'; the devices' own figures NaN
    tensors: tuple[np.ndarray, ...]  # the sum, dense, per tensor


@dataclass(frozen=True)
class Capture:
    path: Path
    session: dict
    globals: dict[int, GlobalWeights]
    updates: tuple[CapturedUpdate, ...]
    aggregates: tuple[CapturedAggregate, ...] = ()  # secure aggregation: the server's only view of the updates

    def device_reports(self) -> tuple[DeviceReport, ...]:
        """What each device's INFO reported at the start of the session; every field unknown (None) in a
        capture written before edgeleak recorded it."""
        recorded = self.session.get("device_info")
        if isinstance(recorded, list):
            return tuple(DeviceReport.from_json(r) for r in recorded)
        firmware = {u.device: u.firmware_version for u in self.updates}
        boards = {u.device: u.board for u in self.updates}
        count = self.session.get("devices") or (max(firmware) + 1 if firmware else 0)
        return tuple(DeviceReport(device=k, board=boards.get(k, str(self.session.get("board", "?"))),
                                  firmware_version=firmware.get(k, "?")) for k in range(int(count)))

    def truth(self) -> list[TruthRecord]:
        """The ground truth (replay mode); for scorers, never for attacks."""
        path = self.path / TRUTH_FILE
        if not path.exists():
            raise EdgeleakError(f"{self.path} has no ground truth ({TRUTH_FILE}); pass --truth or capture in replay mode")
        return [TruthRecord(r.meta["device"], r.meta["round"], r.arrays["inputs"], r.arrays["windows"], r.arrays["labels"])
                for r in read_records(path, "truth")]


def _write_json_atomic(path: Path, content: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(strict_json.dumps(content, indent=2, sort_keys=True))
    tmp.replace(path)


class CaptureWriter:
    """Appends to a capture; creates it with its session description if new."""

    def __init__(self, path: Path, session: dict, *, fsync: bool = True) -> None:
        path.mkdir(parents=True, exist_ok=True)
        existing = path / SESSION_FILE
        if existing.exists():
            previous = json.loads(existing.read_text())
            if previous.get("model_hash") != session.get("model_hash"):
                raise EdgeleakError(f"{path} holds a capture of another model; choose a new --out")
        else:
            _write_json_atomic(existing, session)
        self.path = path
        self._updates = RecordWriter(path / UPDATES_FILE, "updates", fsync=fsync)
        self._truth: RecordWriter | None = None
        self._fsync = fsync

    def add_global(self, round_: int, params: list[np.ndarray]) -> None:
        self._updates.append({"type": "global", "round": round_},
                             {f"t{k}": np.asarray(p, np.float32) for k, p in enumerate(params)})

    def add_update(self, *, device: int, board: str, firmware_version: str, model_hash: str, update: Update) -> None:
        meta = _meta_json(update.meta)
        arrays = {}
        for t in update.tensors:
            arrays[f"t{t.index}"] = t.values
            arrays[f"m{t.index}"] = t.sent
        self._updates.append({"type": "update", "device": device, "board": board, "firmware_version": firmware_version,
                              "model_hash": model_hash, "received_at": time.time(), "payload_bytes": update.payload_bytes,
                              "meta": meta}, arrays)

    def add_aggregate(self, *, round_: int, devices: list[int], tensors: list[np.ndarray], meta: UpdateMeta) -> None:
        """What a server behind secure aggregation receives for a round: the sum of the devices' updates (dense, per
        tensor), which devices it covers, and the metadata the server knows itself (the configuration it sent; the
        devices' own figures, such as their loss, stay hidden: NaN)."""
        self._updates.append({"type": "aggregate", "round": round_, "devices": list(devices), "received_at": time.time(),
                              "meta": _meta_json(meta)},
                             {f"t{k}": np.asarray(t, np.float32) for k, t in enumerate(tensors)})

    def add_truth(self, *, device: int, round_: int, inputs: np.ndarray, windows: np.ndarray, labels: np.ndarray) -> None:
        if self._truth is None:
            self._truth = RecordWriter(self.path / TRUTH_FILE, "truth", fsync=self._fsync)
        self._truth.append({"device": device, "round": round_},
                           {"inputs": inputs.astype(np.int8), "windows": windows.astype(np.float32), "labels": labels.astype(np.int64)})

    def add_event(self, kind: str, *, round_: int, **fields) -> None:
        """Something the server noticed in a round, e.g. a board of a fleet that did not answer (``failure``);
        readers that do not know an event skip it."""
        self._updates.append({"type": "event", "event": kind, "round": round_, **fields}, {})

    def close(self) -> None:
        self._updates.close()
        if self._truth is not None:
            self._truth.close()

    def __enter__(self) -> "CaptureWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _meta_json(meta: UpdateMeta) -> dict:
    return {k: (int(v) if isinstance(v, (bool, np.integer)) or hasattr(v, "value") else v)
            for k, v in dataclasses.asdict(meta).items()}


def _tensors(arrays: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, ...]:
    keys = sorted((k for k in arrays if k.startswith(prefix)), key=lambda k: int(k[len(prefix):]))
    return tuple(arrays[k] for k in keys)


def load_capture(path: Path) -> Capture:
    """Load a capture (also while it is being written); torn records are skipped with a warning."""
    from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify

    if not (path / SESSION_FILE).exists() or not (path / UPDATES_FILE).exists():
        raise EdgeleakError(f"{path} is not a capture (no {SESSION_FILE} or {UPDATES_FILE})")
    try:
        session = json.loads((path / SESSION_FILE).read_text())
    except json.JSONDecodeError:
        raise EdgeleakError(f"{path / SESSION_FILE} is not valid JSON") from None
    enums = {"clip_mode": ClipMode, "noise_kind": NoiseKind, "noise_mode": NoiseMode, "sparsify": Sparsify, "encoding": Encoding}
    fields = {f.name for f in dataclasses.fields(UpdateMeta)}
    unknown = {name: None for name in PRIVACY_FIELDS if name in fields}

    def meta_value(key, value, raw):
        if value is None and key in ("rho_total", "epsilon_total") and raw.get("sensitivity_units") is not None:
            return math.inf  # a protocol-2 release without accountable noise: written as null, unbounded
        if value is None and key in FLOAT_FIELDS:
            return math.nan  # not finite on the device (e.g. a loss under hostile weights)
        if value is None:
            return None
        if key in enums:
            return enums[key](value)
        return bool(value) if key in ("seeded", "floor_enforced") else value

    globals_: dict[int, GlobalWeights] = {}
    updates, aggregates = [], []
    def update_meta(raw: dict) -> UpdateMeta:
        return UpdateMeta(**{**unknown, **{k: meta_value(k, v, raw) for k, v in raw.items() if k in fields}})

    for record in read_records(path / UPDATES_FILE, "updates"):
        kind = record.meta.get("type")
        if kind == "global":
            globals_[record.meta["round"]] = GlobalWeights(record.meta["round"], _tensors(record.arrays, "t"))
        elif kind == "update":
            updates.append(CapturedUpdate(
                device=record.meta["device"], board=record.meta["board"], firmware_version=record.meta["firmware_version"],
                model_hash=record.meta["model_hash"], received_at=record.meta["received_at"],
                meta=update_meta(record.meta["meta"]), tensors=_tensors(record.arrays, "t"), sent=_tensors(record.arrays, "m")))
        elif kind == "aggregate":
            aggregates.append(CapturedAggregate(record.meta["round"], tuple(record.meta["devices"]),
                                                update_meta(record.meta["meta"]), _tensors(record.arrays, "t")))
    return Capture(path=path, session=session, globals=globals_, updates=tuple(updates), aggregates=tuple(aggregates))
