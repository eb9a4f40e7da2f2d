"""Turn a capture into attack targets: only what the server knows (model, global weights, updates, metadata)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from edgeleak.attacks.base import AttackInput, Auxiliary, ServerKnowledge
from edgeleak.capture.store import Capture
from edgeleak.core.model import DatasetSource, ModelDir
from edgeleak.data.user_files import DataFileError
from edgeleak.device.model_dir import load_model_dir
from edgeleak.errors import EdgeleakError
from edgeleak.fl.fedavg import layers_from_params


def server_knowledge(model: ModelDir, auxiliary: Auxiliary | None = None) -> ServerKnowledge:
    window = int(np.prod(model.input_shape[1:]))
    return ServerKnowledge(
        tflite=model.tflite, input_shape=tuple(model.input_shape), input_scale=model.input_scale,
        input_zero_point=model.input_zero_point, cut_tflite_index=model.cut_tflite_index,
        cut_scale=model.cut_scale, cut_zero_point=model.cut_zero_point,
        whole_network_is_head=int(np.prod(model.cut_shape)) == window and model.backbone_ops <= 1,
        num_classes=int(np.prod(model.output_shape)), auxiliary=auxiliary)


_AUX: dict[tuple[str, str], Auxiliary] = {}  # per model and data set: computed once per process


def capture_dataset(model: ModelDir, session: dict) -> DatasetSource | None:
    """The data set a capture was made on: the source its session recorded (a user's file by path and hash), else, in
    older captures, the model's own source when the names agree, else a packaged data set of that name."""
    if session.get("dataset_source"):
        return DatasetSource.from_json(session["dataset_source"])
    name = session.get("dataset")
    if not name:
        return None
    return model.dataset if name == model.dataset.name else DatasetSource(name)


def auxiliary_data(model: ModelDir, dataset: str | DatasetSource | None) -> Auxiliary | None:
    """The server's own data of the capture's task: its held-out evaluation split (the server measures the global
    model's accuracy on it, so it holds it; no device trains on it). None for a data set it cannot load; a user's file
    that is missing or changed since the model was made is refused (DataFileError)."""
    from edgeleak.data import load_dataset
    from edgeleak.fl.features import cut_features

    if not dataset:
        return None
    key = (model.sha256, dataset)
    if key not in _AUX:  # loaded and run through the model once per process, not once per attack
        try:
            data = load_dataset(dataset)
        except DataFileError:
            raise  # the model's own file, missing or changed: refused, not replaced by nothing
        except EdgeleakError:
            return None
        _AUX[key] = Auxiliary(cut_features(model, model.quantize(data.x_test)), np.asarray(data.y_test, np.int64),
                              f"{data.name}: the server's held-out evaluation split")
    return _AUX[key]


def capture_model(capture: Capture, model_path: Path | None = None) -> ModelDir:
    path = model_path or Path(capture.session.get("model_dir", ""))
    model = load_model_dir(path)
    if model.sha256 != capture.session.get("model_hash"):
        raise EdgeleakError(f"the model in {path} is not the one the capture was made with; pass --model")
    return model


def sent_layers(capture: Capture, round_: int) -> tuple:
    """The head weights the server sent for a round (its model, or crafted weights)."""
    if round_ not in capture.globals:
        raise EdgeleakError(f"the capture lacks the global weights of round {round_}")
    shapes = [tuple(s) for s in capture.session["head_shapes"]]
    return tuple(layers_from_params(list(capture.globals[round_].tensors), shapes))


def update_targets(capture: Capture, knowledge: ServerKnowledge) -> list[AttackInput]:
    """One target per captured update."""
    return [AttackInput(knowledge, sent_layers(capture, u.round), u.meta, u.tensors, u.sent, 1,
                        {"round": u.round, "devices": [u.device]}) for u in capture.updates]


def aggregate_targets(capture: Capture, knowledge: ServerKnowledge) -> list[AttackInput]:
    """One target per round: the sum of every device's update, as a server behind secure aggregation sees it (a
    capture made behind secure aggregation holds only these sums)."""
    if capture.aggregates:
        return [AttackInput(knowledge, sent_layers(capture, a.round), a.meta, a.tensors,
                            tuple(np.ones(len(t), bool) for t in a.tensors), len(a.devices),
                            {"round": a.round, "devices": list(a.devices)}) for a in capture.aggregates]
    targets = []
    by_round: dict[int, list[AttackInput]] = {}
    for t in update_targets(capture, knowledge):
        by_round.setdefault(t.target["round"], []).append(t)
    for r, group in sorted(by_round.items()):
        delta = tuple(np.sum([t.delta[k] for t in group], axis=0).astype(np.float32) for k in range(len(group[0].delta)))
        sent = tuple(np.any([t.sent[k] for t in group], axis=0) for k in range(len(group[0].sent)))
        meta = dataclasses.replace(group[0].meta, samples=sum(t.meta.samples for t in group))
        targets.append(AttackInput(knowledge, group[0].global_layers, meta, delta, sent, len(group),
                                   {"round": r, "devices": [d for t in group for d in t.target["devices"]]}))
    return targets
