"""Importing this module registers every attack (one module each)."""

from edgeleak.attacks import (analytic, dlg, exclusive, feature_inversion, imprint, inverting_gradients,  # noqa: F401
                              label_counts, labels)
