"""Attacks with crafted weights: the server sends an imprint module instead of its model (attacks/imprint.py) and
reads the stored windows back out of one batch update. Clipping scales every unit's delta alike and leaves the
bins readable; only noise on the update stops it, so the floor must insist on noise for any weights it loads."""

from __future__ import annotations

import numpy as np

from edgeleak.attacks.base import AttackInput
from edgeleak.attacks.imprint import bin_windows, craft_imprint
from edgeleak.attacks.targets import server_knowledge
from edgeleak.redteam.context import AttackContext, replay_windows
from edgeleak.redteam.registry import register
from edgeleak.redteam.results import Figure, Outcome
from edgeleak.train.config import ClipMode, NoiseKind, TrainConfig
from edgeleak.train.oracle import flatten_layers

RECOVERED_PEARSON = 0.9  # a stored window whose reconstruction reaches this r counts as read out
BIN_WINDOWS = 256  # windows of the samples' distribution the attacker places its bins on (not the samples)


def _recovered(truth: np.ndarray, found: np.ndarray) -> int:
    """Stored samples with a reconstruction at RECOVERED_PEARSON or better (Pearson r over the whole vector)."""
    count = 0
    for x in truth:
        rs = [np.corrcoef(x, y)[0, 1] for y in found if np.std(y) > 0]
        count += bool(rs) and max(rs) >= RECOVERED_PEARSON
    return count


def _variants(ctx: AttackContext) -> list[tuple[str, TrainConfig]]:
    plain = dict(learning_rate=0.1, batch_size=ctx.count, local_steps=1)
    return [("no clip, no noise", TrainConfig(**plain)),
            ("update clip C=1, no noise", TrainConfig(**plain, clip_mode=ClipMode.UPDATE, clip_norm=1.0)),
            *[(f"update clip C=1, Gaussian σ={s:g}", ctx.paced(noise_multiplier=s)) for s in (0.5, 1.0, 4.0)]]


@register(12, "imprint", "crafted weights: an imprint module reads stored windows out of one batch update")
def imprint(ctx: AttackContext) -> Outcome:
    if len(ctx.layers) != 2:
        return Outcome(tried="crafted weights", stopped=True,
                       evidence=f"not run: the imprint module needs a head of two dense layers, this one has "
                                f"{len(ctx.layers)}")
    knowledge = server_knowledge(ctx.model)
    decoys, _ = replay_windows(ctx.model.input_bytes, ctx.classes, BIN_WINDOWS, ctx.plan.seed + 1)
    from edgeleak.fl.features import cut_features

    evil = craft_imprint(ctx.layers, cut_features(ctx.model, decoys.reshape(len(decoys), *ctx.model.input_shape[1:])))
    params = np.concatenate(flatten_layers(list(evil)))
    parts, figures, leaked = [], [], False
    for label, config in _variants(ctx):
        ctx.fresh()
        ctx.client.load_weights(params)
        update, error = ctx.release(config)
        if update is None:
            parts.append(f"{label}: {error}")
            figures.append(Figure(f"recovered ({label})", None, "windows"))
            continue
        target = AttackInput(knowledge, evil, update.meta, tuple(t.values for t in update.tensors),
                             tuple(t.sent for t in update.tensors))
        found, _ = bin_windows(target)
        got = _recovered(ctx.features, found)
        leaked |= got > 0
        parts.append(f"{label}: {got} of {ctx.count} windows read out")
        figures.append(Figure(f"recovered ({label})", got, "windows"))
    return Outcome(tried=f"LOAD_WEIGHTS with an imprint head ({ctx.layers[0].weights.shape[0]} bins on one projection, "
                         f"placed on {BIN_WINDOWS} windows of the samples' distribution), then a batch-{ctx.count} round: "
                         f"no defense, clipping alone, and clipping with noise σ = 0.5, 1, 4",
                   stopped=not leaked, evidence="; ".join(parts), figures=tuple(figures))
