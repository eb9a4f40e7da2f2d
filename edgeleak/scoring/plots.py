"""Pictures: original and reconstructed windows overlaid, channel by channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_overlay(original: np.ndarray, reconstruction: np.ndarray, channel_names: tuple[str, ...], title: str,
                 path: Path) -> Path:
    """One PNG: a panel per channel with the original (solid) and the reconstruction (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    channels = original.shape[1]
    fig, axes = plt.subplots(channels, 1, figsize=(8, 1.3 * channels + 0.6), sharex=True, squeeze=False)
    for c in range(channels):
        ax = axes[c, 0]
        ax.plot(original[:, c], color="#1f4e79", linewidth=1.4, label="original")
        ax.plot(reconstruction[:, c], color="#c0392b", linewidth=1.2, linestyle="--", label="reconstruction")
        ax.set_ylabel(channel_names[c] if c < len(channel_names) else f"ch{c}", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(loc="upper right", fontsize=7, ncol=2)
    axes[-1, 0].set_xlabel("time step", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
