"""Attacks by name. An attack is a function of an AttackContext returning an Outcome; registering it is one
decorator in its module, and importing :func:`all_attacks` imports every module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from edgeleak.errors import EdgeleakError

if TYPE_CHECKING:
    from edgeleak.redteam.context import AttackContext
    from edgeleak.redteam.results import Outcome


@dataclass(frozen=True)
class AttackSpec:
    number: int  # the order of the report
    name: str
    title: str
    run: Callable[["AttackContext"], "Outcome"]


ATTACKS: dict[str, AttackSpec] = {}


def register(number: int, name: str, title: str) -> Callable:
    """Function decorator: make an attack available by ``name``, reported in position ``number``."""
    def wrap(run):
        if name in ATTACKS:
            raise ValueError(f"attack {name!r} is registered twice")
        ATTACKS[name] = AttackSpec(number, name, title, run)
        return run
    return wrap


def all_attacks() -> list[AttackSpec]:
    from edgeleak.redteam import budget, crafted, mechanism, metadata, state  # noqa: F401  (each registers its attacks)

    return sorted(ATTACKS.values(), key=lambda spec: spec.number)


def select_attacks(names: tuple[str, ...]) -> list[AttackSpec]:
    """The attacks named (all when none), in report order; an unknown name is a user error."""
    specs = all_attacks()
    if not names:
        return specs
    unknown = [n for n in names if n not in ATTACKS]
    if unknown:
        raise EdgeleakError(f"unknown attack {unknown[0]!r}; choose from: {', '.join(s.name for s in specs)}")
    return [s for s in specs if s.name in names]
