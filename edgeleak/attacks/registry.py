"""Importing this module registers every attack (one module each)."""

from edgeleak.attacks import analytic, labels  # noqa: F401
