"""A capture directory: what an honest-but-curious server kept of a federated session.

    CAPTURE/session.json   the session: model, boards, configuration, partition (written once, atomically)
    CAPTURE/updates.elc    records: the global weights of every round, and every update exactly as decoded
    CAPTURE/truth.elc      replay mode only: the samples and labels each device trained on (scorers read it;
                           attacks never do)
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
class Capture:
    path: Path
    session: dict
    globals: dict[int, GlobalWeights]
    updates: tuple[CapturedUpdate, ...]

    def truth(self) -> list[TruthRecord]:
        """The ground truth (replay mode); for scorers, never for attacks."""
        path = self.path / TRUTH_FILE
        if not path.exists():
            raise EdgeleakError(f"{self.path} has no ground truth ({TRUTH_FILE}); pass --truth or capture in replay mode")
        return [TruthRecord(r.meta["device"], r.meta["round"], r.arrays["inputs"], r.arrays["windows"], r.arrays["labels"])
                for r in read_records(path, "truth")]


def _write_json_atomic(path: Path, content: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content, indent=2, sort_keys=True))
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
        meta = {k: (int(v) if isinstance(v, (bool, np.integer)) or hasattr(v, "value") else v)
                for k, v in dataclasses.asdict(update.meta).items()}
        arrays = {}
        for t in update.tensors:
            arrays[f"t{t.index}"] = t.values
            arrays[f"m{t.index}"] = t.sent
        self._updates.append({"type": "update", "device": device, "board": board, "firmware_version": firmware_version,
                              "model_hash": model_hash, "received_at": time.time(), "payload_bytes": update.payload_bytes,
                              "meta": meta}, arrays)

    def add_truth(self, *, device: int, round_: int, inputs: np.ndarray, windows: np.ndarray, labels: np.ndarray) -> None:
        if self._truth is None:
            self._truth = RecordWriter(self.path / TRUTH_FILE, "truth", fsync=self._fsync)
        self._truth.append({"device": device, "round": round_},
                           {"inputs": inputs.astype(np.int8), "windows": windows.astype(np.float32), "labels": labels.astype(np.int64)})

    def close(self) -> None:
        self._updates.close()
        if self._truth is not None:
            self._truth.close()

    def __enter__(self) -> "CaptureWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
    globals_: dict[int, GlobalWeights] = {}
    updates = []
    for record in read_records(path / UPDATES_FILE, "updates"):
        if record.meta.get("type") == "global":
            globals_[record.meta["round"]] = GlobalWeights(record.meta["round"], _tensors(record.arrays, "t"))
        elif record.meta.get("type") == "update":
            raw = record.meta["meta"]
            meta = UpdateMeta(**{k: (enums[k](v) if k in enums else (bool(v) if k == "seeded" else v)) for k, v in raw.items()})
            updates.append(CapturedUpdate(
                device=record.meta["device"], board=record.meta["board"], firmware_version=record.meta["firmware_version"],
                model_hash=record.meta["model_hash"], received_at=record.meta["received_at"], meta=meta,
                tensors=_tensors(record.arrays, "t"), sent=_tensors(record.arrays, "m")))
    return Capture(path=path, session=session, globals=globals_, updates=tuple(updates))
