"""The curious server's attack inside the ServerApp: each round's updates, attacked as soon as they are captured
(the same targets ``edgeleak attack`` builds from a capture), scored against the replayed ground truth."""

from __future__ import annotations

import numpy as np

from edgeleak.attacks.base import AttackInput
from edgeleak.attacks.targets import auxiliary_data, server_knowledge
from edgeleak.fl.features import cut_features
from edgeleak.fl.fedavg import layers_from_params
from edgeleak.scoring.score import score_record


def attack_round(run, attack, r: int) -> list[dict]:
    """One row per update of round ``r``: the attack's Pearson r and label accuracy, or why it did not apply."""
    if run.knowledge is None:
        run.knowledge = server_knowledge(run.model, auxiliary_data(run.model, run.plan.dataset))
    knowledge = run.knowledge
    layers = tuple(layers_from_params(run.sent, run.layout.shapes))
    rows = []
    for device, update in sorted(run.round_updates.items()):
        target = AttackInput(knowledge, layers, update.meta, tuple(t.values for t in update.tensors),
                             tuple(t.sent for t in update.tensors), 1, {"round": r, "devices": [device]})
        reason = attack.applicable(target)
        if reason:
            rows.append({"round": r, "device": device, "skipped": reason})
            continue
        inputs = run.round_inputs[device]
        windows = ((inputs.astype(np.float32) - knowledge.input_zero_point) * np.float32(knowledge.input_scale))
        result = attack.run(target)
        features = cut_features(run.model, inputs) if result.features is not None else None
        score = score_record(result, round_=r, devices=(device,), windows=windows, labels=run.round_labels[device],
                             features=features)
        rows.append({"round": r, "device": device, "samples": score.samples, "recovered": score.recovered,
                     "pearson": score.pearson, "label_accuracy": score.label_accuracy})
    return rows
