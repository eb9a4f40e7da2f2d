"""The analytic attack and label recovery on updates made by the oracle (the device is tested equal to it)."""

import numpy as np
import pytest

from edgeleak.attacks import get_attack
from edgeleak.attacks.base import AttackInput
from edgeleak.attacks.targets import server_knowledge
from edgeleak.device.model_dir import load_model_dir
from edgeleak.fl.features import cut_features
from edgeleak.quantize.artifact import read_head
from edgeleak.scoring.metrics import pearson_per_channel
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, Sparsify, TrainConfig
from edgeleak.train.oracle import train_round
from edgeleak.train.update import UpdateMeta


def _target(model, window_int8, label, config, rng=None):
    features = cut_features(model, window_int8[None])
    head = read_head(model.artifact)
    r = train_round(head, features, np.array([label]), config, rng=rng)
    meta = UpdateMeta(round=0, boot_id=1, samples=1, steps=r.steps, learning_rate=config.learning_rate, momentum=config.momentum,
                      batch_size=config.batch_size, clip_mode=config.clip_mode, noise_kind=config.noise_kind,
                      clip_norm=config.clip_norm, noise_multiplier=config.noise_multiplier, noise_mode=config.noise_mode,
                      sparsify=config.sparsify, encoding=config.encoding, seeded=False,
                      sparsify_fraction=config.sparsify_fraction, pre_clip_norm=r.pre_clip_norm, loss=r.loss, ticks=0)
    sent = tuple(d != 0 if config.sparsify != Sparsify.NONE else np.ones(len(d), bool) for d in r.delta)
    return AttackInput(server_knowledge(model), tuple(head), meta, r.delta, sent), features[0]


@pytest.mark.parametrize("encoding", [Encoding.FLOAT32, Encoding.FLOAT16, Encoding.INT8])
def test_mlp_window_and_label_are_recovered(zoo_models, basic_motions, encoding):
    model = load_model_dir(zoo_models["mlp"])
    attack = get_attack("analytic")
    for i in range(8):
        x = model.quantize(basic_motions.x_train[i])[0]
        target, _ = _target(model, x, int(basic_motions.y_train[i]), TrainConfig(learning_rate=0.05, encoding=encoding))
        assert attack.applicable(target) is None
        result = attack.run(target)
        original = (x.astype(np.float32) - model.input_zero_point) * model.input_scale  # the window the device held
        r = np.mean(pearson_per_channel(original, result.windows[0]))
        assert r >= (0.99 if encoding != Encoding.INT8 else 0.95), (encoding, i, r)
        assert result.labels.tolist() == [basic_motions.y_train[i]]


def test_imu_cnn_feature_vector_is_recovered_exactly(zoo_models, basic_motions):
    model = load_model_dir(zoo_models["imu_cnn"])
    x = model.quantize(basic_motions.x_train[3])[0]
    target, features = _target(model, x, int(basic_motions.y_train[3]), TrainConfig(learning_rate=0.05))
    result = get_attack("analytic").run(target)
    assert result.windows is None  # the backbone stands between the head and the window
    assert np.linalg.norm(result.features[0] - features) <= 1e-4 * np.linalg.norm(features)


def test_noise_destroys_the_analytic_reconstruction(zoo_models, basic_motions):
    model = load_model_dir(zoo_models["mlp"])
    attack = get_attack("analytic")
    x = model.quantize(basic_motions.x_train[5])[0]
    quality = []
    for sigma in (0.0, 0.001, 0.01, 0.1):
        config = TrainConfig(learning_rate=0.05, clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                             noise_kind=NoiseKind.GAUSSIAN if sigma else NoiseKind.NONE, noise_multiplier=sigma)
        target, _ = _target(model, x, int(basic_motions.y_train[5]), config, rng=np.random.default_rng(0))
        held = (x.astype(np.float32) - model.input_zero_point) * model.input_scale
        quality.append(np.mean(pearson_per_channel(held, attack.run(target).windows[0])))
    assert quality[0] > 0.99 and quality[-1] < 0.5
    assert all(a >= b - 0.05 for a, b in zip(quality, quality[1:]))  # more noise, less leakage


def test_multi_sample_updates_are_not_analytic_targets(zoo_models, basic_motions):
    model = load_model_dir(zoo_models["mlp"])
    target, _ = _target(model, model.quantize(basic_motions.x_train[0])[0], 0, TrainConfig(learning_rate=0.05, local_steps=3))
    assert "one sample and one step" in get_attack("analytic").applicable(target)
    assert get_attack("labels").applicable(target) is None
