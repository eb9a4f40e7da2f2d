"""Importing this module registers every attack (one module each)."""

from edgeleak.attacks import (analytic, dlg, exclusive, feature_inversion, inverting_gradients, label_counts,  # noqa: F401
                              labels)
