"""Importing this module registers every attack (one module each)."""

from edgeleak.attacks import analytic, dlg, feature_inversion, inverting_gradients, labels  # noqa: F401
