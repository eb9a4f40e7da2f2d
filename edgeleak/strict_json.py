"""Strict JSON for every file edgeleak writes: no ``Infinity`` or ``NaN`` tokens, which most JSON readers refuse.

A non-finite float is written as ``null``; the documented meaning of ``null`` for a field (ε unbounded, a figure
not measured) is the reader's to restore, e.g. with ``restore``."""

from __future__ import annotations

import json
import math
from typing import Any


def finite_or_none(value: Any) -> Any:
    """The same structure with every non-finite float replaced by None (numpy scalars become Python numbers)."""
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def dumps(value: Any, **kwargs) -> str:
    """``json.dumps`` of ``finite_or_none(value)`` with ``allow_nan=False``."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)


def restore(document: dict, *, infinite: tuple[str, ...] = (), missing: tuple[str, ...] = ()) -> dict:
    """Read back what ``dumps`` wrote: None becomes inf for the ``infinite`` keys and nan for the ``missing`` keys
    (also inside lists under those keys), at any depth of dicts and lists of dicts."""
    def value_of(key: str, value: Any) -> Any:
        if value is None and key in infinite:
            return math.inf
        if value is None and key in missing:
            return math.nan
        if isinstance(value, dict):
            return restore(value, infinite=infinite, missing=missing)
        if isinstance(value, list):
            return [value_of(key, v) if not isinstance(v, dict) else restore(v, infinite=infinite, missing=missing)
                    for v in value]
        return value

    return {key: value_of(key, value) for key, value in document.items()}
