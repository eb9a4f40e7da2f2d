"""The study's task: on-device training has to matter (docs/study.md, "The task"), on the firmware core."""

import numpy as np

from edgeleak.boards import load_boards
from edgeleak.data import load_dataset
from edgeleak.device.model_dir import load_model_dir
from edgeleak.fl.session import SessionPlan, run_session
from edgeleak.quantize.pipeline import quantize_zoo_model
from edgeleak.study.config import default_study
from edgeleak.study.runner import ACCURACY_ROUNDS


def test_on_device_training_adapts_the_base_model_to_the_other_wrist(tmp_path):
    """The default study's fleet and undefended setting, on host boards: the base model trained on the server's
    recordings scores poorly on the other wrist, and 20 rounds of single-sample updates bring it far back."""
    data = load_dataset("basic_motions_other_wrist")
    quantize_zoo_model(data, "mlp", tmp_path / "mlp")
    model = load_model_dir(tmp_path / "mlp")
    study = default_study("default")
    setting = study.settings[0]
    assert setting.name == "no-defense" and (study.devices, study.participants, study.rounds) == (8, 4, 20)
    gains = []
    for seed in (0, 1):
        plan = SessionPlan(devices=study.devices, rounds=study.rounds, config=setting.config,
                           samples_per_round=setting.samples_per_round, participants=study.participants, seed=seed)
        summary = run_session(load_boards().get("host"), model, data, plan, tmp_path / f"cap{seed}")
        assert summary.initial_accuracy < 0.45  # 240 held-out windows from the other wrist
        after = np.mean([r.accuracy for r in summary.rounds[-ACCURACY_ROUNDS:]])
        gains.append(after - summary.initial_accuracy)
    assert min(gains) > 0.15, gains
