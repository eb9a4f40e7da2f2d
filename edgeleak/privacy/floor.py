"""The privacy floor a firmware build enforces: ε_max and δ of the budget the device keeps itself.

docs/training.md ("The privacy floor and the budget") is the specification; the floor reaches the firmware
as ``-DEL_FLOOR_EPSILON=<ε>`` and ``-DEL_FLOOR_DELTA=<δ>``. ``floor_problem`` is the one check of a floor's
values; ``check_build_flags`` applies it to compiler flags, however they were given, and refuses the
retired flags of the old clip/noise floor, so that no build silently goes without the floor it was asked for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable

from edgeleak.errors import EdgeleakError

DEFAULT_DELTA = 1e-5
"""δ when only ε is given (also the firmware's default)."""

MAX_DELTA = 1e-3
"""The largest δ accepted: above it (ε, δ) protects too little to call it a floor."""

EPSILON_FLAG = "EL_FLOOR_EPSILON"
DELTA_FLAG = "EL_FLOOR_DELTA"
RETIRED_FLAGS = ("EL_FLOOR_MAX_CLIP", "EL_FLOOR_MIN_NOISE")
"""The floor of protocol version 1 (a largest clip norm and a smallest σ); the firmware no longer reads them."""

_DEFINE = re.compile(r"^-D(EL_FLOOR_\w*)(?:=(.*))?$")
_C_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFlL]?$")


def floor_problem(epsilon: object, delta: object) -> str | None:
    """Why a floor (ε_max, δ) cannot be enforced, in one line; None when it can."""
    for name, value in (("epsilon", epsilon), ("delta", delta)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"the privacy floor's {name} must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"the privacy floor's {name} must be a finite number, got {value}"
    if epsilon <= 0:  # type: ignore[operator]
        return f"the privacy floor's epsilon must be > 0, got {epsilon:g} (build without a floor to have none)"
    if not 0 < delta <= MAX_DELTA:  # type: ignore[operator]
        return f"the privacy floor's delta must be in (0, {MAX_DELTA:g}], got {delta:g}"
    return None


@dataclass(frozen=True)
class Floor:
    """A privacy floor that can be enforced: ``0 < epsilon`` and ``0 < delta <= 1e-3``, both finite."""

    epsilon: float
    delta: float = DEFAULT_DELTA

    def __post_init__(self) -> None:
        problem = floor_problem(self.epsilon, self.delta)
        if problem:
            raise EdgeleakError(problem)
        object.__setattr__(self, "epsilon", float(self.epsilon))
        object.__setattr__(self, "delta", float(self.delta))

    def to_build_flags(self) -> tuple[str, str]:
        """The compiler flags that build the floor into the firmware (C double literals, exact round trip)."""
        return f"-D{EPSILON_FLAG}={self.epsilon!r}", f"-D{DELTA_FLAG}={self.delta!r}"

    def to_json(self) -> dict:
        return {"epsilon": self.epsilon, "delta": self.delta}

    @classmethod
    def from_json(cls, raw: object, where: str = "floor") -> "Floor":
        """``{"epsilon": E, "delta": D}`` (delta optional); anything else is refused naming ``where``."""
        if not isinstance(raw, dict) or "epsilon" not in raw or set(raw) - {"epsilon", "delta"}:
            raise EdgeleakError(f"{where} must be a mapping with epsilon and optionally delta, got {raw!r}")
        problem = floor_problem(raw["epsilon"], raw.get("delta", DEFAULT_DELTA))
        if problem:
            raise EdgeleakError(f"{where}: {problem}")
        return cls(raw["epsilon"], raw.get("delta", DEFAULT_DELTA))

    def describe(self) -> str:
        return f"epsilon_max {self.epsilon:g} at delta {self.delta:g}"


def resolve_floor(default: Floor | None, *, epsilon: float | None = None, delta: float | None = None,
                  disabled: bool = False) -> Floor | None:
    """The floor of a build: the one given (ε, with δ defaulting to 1e-5), else ``default`` (a board's floor,
    whose δ a given δ replaces); ``disabled`` builds without one. An unenforceable floor is refused."""
    if disabled:
        if epsilon is not None or delta is not None:
            raise EdgeleakError("a build without a floor takes no floor epsilon or delta")
        return None
    if epsilon is not None:
        return Floor(epsilon, DEFAULT_DELTA if delta is None else delta)
    if delta is not None:
        if default is None:
            raise EdgeleakError("a floor delta needs a floor epsilon (the board has no floor of its own)")
        return Floor(default.epsilon, delta)
    return default


def _flag_value(flag: str, name: str, value: str | None) -> float:
    if value is None or not _C_NUMBER.match(value):
        raise EdgeleakError(f"build flag {flag}: {name} needs a decimal number, e.g. -D{name}=8.0")
    return float(value.rstrip("fFlL"))


def check_build_flags(flags: Iterable[str]) -> Floor | None:
    """The floor that compiler flags set (None: no floor), checked as a floor given directly would be.

    Refused, with one line each: the retired ``EL_FLOOR_MAX_CLIP`` / ``EL_FLOOR_MIN_NOISE``, an unknown
    ``EL_FLOOR_*`` name, a floor flag given twice or without a number, δ without ε, and any floor
    ``floor_problem`` refuses (NaN, infinite, ε <= 0, δ outside (0, 1e-3])."""
    values: dict[str, float] = {}
    for flag in flags:
        for retired in RETIRED_FLAGS:
            if retired in flag:
                raise EdgeleakError(f"build flag {flag}: {retired} no longer exists; the floor is a privacy budget now, "
                                    f"give --floor-epsilon and --floor-delta (-D{EPSILON_FLAG}, -D{DELTA_FLAG})")
        match = _DEFINE.match(flag)
        if not match:
            continue
        name, value = match.group(1), match.group(2)
        if name not in (EPSILON_FLAG, DELTA_FLAG):
            raise EdgeleakError(f"build flag {flag}: unknown floor setting {name}; the floor is -D{EPSILON_FLAG} and -D{DELTA_FLAG}")
        if name in values:
            raise EdgeleakError(f"build flag {flag}: {name} is given twice")
        values[name] = _flag_value(flag, name, value)
    if not values:
        return None
    if EPSILON_FLAG not in values:
        raise EdgeleakError(f"build flag -D{DELTA_FLAG} without -D{EPSILON_FLAG} sets no floor; give the floor's epsilon")
    return Floor(values[EPSILON_FLAG], values.get(DELTA_FLAG, DEFAULT_DELTA))
