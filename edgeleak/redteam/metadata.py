"""The UPDATE metadata side channel (threat note 1): the server loads weights it chose, with a learning rate so
small the weights never move, and reads the loss, the pre-clip norm and the ticks of every round. With the probes
of :mod:`edgeleak.redteam.score` the loss gives the stored sample's label, then one stored int8 value per round.
The sample is chosen by the number of steps (one sample per step, the last step's loss is reported)."""

from __future__ import annotations

from edgeleak.redteam.context import AttackContext
from edgeleak.redteam.registry import register
from edgeleak.redteam.results import Figure, Outcome
from edgeleak.redteam.score import int8_of_features, label_from_loss, label_probe, value_from_loss, value_probe
from edgeleak.train.config import TrainConfig

FROZEN_LR = 1e-30
CONSTANT_AFTER = 4  # rounds of identical metadata after which the attacker gives up


def _constant(values: list) -> bool:
    return len(set(values)) <= 1


@register(1, "metadata", "UPDATE metadata side channel")
def metadata_side_channel(ctx: AttackContext) -> Outcome:
    target = ctx.count - 1
    steps = dict(learning_rate=FROZEN_LR, batch_size=1, local_steps=target + 1)
    tried = (f"LOAD_WEIGHTS probes + learning rate {FROZEN_LR:g}, {target + 1} steps of batch 1 (the last step is "
             f"stored sample {target}); read loss, pre-clip norm and ticks of every UPDATE, and STATS ticks")
    ctx.fresh()
    config, errors = None, []
    for candidate in (TrainConfig(**steps), ctx.paced(**steps)):
        error = ctx.configure(candidate)
        if error is None:
            config = candidate
            break
        errors.append(error)
    if config is None:
        return Outcome(tried, True, f"every probe configuration refused ({', '.join(errors)})", error=errors[-1])

    losses, norms, ticks = [], [], []
    clock = [ctx.client.stats().ticks]  # STATS_REPLY's ticks since boot time the rounds from outside
    refused = None
    label = None
    truth = int8_of_features(ctx.features[target], ctx.model.cut_scale, ctx.model.cut_zero_point)
    width = min(ctx.shapes[0][0], ctx.plan.probe_values)
    recovered: list[int | None] = []
    for k in range(width + 1):
        if k == 0:
            weights = label_probe(ctx.shapes)
        else:
            probed = (label + 1) % ctx.classes if label is not None else 0
            weights = value_probe(ctx.shapes, k - 1, probed, ctx.model.cut_scale, ctx.model.cut_zero_point)
        _, refused = ctx.attempt(lambda: ctx.client.load_weights(weights))
        if refused:
            break
        update, refused = ctx.train()
        if update is None:
            break
        meta = update.meta
        losses.append(meta.loss)
        norms.append(meta.pre_clip_norm)
        ticks.append(meta.ticks)
        if k == 0:
            label = label_from_loss(meta.loss, ctx.classes)
        else:
            recovered.append(value_from_loss(meta.loss, ctx.classes))
        if k + 1 >= CONSTANT_AFTER and _constant(losses) and _constant(norms) and not any(ticks):
            break
        if k % 16 == 0:
            ctx.say(f"metadata: {k + 1} of {width + 1} probe rounds")
    clock.append(ctx.client.stats().ticks)
    ctx.client.load_weights(ctx.params)

    exact = sum(1 for j, v in enumerate(recovered) if v is not None and v == truth[j])
    label_right = label is not None and label == int(ctx.labels[target])
    leaks = exact > 0 or label_right or not _constant(losses) or not _constant(norms) or any(ticks) or any(clock)
    figures = (
        Figure("rounds", len(losses)), Figure("values_probed", len(recovered)), Figure("values_recovered", exact),
        Figure("label_recovered", label_right), Figure("distinct_losses", len(set(losses))),
        Figure("distinct_pre_clip_norms", len(set(norms))), Figure("nonzero_ticks", sum(1 for t in ticks if t)),
        Figure("stats_ticks", clock[-1]),
    )
    if leaks:
        channels = [name for name, values in (("loss", losses), ("pre-clip norm", norms)) if not _constant(values)]
        if any(ticks):
            channels.append("ticks")
        if any(clock):
            channels.append("STATS ticks")
        evidence = (f"recovered {exact} of {len(recovered)} stored int8 values of sample {target}"
                    f"{' and its label' if label_right else ''} exactly in {len(losses)} rounds; "
                    f"open side channels: {', '.join(channels) or 'none'}")
        return Outcome(tried, False, evidence, error=refused, figures=figures)
    values = sorted({*losses, *norms, *ticks})
    shown = "0" if values == [0] else "constant"
    evidence = f"loss, pre-clip norm and ticks {shown} in all {len(losses)} rounds, STATS ticks 0; 0 values recovered"
    if refused:
        evidence += f"; then {refused}"
    return Outcome(tried, True, evidence, error=refused, figures=figures)
