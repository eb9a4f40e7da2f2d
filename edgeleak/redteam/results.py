"""Typed records of a red-team run: what the device said about itself, and one result per attack."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Union

from edgeleak.link.messages import DeviceInfo

FigureValue = Union[float, int, bool, str, None]

ENTROPY_SOURCES = {0: "weak fallback (timers)", 1: "hardware RNG", 2: "operating system", 3: "emulator host"}


@dataclass(frozen=True)
class DeviceFacts:
    """INFO as the red team reads it. ``None``: the device does not report the field (protocol version 1)."""

    board: str
    firmware_version: str
    protocol_version: int
    model_hash: str
    boot_id: int
    trainable_params: int
    max_samples: int
    floor_epsilon: float | None  # 0: no floor
    floor_delta: float | None
    floor_valid: bool | None
    testing_build: bool | None
    entropy_source: int | None
    rho_spent: float | None
    epsilon_spent: float | None
    max_round_work: int | None

    @classmethod
    def from_info(cls, info: DeviceInfo) -> "DeviceFacts":
        known = lambda name: getattr(info, name, None)  # noqa: E731  (fields of protocol version 2)
        source = known("entropy_source")
        return cls(board=info.board, firmware_version=info.firmware_version, protocol_version=info.protocol_version,
                   model_hash=info.model_hash, boot_id=info.boot_id, trainable_params=info.trainable_params,
                   max_samples=info.max_samples, floor_epsilon=known("floor_epsilon"), floor_delta=known("floor_delta"),
                   floor_valid=known("floor_valid"), testing_build=known("testing_build"),
                   entropy_source=None if source is None else int(source), rho_spent=known("rho_spent"),
                   epsilon_spent=known("epsilon_spent"), max_round_work=known("max_round_work"))

    @property
    def floored(self) -> bool:
        return bool(self.floor_epsilon) and self.floor_epsilon > 0

    @property
    def entropy_name(self) -> str:
        if self.entropy_source is None:
            return "not reported"
        return ENTROPY_SOURCES.get(self.entropy_source, f"unknown source {self.entropy_source}")


@dataclass(frozen=True)
class Figure:
    """One measured value of an attack: a name, a value (``None`` when undefined or not measured), a unit."""

    name: str
    value: FigureValue
    unit: str = ""


@dataclass(frozen=True)
class Outcome:
    """What one attack found.

    ``stopped`` is the verdict: True when the device refused the attack, or when what came back carries nothing
    the attacker can use by the attack's criterion (docs/redteam.md). ``error`` names the error code that stopped
    it, if one did. ``evidence`` is one line for people; ``figures`` are the numbers behind it."""

    tried: str
    stopped: bool
    evidence: str
    error: str | None = None
    figures: tuple[Figure, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class AttackResult:
    number: int
    name: str
    title: str
    outcome: Outcome

    @property
    def stopped(self) -> bool:
        return self.outcome.stopped

    def figure(self, name: str) -> FigureValue:
        for f in self.outcome.figures:
            if f.name == name:
                return f.value
        raise KeyError(f"attack {self.name} has no figure {name!r}")


@dataclass(frozen=True)
class ReplayMode:
    """The samples the red team stored itself so it can score what it gets back."""

    samples: int
    seed: int
    source: str = "random int8 windows"


@dataclass(frozen=True)
class RedteamReport:
    device: DeviceFacts
    board: str
    model_path: str
    replay: ReplayMode
    results: tuple[AttackResult, ...] = field(default_factory=tuple)

    @property
    def all_stopped(self) -> bool:
        return all(r.stopped for r in self.results)

    @property
    def succeeded(self) -> tuple[AttackResult, ...]:
        return tuple(r for r in self.results if not r.stopped)


def json_value(value: FigureValue) -> FigureValue:
    """A figure as strict JSON: numpy scalars become Python ones, NaN and infinities null."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
