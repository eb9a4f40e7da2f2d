"""The trainable head: the float dense layers the device fine-tunes and the server averages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DenseLayer:
    """One float layer of the trainable head: ``y = W x + b``, W shaped ``(out, in)``."""

    weights: np.ndarray
    bias: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(in, out)``, as the artifact and model.json list head shapes."""
        out, inp = self.weights.shape
        return int(inp), int(out)
