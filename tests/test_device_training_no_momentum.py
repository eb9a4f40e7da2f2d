"""A build without momentum (EL_TRAIN_NO_MOMENTUM) keeps no P-float momentum or gradient buffer, only theta_0 and d:
each step adds every example's share to d from per-example factors (DP-SGD: row by row). Its updates are the
oracle's, as the momentum build's are, and it refuses a momentum it cannot apply. So the 100 x 6 mlp trains on a
board with 128 KB of RAM (netduinoplus2, the emulated STM32F405)."""

import numpy as np
import pytest

from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.link.client import DeviceError
from edgeleak.link.messages import ErrorCode
from edgeleak.privacy.grid import round_cost
from edgeleak.quantize.artifact import read_head
from edgeleak.train.config import ClipMode, NoiseKind, NoiseMode, TrainConfig
from edgeleak.train.dgauss import ChaChaWords
from edgeleak.train.oracle import flatten_layers, train_round
from test_device_training import (CONFIGS, TESTING, TOLERANCE, _global_weights, _oracle_features,
                                 _relative_errors, _round_inputs, boards)  # noqa: F401 (a fixture)

NO_MOMENTUM = TESTING + ("-DEL_TRAIN_NO_MOMENTUM=1",)
CASES = [pytest.param("host", m, id=f"{m}-host") for m in ("imu_cnn", "mlp")] + \
    [pytest.param(b, "mlp", marks=pytest.mark.qemu, id=f"mlp-{b}") for b in ("mps2-an386", "netduinoplus2")]


@pytest.mark.parametrize("board_name,model_name", CASES)
def test_updates_without_momentum_equal_the_oracle(zoo_models, basic_motions, boards, board_name, model_name):
    model = load_model_dir(zoo_models[model_name])
    inputs, labels = _round_inputs(model, basic_motions, 6, seed=len(model_name))
    features = _oracle_features(model, inputs)
    layers = _global_weights(model, seed=1)
    with open_device(boards.get(board_name), model, build_flags=NO_MOMENTUM) as session:
        client = session.client
        client.load_weights(np.concatenate(flatten_layers(layers)))
        for x, y in zip(inputs, labels):
            client.add_sample(int(y), x.tobytes())
        for name, config in CONFIGS.items():
            if config.momentum != 0.0:
                with pytest.raises(DeviceError) as err:
                    client.configure(config)
                assert err.value.code == ErrorCode.E_CONFIG, name
                continue
            client.configure(config)
            update = client.train()
            oracle = train_round(layers, features, labels, config)
            assert update.meta.steps == oracle.steps, name
            assert update.meta.pre_clip_norm == pytest.approx(oracle.pre_clip_norm, rel=1e-4), name
            limit = TOLERANCE if config.encoding == CONFIGS["b1-k1"].encoding else 1e-2
            assert max(_relative_errors(update, oracle)) <= limit, name
        full = TrainConfig(learning_rate=0.1, batch_size=len(inputs), local_steps=2, clip_mode=ClipMode.PER_EXAMPLE,
                           clip_norm=0.2)  # the largest batch the store allows the factors of, per-example clipping
        client.configure(full)
        assert max(_relative_errors(client.train(), train_round(layers, features, labels, full))) <= TOLERANCE


def test_seeded_noise_without_momentum_is_the_oracles(zoo_models, basic_motions, boards):
    """Step noise is drawn in parameter order: the same draws as the momentum build's, the oracle's."""
    model = load_model_dir(zoo_models["mlp"])
    inputs, labels = _round_inputs(model, basic_motions, 3, seed=9)
    layers = read_head(model.artifact)
    features = _oracle_features(model, inputs)
    configs = [TrainConfig(learning_rate=0.2, batch_size=2, local_steps=2, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5,
                           noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.8, noise_mode=NoiseMode.STEP, seed=78),
               TrainConfig(learning_rate=0.2, batch_size=3, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5,
                           noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.8, seed=77)]
    laplace = TrainConfig(learning_rate=0.1, batch_size=3, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5,
                          noise_kind=NoiseKind.LAPLACE, noise_multiplier=0.2, noise_mode=NoiseMode.STEP, seed=1234)
    updates = {}
    for flags in (TESTING, NO_MOMENTUM):
        with open_device(boards.get("host"), model, build_flags=flags) as session:
            client = session.client
            for x, y in zip(inputs, labels):
                client.add_sample(int(y), x.tobytes())
            for config in configs:
                client.configure(config)
                update = client.train()
                oracle = train_round(layers, features, labels, config, words=ChaChaWords(config.seed))
                device, reference = update.flat(), np.concatenate(oracle.delta)
                grid, _, _ = round_cost(config, samples=3, params=len(device))
                if config.noise_mode == NoiseMode.UPDATE:
                    assert np.mean(device == reference) > 0.999 and np.max(np.abs(device - reference)) <= grid.step
                else:
                    assert np.linalg.norm(device - reference) <= 1e-4 * np.linalg.norm(reference)
            client.configure(laplace)
            updates[flags] = client.train().flat()
    a, b = updates[TESTING], updates[NO_MOMENTUM]
    assert np.linalg.norm(a - b) <= 1e-5 * np.linalg.norm(a)  # the same Laplace draws on the same coordinates
