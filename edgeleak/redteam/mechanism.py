"""Attacks on the mechanism of one release (threat notes 3-5): configurations whose noise does not cover what
the round can change. Each variant is one round on freshly stored samples; success is an update close to the
noise-free one (cosine) or larger than clipping and noise allow."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeleak.redteam.context import AttackContext
from edgeleak.redteam.registry import register
from edgeleak.redteam.results import Figure, Outcome
from edgeleak.redteam.score import cosine, noise_norm_bound
from edgeleak.train.config import ClipMode, NoiseKind, NoiseMode, TrainConfig

SINGLE_COSINE = 0.3  # one release this close to the clean update is a success


@dataclass(frozen=True)
class Variant:
    label: str
    config: TrainConfig  # the attacker wants the same round without noise (the oracle's)
    bounded: bool = True  # whether the update norm must respect C + noise


@dataclass(frozen=True)
class VariantResult:
    label: str
    error: str | None
    cosine: float
    norm: float
    bound: float | None

    @property
    def leaked(self) -> bool:
        if self.error is not None:
            return False
        over = self.bound is not None and not self.norm <= self.bound
        return self.cosine >= SINGLE_COSINE or over

    def text(self) -> str:
        if self.error is not None:
            return f"{self.label}: {self.error}"
        bound = "" if self.bound is None else f" {'>' if self.norm > self.bound else '<='} bound {self.bound:.3g}"
        return f"{self.label}: cosine {self.cosine:.3f}, |u| {self.norm:.3g}{bound}"


def _run(ctx: AttackContext, variant: Variant) -> VariantResult:
    ctx.fresh()
    update, error = ctx.release(variant.config)
    if update is None:
        return VariantResult(variant.label, error, math.nan, math.nan, None)
    flat = update.flat()
    c = variant.config
    bound = noise_norm_bound(c.clip_norm, c.noise_multiplier, flat.size) if variant.bounded and c.clip_mode else None
    norm = float(np.linalg.norm(flat.astype(np.float64))) if np.all(np.isfinite(flat)) else math.inf
    return VariantResult(variant.label, None, cosine(flat, ctx.clean(c)), norm, bound)


def _outcome(ctx: AttackContext, tried: str, variants: list[Variant]) -> Outcome:
    results = []
    for variant in variants:
        ctx.say(f"trying {variant.label}")
        results.append(_run(ctx, variant))
    figures = []
    for k, r in enumerate(results):
        figures += [Figure(f"v{k}_label", r.label), Figure(f"v{k}_error", r.error), Figure(f"v{k}_cosine", r.cosine),
                    Figure(f"v{k}_norm", r.norm), Figure(f"v{k}_bound", r.bound)]
    best = max((r.cosine for r in results if r.error is None and not math.isnan(r.cosine)), default=math.nan)
    figures.append(Figure("cosine_best", best))
    stopped = not any(r.leaked for r in results)
    errors = [r.error for r in results if r.error]
    return Outcome(tried, stopped, "; ".join(r.text() for r in results),
                   error=errors[0] if errors and len(errors) == len(results) else None, figures=tuple(figures))


@register(0, "no-defense", "a round without noise")
def no_defense(ctx: AttackContext) -> Outcome:
    plain = TrainConfig(learning_rate=0.1, batch_size=ctx.count)
    zero = TrainConfig(learning_rate=0.1, batch_size=ctx.count, clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                       noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.0)
    return _outcome(ctx, "CONFIGURE without clipping or noise, then with Gaussian σ=0; one round each", [
        Variant("no clip, no noise", plain, bounded=False),
        Variant("clip 1, Gaussian σ=0", zero, bounded=False),
    ])


@register(3, "per-example-once", "per-example clipping with noise once on the update")
def per_example_once(ctx: AttackContext) -> Outcome:
    variants = []
    for sigma in (0.5, 2.0):
        config = TrainConfig(learning_rate=10.0, momentum=0.9, batch_size=ctx.count, local_steps=200,
                             clip_mode=ClipMode.PER_EXAMPLE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN,
                             noise_multiplier=sigma, noise_mode=NoiseMode.UPDATE)
        variants.append(Variant(f"σ={sigma:g}", config))
    return _outcome(ctx, "per-example clipping C=1, Gaussian noise once on the update, lr 10, K=200, momentum 0.9; "
                    "one round", variants)


@register(4, "dpsgd-steps", "DP-SGD with many steps in one round")
def dpsgd_steps(ctx: AttackContext) -> Outcome:
    variants = []
    for kind in (NoiseKind.GAUSSIAN, NoiseKind.LAPLACE):
        config = TrainConfig(learning_rate=1e-4, batch_size=ctx.count, local_steps=512, clip_mode=ClipMode.PER_EXAMPLE,
                             clip_norm=1.0, noise_kind=kind, noise_multiplier=0.5, noise_mode=NoiseMode.STEP)
        variants.append(Variant(kind.name.lower(), config, bounded=False))
    return _outcome(ctx, "per-example clipping C=1, noise σ=0.5 at each of K=512 steps (lr 1e-4), Gaussian then "
                    "Laplace; one round each", variants)


@register(5, "useless-clip", "noise without a useful clip")
def useless_clip(ctx: AttackContext) -> Outcome:
    big = TrainConfig(learning_rate=10.0, momentum=0.9, batch_size=ctx.count, local_steps=200, clip_mode=ClipMode.NONE,
                      clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.5)
    tiny = TrainConfig(learning_rate=0.1, batch_size=ctx.count, clip_mode=ClipMode.NONE, clip_norm=1e-30,
                       noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.5)
    return _outcome(ctx, "Gaussian σ=0.5 without clipping: C=1 on a large update (lr 10, K=200), and C=1e-30; "
                    "one round each", [
                        Variant("no clip, C=1", big, bounded=False),
                        Variant("no clip, C=1e-30", tiny, bounded=False),
                    ])
