"""Attacks on the budget (threat note 2 and the rules of docs/training.md): average many releases of the same
samples, replay a TRAIN to get a second noise draw, and reset the budget while the samples stay."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeleak.link.messages import MsgType
from edgeleak.redteam.context import PACED_SIGMA, AttackContext
from edgeleak.redteam.registry import register
from edgeleak.redteam.results import DeviceFacts, Figure, Outcome
from edgeleak.redteam.score import cosine, epsilon_of_rho
from edgeleak.train.config import ClipMode, NoiseKind, TrainConfig
from edgeleak.train.update import parse_update

AVERAGE_COSINE = 0.5  # an average this close to the clean update is a success
AVERAGE_LR = 0.1
SINGLE_ROUND_COSINE = 0.1  # the first pass picks σ so that one release alone is about this close


def _over_budget(ctx: AttackContext, spent: float | None) -> bool:
    limit = ctx.facts.floor_epsilon
    return bool(ctx.facts.floored and spent is not None and spent > limit * (1 + 1e-6))


@dataclass(frozen=True)
class AveragingPass:
    sigma: float
    rounds: int  # released
    first: float  # cosine of the first release
    average: float  # cosine of the average of all releases
    error: str | None  # what ended the pass early
    after: DeviceFacts  # INFO after the pass

    def text(self) -> str:
        if self.rounds == 0:
            return f"σ={self.sigma:g}: {self.error or 'refused'} at the first round"
        then = f", then {self.error}" if self.error else ""
        return (f"σ={self.sigma:g}: {self.rounds} rounds{then}, cosine {self.first:.3f} for one, "
                f"{self.average:.3f} for their average")


def _average_pass(ctx: AttackContext, config: TrainConfig) -> AveragingPass:
    clean = ctx.clean(config)
    ctx.fresh()
    error = ctx.configure(config)
    total, rounds, first = np.zeros(ctx.coordinates), 0, math.nan
    while error is None and rounds < ctx.plan.rounds:
        update, error = ctx.train()
        if update is None:
            break
        total += update.flat()
        rounds += 1
        if rounds == 1:
            first = cosine(update.flat(), clean)
        if rounds % 50 == 0:
            ctx.say(f"averaging: σ={config.noise_multiplier:g}, {rounds} of {ctx.plan.rounds} rounds, "
                    f"cosine {cosine(total, clean):.3f}")
    average = cosine(total, clean) if rounds else math.nan
    return AveragingPass(config.noise_multiplier, rounds, first, average, error, ctx.facts_now())


@register(2, "averaging", "averaging releases of the same samples")
def averaging(ctx: AttackContext) -> Outcome:
    base = dict(learning_rate=AVERAGE_LR, batch_size=ctx.count, local_steps=1)
    clip = max(float(f"{np.linalg.norm(ctx.clean(TrainConfig(**base))):.3g}"), 1e-3)
    sigmas = (round(1.0 / (SINGLE_ROUND_COSINE * math.sqrt(ctx.coordinates)), 3), PACED_SIGMA)
    tried = (f"the same {ctx.count} samples, update clipping at the clean norm C={clip:g}, Gaussian noise; up to "
             f"{ctx.plan.rounds} rounds at σ={sigmas[0]:g} (one round alone ~{SINGLE_ROUND_COSINE} cosine), then at "
             f"σ={sigmas[1]:g} if cut short; average the updates")
    passes: list[AveragingPass] = []
    for sigma in sigmas:
        passes.append(_average_pass(ctx, TrainConfig(**base, clip_mode=ClipMode.UPDATE, clip_norm=clip,
                                                     noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=sigma)))
        if passes[0].rounds >= ctx.plan.rounds:
            break  # nothing cut the first pass short: no need to pace

    best = max((p.average for p in passes if not math.isnan(p.average)), default=math.nan)
    over = any(_over_budget(ctx, p.after.epsilon_spent) for p in passes)
    main = max(passes, key=lambda p: (p.rounds, -p.sigma))
    spent = main.after
    recomputed = None
    if spent.rho_spent is not None and spent.rho_spent > 0 and spent.floor_delta and 0 < spent.floor_delta < 1:
        recomputed = epsilon_of_rho(spent.rho_spent, spent.floor_delta)
    figures = (
        Figure("clip_norm", clip), Figure("sigma", main.sigma), Figure("rounds_released", main.rounds),
        Figure("cosine_single", main.first), Figure("cosine_average", main.average), Figure("cosine_best", best),
        Figure("epsilon_spent", spent.epsilon_spent), Figure("epsilon_recomputed", recomputed),
        Figure("epsilon_max", ctx.facts.floor_epsilon),
        Figure("rounds_by_sigma", ", ".join(f"σ={p.sigma:g}: {p.rounds}" for p in passes)),
    )
    evidence = "; ".join(p.text() for p in passes)
    evidence += f"; ε spent {'unknown' if spent.epsilon_spent is None else f'{spent.epsilon_spent:.3g}'}"
    if ctx.facts.floored:
        evidence += f" of {ctx.facts.floor_epsilon:g}"
    note = ""
    if recomputed is not None and spent.epsilon_spent is not None and spent.epsilon_spent < recomputed * (1 - 1e-4):
        note = f"the device reports ε {spent.epsilon_spent:.4g} below ε({spent.rho_spent:.4g}-zCDP) = {recomputed:.4g}"
    stopped = not best > AVERAGE_COSINE and not over
    return Outcome(tried, stopped, evidence, error=main.error, figures=figures, note=note)


@register(7, "replay", "retransmitted TRAIN")
def replayed_train(ctx: AttackContext) -> Outcome:
    tried = "TRAIN, then the same TRAIN again with the same sequence number; compare the UPDATE bytes and INFO's ε spent"
    ctx.fresh()
    config = ctx.paced()
    error = ctx.configure(config)
    if error:
        return Outcome(tried, True, f"CONFIGURE refused ({error}); nothing released", error=error)
    before = ctx.facts_now().epsilon_spent
    first, error = ctx.attempt(lambda: ctx.client.request(MsgType.TRAIN, b"", MsgType.UPDATE))
    if first is None:
        return Outcome(tried, True, f"TRAIN refused ({error}); nothing released", error=error)
    seq = ctx.client.last_seq  # a host whose UPDATE got lost sends the same TRAIN again
    second, error = ctx.attempt(lambda: ctx.client.request(MsgType.TRAIN, b"", MsgType.UPDATE, seq=seq))
    after = ctx.facts_now().epsilon_spent
    fresh_round, _ = ctx.train()
    charged = parse_update(first).meta
    released = getattr(charged, "epsilon_total", None)
    same = second is not None and second == first
    new_draw = second is not None and not same
    charged_twice = released is not None and after is not None and after > released * (1 + 1e-6)
    renewed = fresh_round is not None and not np.array_equal(fresh_round.flat(), parse_update(first).flat())
    figures = (Figure("same_bytes", same), Figure("epsilon_before", before), Figure("epsilon_after_release", released),
               Figure("epsilon_after_retransmission", after), Figure("new_sequence_new_draw", renewed))
    if second is None:
        return Outcome(tried, True, f"the retransmission was refused ({error}): no second draw", error=error,
                       figures=figures, note="the protocol asks for the same UPDATE again")
    if new_draw or charged_twice:
        what = "a second independent noise draw came back" if new_draw else "the same update was charged twice"
        return Outcome(tried, False, f"{what} (ε {_eps(before)} -> {_eps(released)} -> {_eps(after)})", figures=figures)
    return Outcome(tried, True, f"the same {len(first)} UPDATE bytes came back; ε {_eps(before)} -> {_eps(released)} "
                   f"stays {_eps(after)} after the retransmission", figures=figures)


def _eps(value: float | None) -> str:
    return "?" if value is None else f"{value:.3g}"


def _samples_gone(ctx: AttackContext) -> tuple[bool, str]:
    """Whether TRAIN finds no samples (E_STATE), with a floor-valid configuration active."""
    ctx.configure(ctx.paced())
    update, error = ctx.train()
    if update is not None:
        return False, f"TRAIN still trained on {update.meta.samples} samples"
    return error == "E_STATE", f"TRAIN: {error}"


@register(8, "budget-reset", "resetting the budget while the samples stay")
def budget_reset(ctx: AttackContext) -> Outcome:
    tried = "spend budget, add a sample, CLEAR_SAMPLES, spend again, RESET; after each, read ε spent and try TRAIN"
    lines, figures, succeeded = [], [], False
    ctx.fresh()
    update, error = ctx.release(ctx.paced())
    if update is None:
        return Outcome(tried, True, f"nothing released to spend budget on ({error})", error=error)
    spent = ctx.facts_now().epsilon_spent
    ctx.client.add_sample(int(ctx.labels[0]), ctx.windows[0].tobytes())
    added = ctx.facts_now().epsilon_spent
    dropped = spent is not None and added is not None and added < spent
    lines.append(f"spent {_eps(spent)}, after SAMPLE {_eps(added)}")
    succeeded |= dropped

    for step in ("CLEAR_SAMPLES", "RESET"):
        if step == "RESET":
            ctx.fresh()
            ctx.release(ctx.paced())
            spent = ctx.facts_now().epsilon_spent
            boot = ctx.facts_now().boot_id
            facts = ctx.reset()
            rebooted = facts.boot_id != boot
        else:
            ctx.client.clear_samples()
            facts, rebooted = ctx.facts_now(), None
        gone, train_text = _samples_gone(ctx)
        reset = spent is not None and facts.epsilon_spent is not None and facts.epsilon_spent < spent
        unknown = facts.epsilon_spent is None
        figures += [Figure(f"{step.lower()}_samples_gone", gone), Figure(f"{step.lower()}_epsilon_after", facts.epsilon_spent)]
        lines.append(f"{step}: ε {_eps(spent)} -> {_eps(facts.epsilon_spent)}, {train_text}"
                     + ("" if rebooted is None else f", boot id {'changed' if rebooted else 'unchanged'}"))
        succeeded |= not gone and (reset or unknown)
    ctx.fresh()
    figures.insert(0, Figure("epsilon_dropped_on_sample", dropped))
    return Outcome(tried, not succeeded, "; ".join(lines), figures=tuple(figures))
