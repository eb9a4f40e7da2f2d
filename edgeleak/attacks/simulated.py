"""Attack targets made by the numpy oracle instead of a device (the device is tested equal to it): the update, or
the sum of several devices' updates, exactly as the server would decode it. For tests and benchmarks of the
attacks without a board."""

from __future__ import annotations

import numpy as np

from edgeleak.attacks.base import AttackInput, ServerKnowledge
from edgeleak.core.head import DenseLayer
from edgeleak.train.config import Sparsify, TrainConfig
from edgeleak.train.oracle import OracleRound, train_round
from edgeleak.train.update import UpdateMeta


def reported_meta(config: TrainConfig, first: OracleRound, samples: int) -> UpdateMeta:
    """The metadata a device reports with the round of ``config`` (``samples`` over every device summed)."""
    return UpdateMeta(round=config.round, boot_id=0, samples=samples, steps=first.steps,
                      learning_rate=config.learning_rate, momentum=config.momentum, batch_size=config.batch_size,
                      clip_mode=config.clip_mode, noise_kind=config.noise_kind, clip_norm=config.clip_norm,
                      noise_multiplier=config.noise_multiplier, noise_mode=config.noise_mode, sparsify=config.sparsify,
                      encoding=config.encoding, seeded=False, sparsify_fraction=config.sparsify_fraction,
                      pre_clip_norm=first.pre_clip_norm, loss=first.loss, ticks=0)


def oracle_target(knowledge: ServerKnowledge, head: tuple[DenseLayer, ...], features: np.ndarray, labels: np.ndarray,
                  config: TrainConfig, *, devices: int = 1, seed: int | None = None) -> AttackInput:
    """The update of ``features``/``labels`` (or the sum of ``devices`` updates over consecutive equal groups of
    them) from ``head``. Device ``k`` draws its noise from ``default_rng(k)``, or ``default_rng([seed, k])``."""
    per = len(features) // devices
    rounds = [train_round(list(head), features[k * per:(k + 1) * per], labels[k * per:(k + 1) * per], config,
                          rng=np.random.default_rng(k if seed is None else [seed, k])) for k in range(devices)]
    sparse = config.sparsify != Sparsify.NONE
    delta = tuple(np.sum([r.delta[t] for r in rounds], 0).astype(np.float32) for t in range(len(rounds[0].delta)))
    sent = tuple(np.any([(r.delta[t] != 0) if sparse else np.ones(len(r.delta[t]), bool) for r in rounds], 0)
                 for t in range(len(delta)))
    return AttackInput(knowledge, tuple(head), reported_meta(config, rounds[0], len(features)), delta, sent, devices)
