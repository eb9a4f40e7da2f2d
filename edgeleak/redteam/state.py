"""Attacks on the device's randomness and inputs (threat note 5, docs/training.md): seeds from the server,
hostile global weights, the entropy source of the noise key, and noise drawn in floating point."""

from __future__ import annotations

import math

import numpy as np

from edgeleak.redteam.context import AttackContext
from edgeleak.redteam.registry import register
from edgeleak.redteam.results import Figure, Outcome
from edgeleak.redteam.score import noise_norm_bound, off_grid

INJECTED_SEED = 0x5EED


@register(6, "seed", "seed injection")
def seed_injection(ctx: AttackContext) -> Outcome:
    tried = f"CONFIGURE with seed {INJECTED_SEED:#x} before each of two identical noisy rounds; compare the updates"
    config = ctx.paced(seed=INJECTED_SEED)
    ctx.fresh()
    first, error = ctx.release(config)
    if first is None:
        return Outcome(tried, True, f"refused ({error}): the server cannot choose the noise", error=error)
    second, error = ctx.release(config)
    if second is None:
        return Outcome(tried, True, f"seed taken once, then refused ({error})", error=error)
    same = bool(np.array_equal(first.flat(), second.flat()))
    figures = (Figure("seed_accepted", True), Figure("updates_identical", same), Figure("seeded_flag", first.meta.seeded))
    if same:
        return Outcome(tried, False, "seed accepted; the two noisy updates are bit-identical: the server knows the noise "
                       "and can subtract it", figures=figures)
    return Outcome(tried, True, "seed accepted but the two updates differ: the noise is not the server's", figures=figures)


@register(9, "hostile-weights", "hostile LOAD_WEIGHTS")
def hostile_weights(ctx: AttackContext) -> Outcome:
    config = ctx.paced()
    tried = (f"LOAD_WEIGHTS with a NaN weight, an infinite weight, every weight x 1e30; then a round with clipping "
             f"C={config.clip_norm:g} and noise σ={config.noise_multiplier:g}")
    bound = noise_norm_bound(config.clip_norm, config.noise_multiplier, ctx.coordinates)
    nan_first, inf_first = ctx.params.copy(), ctx.params.copy()
    nan_first[0], inf_first[0] = np.nan, np.inf
    lines, figures, leaked, errors = [], [], False, []
    for label, weights in (("NaN", nan_first), ("Inf", inf_first), ("x1e30", ctx.params * np.float32(1e30))):
        ctx.fresh()
        _, error = ctx.attempt(lambda: ctx.client.load_weights(weights))
        update = None
        if error is None:
            update, error = ctx.release(config)
        if update is None:
            lines.append(f"{label}: {error}")
            errors.append(error)
            figures.append(Figure(f"{label}_error", error))
            continue
        flat = update.flat()
        finite = bool(np.all(np.isfinite(flat)))
        norm = float(np.linalg.norm(flat.astype(np.float64))) if finite else math.inf
        bad = not finite or norm > bound
        leaked |= bad
        lines.append(f"{label}: accepted, update {'finite' if finite else 'NOT finite'}, |u| {norm:.3g} "
                     f"{'>' if norm > bound else '<='} {bound:.3g}")
        figures += [Figure(f"{label}_finite", finite), Figure(f"{label}_norm", norm)]
    ctx.fresh()
    figures.append(Figure("norm_bound", bound))
    error = errors[0] if len(errors) == 3 else None
    return Outcome(tried, not leaked, "; ".join(lines), error=error, figures=tuple(figures))


@register(10, "entropy", "weak entropy source")
def weak_entropy(ctx: AttackContext) -> Outcome:
    tried = "read INFO's entropy source of the noise key; on a weak source, ask for a noisy round"
    source = ctx.facts.entropy_source
    figures = (Figure("entropy_source", source), Figure("entropy_name", ctx.facts.entropy_name),
               Figure("testing_build", ctx.facts.testing_build))
    if source is None:
        return Outcome(tried, False, "INFO does not name the key's entropy source: it may be a weak fallback",
                       figures=figures)
    if source == 0:
        ctx.fresh()
        update, error = ctx.release(ctx.paced())
        if update is None and error == "E_ENTROPY":
            return Outcome(tried, True, "weak source; the noisy round was refused (E_ENTROPY)", error=error, figures=figures)
        what = "released noise keyed from timers" if update is not None else f"refused with {error}, not E_ENTROPY"
        return Outcome(tried, update is None, f"weak source; {what}", error=error, figures=figures)
    if source == 3:
        return Outcome(tried, True, "key from the emulator's host", figures=figures,
                       note="functional test only: under an emulator the key comes from the host, i.e. the server's "
                            "machine; no security claim")
    return Outcome(tried, True, f"key from the {ctx.facts.entropy_name}; nothing more to test over the link",
                   figures=figures)


@register(11, "float-noise", "noise off the fixed-point grid")
def float_noise(ctx: AttackContext) -> Outcome:
    config = ctx.paced()
    tried = (f"one round with Gaussian noise σ={config.noise_multiplier:g}; check that every coordinate is a multiple "
             f"of the grid step the UPDATE names (floating-point noise leaks: truncated tails, rounding; Mironov 2012)")
    ctx.fresh()
    update, error = ctx.release(config)
    if update is None:
        return Outcome(tried, True, f"nothing released ({error})", error=error)
    exponent = getattr(update.meta, "grid_exponent", None)
    scale = getattr(update.meta, "noise_units", None)
    flat = update.flat()
    if exponent is None or not scale:
        return Outcome(tried, False, "the UPDATE names no noise grid: the noise was drawn in floating point",
                       figures=(Figure("grid_exponent", exponent), Figure("noise_units", scale)))
    off = off_grid(flat, exponent)
    spread = float(np.std(np.ldexp(flat.astype(np.float64), -exponent)))
    figures = (Figure("grid_exponent", exponent), Figure("noise_units", scale),
               Figure("sensitivity_units", getattr(update.meta, "sensitivity_units", None)),
               Figure("off_grid", off), Figure("spread_units", spread))
    evidence = (f"{flat.size - off} of {flat.size} coordinates on the grid 2^{exponent}; spread {spread:.0f} grid units "
                f"for a noise scale s={scale}")
    return Outcome(tried, off == 0, evidence, figures=figures)
